// A 3-server NATS cluster on loopback: a replicated JetStream stream written with expect.lastSequence keeps
// every message exactly once when the server the writer is connected to is killed mid-load.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { startNatsCluster, type NatsCluster } from '../../runtime/nats-cluster.ts';
import { withDeadline } from '../helpers/deadline.ts';

let dir = '';
let cluster: NatsCluster | undefined;
let nc: NatsConnection | undefined;

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-cluster-'));
  cluster = await startNatsCluster({ dir });
});
test.after(async () => {
  await nc?.close().catch(() => {});
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('R3 stream survives the loss of the writer\'s server with no gap and no duplicate', async () => {
  nc = await connect({ servers: [cluster!.urls[0]!, ...cluster!.urls.slice(1)], noRandomize: true, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
  // Clustered JetStream needs a meta leader first: retry until the cluster is ready.
  const jsm = await withDeadline(
    (async () => {
      for (;;) {
        try {
          const m = await nc!.jetstreamManager({ timeout: 2000 });
          await m.streams.add({ name: 'T', subjects: ['t.>'], num_replicas: 3 });
          return m;
        } catch {
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    })(),
    30_000,
    'clustered stream creation',
  );
  const js = nc.jetstream();
  const total = 200;
  let seq = 0;
  const append = async (n: number) => {
    for (;;) {
      try {
        const ack = await js.publish('t.x', new TextEncoder().encode(String(n)), { expect: { lastSequence: seq }, msgID: `m${n}`, timeout: 2000 });
        seq = ack.seq;
        return;
      } catch (e) {
        // After a failover, a retried publish that actually landed is caught by lastSequence/msgID: re-read the tip.
        const info = await jsm.streams.info('T').catch(() => null);
        if (info && info.state.last_seq > seq) {
          const last = await jsm.streams.getMessage('T', { seq: info.state.last_seq });
          if (new TextDecoder().decode(last.data) === String(n)) {
            seq = info.state.last_seq;
            return;
          }
        }
        await new Promise((r) => setTimeout(r, 100));
        void e;
      }
    }
  };
  await withDeadline(
    (async () => {
      for (let n = 1; n <= total; n++) {
        if (n === total / 2) void cluster!.stopServer(0);
        await append(n);
      }
    })(),
    60_000,
    'appending through a server failure',
  );
  const info = await jsm.streams.info('T');
  assert.is(info.state.messages, total);
  for (let s = 1; s <= total; s += 37) {
    const m = await jsm.streams.getMessage('T', { seq: s });
    assert.is(new TextDecoder().decode(m.data), String(s));
  }
  // The killed server comes back on its ports and rejoins.
  await cluster!.startServer(0);
  assert.ok(cluster!.servers[0]);
});

test.run();
