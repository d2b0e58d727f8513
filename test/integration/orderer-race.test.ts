// No acknowledged transaction is lost (issue 18): two orderers append to one channel's stream at once, so their
// appends keep failing (the other wrote first) and each failed batch is rebuilt on the new tip and retried.
// Every transaction answered {"ok":true} ends in the chain exactly once, on every peer, and the peers' chains
// are the stream's.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { startNatsServer } from '../../runtime/nats-server.ts';
import { OrdererClient } from '../../runtime/orderer/client.ts';
import { DeliverFeed } from '../../runtime/orderer/deliver.feed.ts';
import { DeliverService } from '../../runtime/orderer/deliver.service.ts';
import { serveTransactions } from '../../runtime/orderer/nats-intake.ts';
import { txIdOf } from '../../runtime/orderer/orderer.ts';
import { LmdbLedgerStore } from '../../runtime/ledger/lmdb.ledger.ts';
import { blockHash } from '../../runtime/ledger/block.ts';
import { realClock } from '../../runtime/clock.ts';
import { cryptoRng } from '../../runtime/rng.ts';
import { toHex } from '../../runtime/util/bytes.ts';
import { createDeliver } from '../../actors/deliver.actor.ts';
import { startStreamOrderer } from '../helpers/jetstream-orderer.ts';
import { genesisOf } from '../helpers/chain.ts';
import { ed } from '../helpers/material.ts';
import { until } from '../helpers/deadline.ts';

const TXS = 3000;

test('two orderers racing on one stream: every acknowledged transaction is committed exactly once on every peer', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'murmur-race-'));
  const server = await startNatsServer({ port: 0 });
  const conns = await Promise.all([0, 1, 2].map(() => connect({ servers: server.url })));
  const [ncA, ncB, peerNc] = conns as [typeof conns[0], typeof conns[0], typeof conns[0]];
  const genesis = genesisOf();
  const start = (nc: typeof ncA) => startStreamOrderer(nc, genesis, { perBlock: 10, timeoutMs: 5 });
  const a = await start(ncA);
  const b = await start(ncB);
  const subs = [serveTransactions(ncA, a, 'murmur'), serveTransactions(ncB, b, 'murmur')];
  const service = new DeliverService(ncA, { prefix: 'murmur', channels: () => ['channel1'] }).start();
  const stores = ['p1', 'p2'].map((p) => new LmdbLedgerStore(join(dir, p), ed));
  const ledgers = await Promise.all(stores.map((s) => s.open(genesis)));
  const delivers = ledgers.map((ledger, i) =>
    createDeliver({
      channel: 'channel1',
      ledger,
      feed: new DeliverFeed(() => peerNc, { token: `p${i}` }),
      clock: realClock,
      rng: cryptoRng(),
      timings: { connTimeoutMs: 2000, reConnectBackoffThresholdMs: 500, reconnectTotalTimeThresholdMs: 60_000, minimalReconnectIntervalMs: 50 },
    }),
  );
  for (const d of delivers) d.start('static');
  const client = await OrdererClient.connect(server.url);
  try {
    // The queue group splits the transactions between the two orderers; each cuts its own batches and both
    // append to the same stream at once.
    const acked = new Set<string>();
    for (let i = 0; i < TXS; i += 300) {
      const rs = await Promise.all(Array.from({ length: 300 }, (_, j) => client.submit('channel1', new TextEncoder().encode(`tx ${i + j}`), 10_000)));
      for (const r of rs) if (r.ok) acked.add(r.txId);
    }
    assert.ok(acked.size > TXS * 0.9, `${acked.size} of ${TXS} acknowledged`);
    assert.ok(a.stats.accepted > 0 && b.stats.accepted > 0, 'both orderers took transactions');
    await until(() => a.stats.txs + b.stats.txs >= a.stats.accepted + b.stats.accepted, 30_000, 'every accepted transaction appended', 20);
    assert.ok((a.conflicts('channel1') ?? 0) + (b.conflicts('channel1') ?? 0) > 0, 'appends failed (the other orderer wrote first) and were retried');
    const height = Math.max(a.height('channel1')!, b.height('channel1')!);
    await until(() => ledgers.every((l) => l.height() === height), 30_000, `both peers at height ${height}`, 20);
    const [l1, l2] = ledgers as [typeof ledgers[0], typeof ledgers[0]];
    assert.equal(l1.range(0, height).map((x) => toHex(blockHash(x))), l2.range(0, height).map((x) => toHex(blockHash(x))), 'one chain');
    for (const l of ledgers) {
      const seen = new Map<string, number>();
      for (const blk of l.range(1, height)) for (const tx of blk.data) seen.set(txIdOf(tx), (seen.get(txIdOf(tx)) ?? 0) + 1);
      const missing = [...acked].filter((id) => !seen.has(id));
      const doubled = [...seen].filter(([, n]) => n > 1);
      assert.is(missing.length, 0, `acknowledged and never committed: ${missing.length}`);
      assert.is(doubled.length, 0, `committed more than once: ${doubled.length}`);
    }
  } finally {
    for (const d of delivers) d.dispose();
    service.stop();
    for (const s of subs) s.unsubscribe();
    await Promise.all([a.stop(), b.stop()]).catch(() => undefined);
    await client.close();
    for (const s of stores) await s.close();
    for (const c of conns) await c.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
