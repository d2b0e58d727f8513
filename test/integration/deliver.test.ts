// The leader's deliver path on a real nats-server: a static org leader assembled as `murmur peer start`
// assembles it (lmdb ledger, JetStream feed) ends with exactly the orderer's chain after 1 000 transactions;
// a deliver actor keeps going across a nats-server restart (same port, same store) with no gap.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { ordererYaml, peerCore, writeYaml, type NetworkLayout } from '../../runtime/cli/network-writer.ts';
import { freePort, startNatsServer, type NatsServer } from '../../runtime/nats-server.ts';
import { loadPeerConfig } from '../../config/load.ts';
import { startPeerProcess, type RunningPeer } from '../../runtime/peer.ts';
import { startOrdererProcess, type RunningOrderer } from '../../runtime/orderer/process.ts';
import { loadOrdererConfig } from '../../config/orderer-schema.ts';
import { writeMaterial, type Manifest } from '../../runtime/crypto/material.ts';
import { OrdererClient } from '../../runtime/orderer/client.ts';
import { DeliverFeed } from '../../runtime/orderer/deliver.feed.ts';
import { DeliverService } from '../../runtime/orderer/deliver.service.ts';
import { LmdbLedgerStore } from '../../runtime/ledger/lmdb.ledger.ts';
import { blockHash, decodeBlock } from '../../runtime/ledger/block.ts';
import { subjects } from '../../runtime/transport/subjects.ts';
import { realClock } from '../../runtime/clock.ts';
import { cryptoRng } from '../../runtime/rng.ts';
import { toHex } from '../../runtime/util/bytes.ts';
import { createDeliver } from '../../actors/deliver.actor.ts';
import { startStreamOrderer } from '../helpers/jetstream-orderer.ts';
import { genesisOf } from '../helpers/chain.ts';
import { ed, material } from '../helpers/material.ts';
import { until, withDeadline } from '../helpers/deadline.ts';

let dir = '';
test.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-deliver-'));
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

async function streamHashes(nc: NatsConnection, channel: string, prefix = 'murmur'): Promise<string[]> {
  const jsm = await nc.jetstreamManager();
  const s = subjects(prefix);
  const last = (await jsm.streams.info(s.blockStream(channel))).state.last_seq;
  const out: string[] = [];
  for (let seq = 1; seq <= last; seq++) out.push(toHex(blockHash(decodeBlock((await jsm.streams.getMessage(s.blockStream(channel), { seq })).data)!)));
  return out;
}

test('a static leader (peer process assembly) ends with exactly the orderer\'s chain after 1 000 transactions', async () => {
  const server = await startNatsServer({ port: 0 });
  let orderer: RunningOrderer | undefined;
  let peer: RunningPeer | undefined;
  let client: OrdererClient | undefined;
  const log: string[] = [];
  let ledgerDir = '';
  try {
    const m: Manifest = writeMaterial(material(), join(dir, 'crypto'));
    // One channel, one org: the network writer's files (runtime/cli/network-writer.ts), no operations listeners.
    const net: NetworkLayout = { manifest: { ...m, channels: m.channels.slice(0, 1) }, dir, natsUrls: [server.url], prefix: 'murmur' };
    const ordererFile = writeYaml(join(dir, 'orderer.yaml'), ordererYaml(net, { opsListen: '', extra: { BatchTimeout: '50ms', BatchSize: { MaxMessageCount: 20 } } }));
    orderer = await startOrdererProcess(loadOrdererConfig({ file: ordererFile, env: {} }).config, (l) => log.push(l));
    writeYaml(join(dir, 'core.yaml'), peerCore(net, m.orgs[0]!, 0, { opsListen: '', settings: { 'peer.gossip.useLeaderElection': false, 'peer.gossip.orgLeader': true } }));
    const cfg = loadPeerConfig({ file: join(dir, 'core.yaml'), env: {} }).config;
    ledgerDir = cfg.peer.fileSystemPath;
    peer = await startPeerProcess(cfg, join(dir, 'core.yaml'), (l) => log.push(l));
    client = await OrdererClient.connect(server.url);
    const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => client!.submit('channel1', new TextEncoder().encode(`tx ${i}`), 10_000)));
    assert.ok(results.every((r) => r.ok), JSON.stringify(results.find((r) => !r.ok)));
    await until(() => orderer!.orderer.stats.txs === 1000, 15_000, 'all 1 000 transactions appended', 20);
    const chain = await streamHashes(orderer.nc, 'channel1');
    const ledger = peer.peer.ledgers.get('channel1')!;
    await until(() => ledger.height() === chain.length, 15_000, `the leader reaching height ${chain.length}`, 20);
    assert.equal(ledger.range(0, ledger.height()).map((b) => toHex(blockHash(b))), chain);
    assert.is(ledger.range(1, ledger.height()).reduce((n, b) => n + b.data.length, 0), 1000);
    const row = peer.peer.status()[0]!;
    assert.is(row.height, chain.length);
    assert.is(row.tipHash, chain.at(-1));
    assert.is(row.counters.blocksFromOrderer, chain.length - 1);
    assert.equal(row.counters.rejected, {});
  } finally {
    await client?.close();
    await peer?.stop();
    await orderer?.stop();
    await server.stop();
  }
  // The ledger is durable: reopened after the stop, it holds the same chain.
  const store = new LmdbLedgerStore(ledgerDir, ed);
  try {
    const l = await store.open(genesisOf());
    assert.ok(l.height() > 50, `${l.height()}`);
  } finally {
    await store.close();
  }
});

