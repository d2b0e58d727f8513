// Block cutting (Fabric's blockcutter rules) by count, bytes and BatchTimeout on a simulated clock; the
// batch-size clamp under max_payload; the orderer's config names and formats.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimClock } from '../../runtime/clock.ts';
import { BlockCutter, clampBatchSize, BLOCK_OVERHEAD_BYTES, type BatchSize } from '../../runtime/orderer/cutter.ts';
import { Batcher } from '../../runtime/orderer/batcher.ts';
import { loadOrdererConfig, parseByteSize } from '../../config/orderer-schema.ts';

const tx = (n: number, fill = 1) => new Uint8Array(n).fill(fill);
const size: BatchSize = { maxMessageCount: 3, preferredMaxBytes: 100, absoluteMaxBytes: 1000 };

test('cutter table: count, preferred bytes, oversized transaction', () => {
  // [tx sizes in, batches cut after each (as sizes), pending after]
  const table: { name: string; txs: number[]; cuts: number[][][]; pending: boolean[] }[] = [
    { name: 'count: the 3rd tx cuts', txs: [10, 10, 10, 10], cuts: [[], [], [[10, 10, 10]], []], pending: [true, true, false, true] },
    { name: 'bytes: a tx that would overflow cuts the pending batch first', txs: [60, 30, 20], cuts: [[], [], [[60, 30]]], pending: [true, true, true] },
    { name: 'bytes: exactly preferred fits', txs: [60, 40], cuts: [[], []], pending: [true, true] },
    { name: 'oversized: pending batch cut, then the tx alone', txs: [10, 150, 10], cuts: [[], [[10], [150]], []], pending: [true, false, true] },
    { name: 'oversized with nothing pending: alone', txs: [150], cuts: [[[150]]], pending: [false] },
    { name: 'overflow and count together', txs: [50, 50, 50, 1, 1], cuts: [[], [], [[50, 50]], [], [[50, 1, 1]]], pending: [true, true, true, true, false] },
  ];
  for (const row of table) {
    const c = new BlockCutter(size);
    row.txs.forEach((n, i) => {
      const r = c.ordered(tx(n));
      assert.equal(r.batches.map((b) => b.map((t) => t.byteLength)), row.cuts[i], `${row.name}: cuts after tx ${i}`);
      assert.is(r.pending, row.pending[i], `${row.name}: pending after tx ${i}`);
    });
  }
});

test('batcher: BatchTimeout cuts a pending batch, measured from its first transaction (simulated clock)', () => {
  const clock = new SimClock(0);
  const cut: { at: number; n: number }[] = [];
  const b = new Batcher(size, 2000, clock, (txs) => cut.push({ at: clock.now(), n: txs.length }));
  b.add(tx(1));
  clock.advance(1500);
  b.add(tx(1));
  assert.equal(cut, []);
  clock.advance(499);
  assert.equal(cut, [], 'not before 2 s');
  clock.advance(1);
  assert.equal(cut, [{ at: 2000, n: 2 }]);
  clock.advance(10_000);
  assert.equal(cut, [{ at: 2000, n: 2 }], 'no empty blocks');
  assert.is(clock.pending(), 0, 'no timer while nothing is pending');
  // A cut by count stops the timer; a new pending batch starts a new one.
  b.add(tx(1));
  b.add(tx(1));
  clock.advance(1000);
  b.add(tx(1)); // 3rd: cut by count at t=13000
  assert.equal(cut.at(-1), { at: 13_000, n: 3 });
  assert.is(clock.pending(), 0);
  b.add(tx(60));
  clock.advance(1999);
  b.add(tx(60)); // overflow: cuts [60]; the new batch's timer starts now
  assert.equal(cut.at(-1), { at: 14_999, n: 1 });
  clock.advance(1999);
  assert.is(cut.length, 3);
  clock.advance(1);
  assert.equal(cut.at(-1), { at: 16_999, n: 1 });
  b.add(tx(5));
  b.flush();
  assert.equal(cut.at(-1), { at: 16_999, n: 1 });
  assert.is(cut.length, 5);
  b.stop();
  assert.is(clock.pending(), 0);
});

