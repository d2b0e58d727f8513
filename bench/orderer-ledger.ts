// Benchmark (not part of npm test): `npm run bench:ledger [-- --blocks N]`
//   orderer:  blocks/s the ordering service appends to its JetStream stream (1 tx of 4 KB per block, each
//             append conditional on the stream tip, awaited before the next), through Orderer.submit
//   ledger:   blocks/s an lmdb ledger verifies and durably commits (4 KB blocks), by commit batch size
//   deliver:  blocks/s a deliver actor catches up from the stream into an empty lmdb ledger
// Prints one line per figure and a JSON summary at the end.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { startNatsServer } from '../runtime/nats-server.ts';
import { generateMaterial } from '../runtime/crypto/material.ts';
import { nodeEd25519 } from '../runtime/crypto/ed25519.ts';
import { openGenesis } from '../runtime/ledger/channel-config.ts';
import { blockHash, makeBlock, type Block } from '../runtime/ledger/block.ts';
import { LmdbLedgerStore } from '../runtime/ledger/lmdb.ledger.ts';
import { Orderer } from '../runtime/orderer/orderer.ts';
import { JetStreamBlockLog } from '../runtime/orderer/jetstream.log.ts';
import { DeliverFeed } from '../runtime/orderer/deliver.feed.ts';
import { DeliverService } from '../runtime/orderer/deliver.service.ts';
import { realClock } from '../runtime/clock.ts';
import { cryptoRng } from '../runtime/rng.ts';
import { createDeliver } from '../actors/deliver.actor.ts';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const N = arg('blocks', 3000);
const TX = 4096;
const ed = nodeEd25519();
const m = generateMaterial({ orgs: ['Org1'], peers: 1, channels: ['channel1'], ed });
const genesis = openGenesis(m.channels[0]!.genesis, ed, 'channel1');
const sign = (msg: Uint8Array) => ed.sign(m.orderer.secret, msg);
const tx = (i: number) => {
  const t = new Uint8Array(TX).fill(i % 251);
  new DataView(t.buffer).setUint32(0, i);
  return t;
};
const dir = mkdtempSync(join(tmpdir(), 'murmur-bench-'));
const results: Record<string, number> = {};
const report = (key: string, n: number, ms: number) => {
  results[key] = Math.round((n * 1000) / ms);
  console.log(`${key.padEnd(34)} ${String(results[key]).padStart(7)} blocks/s  (${n} blocks in ${Math.round(ms)} ms)`);
};
const until = async (pred: () => boolean, ms: number) => {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('bench: timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
};

const server = await startNatsServer({ port: 0 });
const nc = await connect({ servers: server.url });
new DeliverService(nc, { prefix: 'murmur', channels: () => ['channel1'] }).start();
try {
  // Orderer: one 4 KB transaction per block (MaxMessageCount 1), appended one at a time under the condition.
  const orderer = await Orderer.start({
    channels: [genesis],
    log: new JetStreamBlockLog(nc),
    sign,
    clock: realClock,
    batchSize: { maxMessageCount: 1, preferredMaxBytes: 1 << 19, absoluteMaxBytes: 1 << 19 },
    batchTimeoutMs: 1000,
    maxPendingBatches: N + 1,
  });
  let t0 = performance.now();
  for (let i = 0; i < N; i++) orderer.submit('channel1', tx(i));
  await until(() => orderer.stats.blocks === N, 120_000);
  report('orderer append (JetStream)', N, performance.now() - t0);
  await orderer.stop();

  // Ledger: pre-built signed blocks, verified and committed durably, by batch size.
  const blocks: Block[] = [];
  let prev = genesis.block;
  for (let i = 1; i <= N; i++) {
    const b = makeBlock(i, blockHash(prev), [tx(i)], sign);
    blocks.push(b);
    prev = b;
  }
  for (const batch of [1, 16, 256]) {
    const store = new LmdbLedgerStore(join(dir, `ledger-${batch}`), ed);
    const l = await store.open(genesis);
    t0 = performance.now();
    for (let i = 0; i < N; i += batch) {
      const r = await l.commit(blocks.slice(i, i + batch));
      if (r.rejected) throw new Error(`bench: rejected ${JSON.stringify(r.rejected)}`);
    }
    report(`ledger commit (lmdb, batch ${batch})`, N, performance.now() - t0);
    await store.close();
  }

  // Deliver: catch up the whole stream into an empty ledger (feed → verify → batched commits).
  const store = new LmdbLedgerStore(join(dir, 'deliver'), ed);
  const l = await store.open(genesis);
  const d = createDeliver({
    channel: 'channel1',
    ledger: l,
    feed: new DeliverFeed(() => nc, { token: 'bench' }),
    clock: realClock,
    rng: cryptoRng(),
    timings: { connTimeoutMs: 3000, reConnectBackoffThresholdMs: 1000, reconnectTotalTimeThresholdMs: 60_000, minimalReconnectIntervalMs: 100 },
  });
  t0 = performance.now();
  d.start('static');
  await until(() => l.height() === N + 1, 120_000);
  report('deliver catch-up (stream → lmdb)', N, performance.now() - t0);
  d.dispose();
  await store.close();
  console.log(JSON.stringify({ blocks: N, txBytes: TX, blocksPerSecond: results }));
} finally {
  await nc.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