test('the deliver actor waits for a missing stream, then survives a nats-server restart mid-stream (same port, same store) with no gap', async () => {
  const port = await freePort();
  const storeDir = join(dir, 'js');
  let server: NatsServer | undefined = await startNatsServer({ port, storeDir });
  const opts = { servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100, waitOnFirstConnect: true };
  const ordNc = await connect(opts);
  const peerNc = await connect(opts);
  // The orderer's deliver service answers before its stream exists: the feed fails not-found until then.
  const service = new DeliverService(ordNc, { prefix: 'murmur', channels: () => ['channel1'], idleHeartbeatMs: 500 }).start();
  const store = new LmdbLedgerStore(join(dir, 'restart-ledger'), ed);
  const genesis = genesisOf();
  const ledger = await store.open(genesis);
  const deliver = createDeliver({
    channel: 'channel1',
    ledger,
    feed: new DeliverFeed(() => peerNc, { token: 'peer0', idleHeartbeatMs: 500 }),
    clock: realClock,
    rng: cryptoRng(),
    timings: { connTimeoutMs: 1000, reConnectBackoffThresholdMs: 500, reconnectTotalTimeThresholdMs: 60_000, minimalReconnectIntervalMs: 50 },
  });
  // Started before the orderer has created the stream: the feed fails (not-found) and deliver backs off.
  deliver.start('static');
  await until(() => (deliver.stats()?.errors['not-found'] ?? 0) >= 2, 5000, 'deliver retrying a missing stream', 10);
  const orderer = await startStreamOrderer(ordNc, genesis, { perBlock: 5, timeoutMs: 20 });
  let submitted = 0;
  const pump = setInterval(() => {
    for (let i = 0; i < 10; i++) if (orderer.submit('channel1', new TextEncoder().encode(`t${submitted}`)).ok) submitted++;
  }, 20);
  try {
    await until(() => ledger.height() > 20, 10_000, 'blocks flowing before the restart', 10);
    await server.stop();
    const down = ledger.height();
    await new Promise((r) => setTimeout(r, 300));
    server = await startNatsServer({ port, storeDir });
    await until(() => ledger.height() > down + 40, 20_000, 'blocks flowing again after the restart', 20);
    clearInterval(pump);
    await withDeadline(orderer.stop(10_000), 15_000, 'the orderer flushing');
    const chain = await streamHashes(ordNc, 'channel1');
    await until(() => ledger.height() === chain.length, 15_000, `the ledger reaching the stream's height ${chain.length}`, 20);
    assert.equal(ledger.range(0, ledger.height()).map((b) => toHex(blockHash(b))), chain, 'exactly the stream: no gap, no double');
    assert.equal(ledger.rejections.snapshot(), {}, 'nothing refused (a gap or double would be)');
    assert.ok(deliver.stats()!.blocksFromOrderer === chain.length - 1);
    assert.ok(deliver.actor.getSnapshot().context.connects >= 3, 'it resubscribed after the missing-stream errors');
  } finally {
    clearInterval(pump);
    deliver.dispose();
    service.stop();
    await orderer.stop().catch(() => undefined);
    await store.close();
    await ordNc.close();
    await peerNc.close();
    await server?.stop();
  }
});

test.run();
