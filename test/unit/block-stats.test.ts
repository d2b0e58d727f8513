// Status `blocks` and `machines` (extensions of the contract): the windowed latency and copies of
// actors/block-stats.ts, its transport tap, and state values as strings.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Subject } from 'rxjs';
import { BlockStats, bindBlockStats, percentile } from '../../actors/block-stats.ts';
import { stateValueString } from '../../actors/status-row.ts';
import { ZERO_HASH, type Block } from '../../runtime/ledger/block.ts';
import type { Ledger, LedgerCommit } from '../../runtime/ledger/ledger.ts';
import type { BlockCopy } from '../../actors/block-intake.ts';
import { SimClock } from '../../runtime/clock.ts';

const blk = (number: number, timestamp?: number): Block => ({
  number,
  previousHash: ZERO_HASH,
  dataHash: ZERO_HASH,
  data: [],
  signature: new Uint8Array(64),
  ...(timestamp === undefined ? {} : { timestamp }),
});

test('percentile: nearest rank, null when empty', () => {
  assert.is(percentile([], 0.5), null);
  assert.is(percentile([7], 0.99), 7);
  const xs = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.is(percentile(xs, 0.5), 50);
  assert.is(percentile(xs, 0.99), 99);
  assert.is(percentile([1, 2, 3], 0.5), 2);
});

test('latency: commit time − orderer timestamp; v1 blocks (no timestamp) are not counted; null before any', () => {
  const s = new BlockStats(1, { window: 4 });
  assert.equal(s.figures(), { window: 0, latencyP50Ms: null, latencyP99Ms: null, copiesPerBlock: null, copiesBySource: null });
  s.committed([blk(1)], 1000);
  assert.is(s.figures().window, 1);
  assert.is(s.figures().latencyP50Ms, null, 'a v1 block carries no timestamp');
  s.committed([blk(2, 1000), blk(3, 1000)], 1010);
  s.committed([blk(4, 1100)], 1400);
  s.committed([blk(5, 1500)], 1520);
  const f = s.figures();
  assert.is(f.window, 4, 'bounded by the window: block 1 left');
  assert.is(f.latencyP50Ms, 10);
  assert.is(f.latencyP99Ms, 300);
});

test('copies: every route counted per block, before and after its commit, bounded by window and ahead', () => {
  const s = new BlockStats(1, { window: 2, ahead: 3 });
  s.copy(1, 'push');
  s.copy(1, 'pull');
  s.copy(3, 'push');
  s.copy(4, 'push'); // ≥ height + ahead: ignored
  s.copy(0, 'state'); // below the height, not in the window: ignored
  s.committed([blk(1, 0)], 5);
  s.copy(1, 'push'); // a late duplicate still counts for block 1
  s.committed([blk(2, 0)], 5);
  s.copy(2, 'orderer');
  assert.equal(s.figures().copiesPerBlock, 2, '(3 + 1) / 2');
  assert.equal(s.figures().copiesBySource, { orderer: 0.5, push: 1, pull: 0.5, stateTransfer: 0 });
  s.committed([blk(3, 0)], 5);
  assert.is(s.figures().window, 2);
  assert.is(s.figures().copiesPerBlock, 1, 'blocks 2 and 3: one copy each (block 3 pushed before its commit)');
});

test('bindBlockStats: ledger commits, orderer deliveries and the copies the intake reports', () => {
  const commits = new Subject<LedgerCommit>();
  const copies = new Subject<BlockCopy>();
  const fromOrderer = new Subject<{ block: Block }>();
  const clock = new SimClock(10_000);
  const s = new BlockStats(1);
  const sub = bindBlockStats(s, { ledger: { commits$: commits } as unknown as Ledger, clock, fromOrderer$: fromOrderer, copies$: copies });
  copies.next({ seq: 1, source: 'push' });
  copies.next({ seq: 1, source: 'pull' });
  copies.next({ seq: 1, source: 'state' });
  commits.next({ channel: 'ch', height: 2, tipHash: '', blocks: [blk(1, 9_950)] });
  fromOrderer.next({ block: blk(1, 9_950) });
  const f = s.figures();
  assert.is(f.latencyP50Ms, 50);
  assert.equal(f.copiesBySource, { orderer: 1, push: 1, pull: 1, stateTransfer: 1 });
  sub.unsubscribe();
  copies.next({ seq: 1, source: 'push' });
  assert.is(s.figures().copiesPerBlock, 4, 'nothing counted after unsubscribing');
});

test('stateValueString: nested states as a dotted path, parallel regions comma-separated', () => {
  assert.is(stateValueString('idle'), 'idle');
  assert.is(stateValueString({ dynamic: { leading: 'declaring' } }), 'dynamic.leading.declaring');
  assert.is(stateValueString({ a: 'x', b: { c: 'y' } }), 'a.x, b.c.y');
  assert.is(stateValueString(undefined), null);
});

test.run();