test('clampBatchSize: fits blocks under max_payload, refuses the impossible', () => {
  const mb = 1 << 20;
  const want = { maxMessageCount: 500, absoluteMaxBytes: 10 * mb, preferredMaxBytes: 2 * mb };
  const { size: s, warnings } = clampBatchSize(want, mb);
  assert.ok(s.absoluteMaxBytes < mb - BLOCK_OVERHEAD_BYTES, `${s.absoluteMaxBytes}`);
  assert.ok(s.preferredMaxBytes + 5 * 500 <= mb - BLOCK_OVERHEAD_BYTES);
  assert.is(warnings.length, 2);
  assert.match(warnings[0]!, /AbsoluteMaxBytes 10485760 clamped/);
  const fits = clampBatchSize({ maxMessageCount: 10, absoluteMaxBytes: 1000, preferredMaxBytes: 500 }, mb);
  assert.equal(fits, { size: { maxMessageCount: 10, absoluteMaxBytes: 1000, preferredMaxBytes: 500 }, warnings: [] });
  assert.throws(() => clampBatchSize(want, 1500), /max_payload \(1500 bytes\) leaves no room/);
  assert.throws(() => clampBatchSize({ ...want, maxMessageCount: 1_000_000 }, mb), /MaxMessageCount 1000000 cannot fit/);
});

test('orderer config: Fabric names, defaults, sizes, env ORDERER_*, relative paths, typos refused', () => {
  assert.equal(parseByteSize('10 MB'), { ok: true, value: 10 * 1024 * 1024 });
  assert.equal(parseByteSize('512kb'), { ok: true, value: 512 * 1024 });
  assert.equal(parseByteSize(4096), { ok: true, value: 4096 });
  assert.is(parseByteSize('ten').ok, false);
  const d = loadOrdererConfig({ env: {} }).config;
  assert.is(d.BatchTimeout, 2000);
  assert.equal(d.BatchSize, { MaxMessageCount: 500, AbsoluteMaxBytes: 10 * 1024 * 1024, PreferredMaxBytes: 2 * 1024 * 1024 });
  assert.is(d.Operations.ListenAddress, '127.0.0.1:8443', "Fabric's default");
  assert.is(loadOrdererConfig({ env: { ORDERER_OPERATIONS_LISTENADDRESS: '' } }).config.Operations.ListenAddress, '');
  assert.throws(() => loadOrdererConfig({ env: { ORDERER_OPERATIONS_LISTENADDRESS: 'localhost' } }), /Operations.ListenAddress: "localhost"/);
  const dir = mkdtempSync(join(tmpdir(), 'murmur-ordcfg-'));
  try {
    const f = join(dir, 'orderer.yaml');
    writeFileSync(f, 'batchtimeout: 500ms\nBatchSize:\n  MaxMessageCount: 10\n  PreferredMaxBytes: 64 KB\nGeneral:\n  LocalMSPDir: msp\n  Channels: [{name: ch1, genesisBlock: g/ch1.block}]\n  ListenAddress: 0.0.0.0\nOperations:\n  ListenAddress: 127.0.0.1:0\n  TLS: {Enabled: false}\nKafka: {}\n');
    const { config: c, warnings } = loadOrdererConfig({ file: f, env: { ORDERER_BATCHSIZE_MAXMESSAGECOUNT: '20', ORDERER_NATS_SERVERS: 'nats://a:1,nats://b:2' } });
    assert.is(c.BatchTimeout, 500);
    assert.is(c.BatchSize.MaxMessageCount, 20, 'environment wins');
    assert.is(c.BatchSize.PreferredMaxBytes, 65536);
    assert.equal(c.NATS.Servers, ['nats://a:1', 'nats://b:2']);
    assert.is(c.General.LocalMSPDir, join(dir, 'msp'));
    assert.equal(c.General.Channels, [{ name: 'ch1', genesisBlock: join(dir, 'g/ch1.block') }]);
    assert.is(c.Operations.ListenAddress, '127.0.0.1:0');
    assert.equal(warnings, ["ignoring 3 key(s) murmur's orderer does not use: General.ListenAddress, Operations.TLS, Kafka"]);
    writeFileSync(f, 'BatchSize:\n  MaxMessagCount: 10\n');
    assert.throws(() => loadOrdererConfig({ file: f, env: {} }), /unknown key BatchSize.MaxMessagCount/);
    assert.throws(() => loadOrdererConfig({ env: { ORDERER_BATCHTIMEOUT: 'soon' } }), /BatchTimeout: "soon" \(from environment ORDERER_BATCHTIMEOUT\)/);
    assert.throws(() => loadOrdererConfig({ env: { ORDERER_BATCHSIZE_PREFERREDMAXBYTES: '20 MB' } }), /PreferredMaxBytes .* must not exceed/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
