// The payload (reorder) buffer and the channel's commit queue in front of a real in-memory ledger.
import { test } from '../helpers/test.ts';
import * as assert from 'uvu/assert';
import { firstValueFrom, filter } from 'rxjs';
import { PayloadBuffer } from '../../machines/payload-buffer.logic.ts';
import { CommitQueue } from '../../actors/commit-queue.ts';
import type { VerifiedBlock } from '../../runtime/ledger/verified-block.ts';
import type { Ledger } from '../../runtime/ledger/ledger.ts';
import { MemoryLedgerStore } from '../../runtime/ledger/memory.ledger.ts';
import { encodeBlock, makeBlock, type Block } from '../../runtime/ledger/block.ts';
import { RejectionCounter } from '../../runtime/wire/rejections.ts';
import { rngFromSeed } from '../../runtime/rng.ts';
import { ed, material } from '../helpers/material.ts';
import { buildChain } from '../helpers/chain.ts';
import { withDeadline } from '../helpers/deadline.ts';

test('buffer admission table: duplicates, the non-blocking window, blocking mode, the hard fence', () => {
  const b = new PayloadBuffer<string>(5, 20, 10);
  assert.is(b.push(4, 'x', 'non-blocking'), 'duplicate', 'below the height');
  assert.is(b.push(5, 'x', 'non-blocking'), 'accepted');
  assert.is(b.push(5, 'y', 'non-blocking'), 'duplicate', 'held');
  assert.is(b.push(24, 'x', 'non-blocking'), 'accepted', 'height + 19');
  assert.is(b.push(25, 'x', 'non-blocking'), 'too-far-ahead', 'height + 20');
  assert.is(b.push(100, 'x', 'blocking'), 'accepted', 'blocking mode has no window');
  assert.equal(b.ready().map((r) => r.seq), [5]);
  b.committed(6);
  assert.is(b.next, 6);
  assert.is(b.size, 2);
  for (let s = 200; b.size < b.maxSize; s++) b.push(s, 'x', 'blocking');
  assert.is(b.push(10, 'x', 'blocking'), 'full');
  assert.not.ok(b.hasRoomForBlocking());
  assert.is(b.discard(100), 'x');
  assert.not.ok(b.has(100));
});

test("ordered pushes (the orderer's feed) have no window and room beyond the gossip fence", () => {
  const b = new PayloadBuffer<string>(1, 5, 2, 10);
  assert.is(b.push(100, 'x', 'ordered'), 'accepted', 'no window');
  for (let s = 200; b.size < b.maxSize; s++) b.push(s, 'x', 'blocking');
  assert.is(b.push(7, 'x', 'blocking'), 'full');
  assert.is(b.push(7, 'x', 'ordered'), 'accepted', 'past the gossip fence');
  for (let s = 300; b.size < b.maxSize + 10; s++) assert.is(b.push(s, 'x', 'ordered'), 'accepted');
  assert.is(b.push(8, 'x', 'ordered'), 'full', 'bounded too');
});

test('ready() returns the consecutive run from the height; committed() drops what is below', () => {
  const b = new PayloadBuffer<number>(1, 20);
  for (const s of [3, 1, 2, 5]) b.push(s, s, 'non-blocking');
  assert.equal(b.ready().map((r) => r.seq), [1, 2, 3]);
  assert.equal(b.ready(2).map((r) => r.seq), [1, 2]);
  b.committed(4);
  assert.equal(b.ready().map((r) => r.seq), []);
  assert.is(b.size, 1);
  b.committed(2);
  assert.is(b.next, 4, 'never backwards');
});

function verified(ledger: Ledger, b: Block): VerifiedBlock {
  const v = ledger.verify(b);
  if (!v.ok) throw new Error(`block ${b.number}: ${v.reason}`);
  return v.block;
}

async function setup(n: number) {
  const { genesis, blocks } = buildChain(n);
  const ledger = await new MemoryLedgerStore(ed).open(genesis);
  const rejections = new RejectionCounter();
  const refused: number[] = [];
  const c = new CommitQueue(ledger, rejections, { blockBufferSize: 20, batchSize: 10, maxBatch: 64 });
  c.refused$.subscribe((r) => refused.push(r.number));
  c.start();
  return { ledger, blocks: blocks.map((b) => verified(ledger, b)), c, rejections, refused, genesis };
}

test('fabric state/TestOverPopulation', async () => {
  const { ledger, blocks, c } = await setup(200);
  for (let i = 1; i <= 4; i++) assert.is(c.offer(blocks[i - 1]!, 'push', 'non-blocking'), 'accepted');
  await withDeadline(c.idle(), 1000, 'commits');
  assert.is(ledger.height(), 5, 'blocks 1-4 committed');
  let maxSize = 0;
  const verdicts = new Map<number, string>();
  for (let i = 10; i <= 200; i++) {
    verdicts.set(i, c.offer(blocks[i - 1]!, 'push', 'non-blocking'));
    maxSize = Math.max(maxSize, c.size);
  }
  // murmur keeps Fabric's window: admitted while seq − height < blockBufferSize (height 5 → 10..24).
  for (let i = 10; i <= 24; i++) assert.is(verdicts.get(i), 'accepted', `block ${i}`);
  for (let i = 25; i <= 200; i++) assert.is(verdicts.get(i), 'too-far-ahead', `block ${i}`);
  assert.ok(maxSize < 20, `buffer reached ${maxSize}`);
  await withDeadline(c.idle(), 1000, 'commits');
  assert.is(ledger.height(), 5, 'nothing past the gap is committed');
  c.stop();
});

test('fabric state/TestBlockingEnqueue', async () => {
  const { ledger, blocks, c } = await setup(500);
  const rng = rngFromSeed('blocking');
  const heights: number[] = [];
  ledger.commits$.subscribe((e) => heights.push(...e.blocks.map((b) => b.number)));
  let maxSize = 0;
  // The blocking producer (Fabric: the orderer path) waits whenever the buffer is over its high-water mark;
  // a gossip producer throws random blocks in non-blocking mode meanwhile.
  for (let i = 1; i <= 500; i++) {
    if (c.full$.value) await withDeadline(firstValueFrom(c.full$.pipe(filter((f) => !f))), 1000, 'room in the buffer');
    c.offer(blocks[i - 1]!, 'state', 'blocking');
    if (i % 2 === 0) {
      const s = 1 + rng.int(500);
      c.offer(blocks[s - 1]!, 'push', 'non-blocking');
    }
    maxSize = Math.max(maxSize, c.size);
  }
  await withDeadline(c.idle(), 5000, 'commits');
  assert.is(ledger.height(), 501);
  assert.equal(heights, Array.from({ length: 500 }, (_, i) => i + 1), 'strictly sequential commits');
  assert.ok(maxSize <= 2 * 20 + 10, `buffer reached ${maxSize}`);
  assert.is(c.committedBy.state + c.committedBy.push, 500);
  c.stop();
});

test('a block the ledger refuses leaves the buffer so a genuine copy can take its place', async () => {
  const { ledger, blocks, c, rejections, refused } = await setup(3);
  // Block 1 of another chain: orderer-signed, right number, wrong predecessor (a replay from another channel).
  const alien = makeBlock(1, new Uint8Array(32).fill(7), [new Uint8Array([1])], (m) => ed.sign(material().orderer.secret, m));
  assert.is(c.offer(verified(ledger, alien), 'push', 'non-blocking'), 'accepted');
  await withDeadline(c.idle(), 1000, 'commit');
  assert.is(ledger.height(), 1);
  assert.equal(refused, [1]);
  assert.is(rejections.get('ledger-refused-bad-previous-hash'), 1);
  assert.not.ok(c.holds(1));
  for (let i = 1; i <= 3; i++) c.offer(blocks[i - 1]!, 'pull', 'non-blocking');
  await withDeadline(c.idle(), 1000, 'commit');
  assert.is(ledger.height(), 4);
  assert.is(c.committedBy.pull, 3);
  assert.ok(encodeBlock(alien).byteLength > 0);
  c.stop();
});

test("one queue for every source: the orderer's blocks and gossip's share it; a refusal names its source", async () => {
  const { ledger, blocks, c, rejections } = await setup(4);
  const seen: string[] = [];
  c.committed$.subscribe((run) => seen.push(run.map((q) => `${q.block.number}:${q.source}`).join(',')));
  const refused: string[] = [];
  c.refused$.subscribe((r) => refused.push(`${r.number}:${r.source}:${r.reason}`));
  assert.is(c.offer(blocks[1]!, 'push', 'non-blocking'), 'accepted');
  assert.is(c.offer(blocks[0]!, 'orderer', 'ordered', encodeBlock(blocks[0]!)), 'accepted');
  assert.is(c.offer(blocks[1]!, 'orderer', 'ordered'), 'duplicate', 'held from gossip: dropped');
  await withDeadline(c.idle(), 1000, 'commits');
  assert.is(ledger.height(), 3);
  assert.equal(seen.join(' '), '1:orderer,2:push');
  assert.equal(c.committedBy, { orderer: 1, push: 1, pull: 0, state: 0 });
  const alien = verified(ledger, makeBlock(3, new Uint8Array(32).fill(7), [new Uint8Array([1])], (m) => ed.sign(material().orderer.secret, m)));
  c.offer(alien, 'orderer', 'ordered');
  await withDeadline(c.idle(), 1000, 'commit');
  assert.equal(refused, ['3:orderer:bad-previous-hash']);
  assert.is(rejections.get('ledger-refused-bad-previous-hash'), 0, "the orderer's refusals are the deliver actor's to count");
  c.stop();
});

test('commits made elsewhere (the deliver actor) move the window and clear what they cover', async () => {
  const { ledger, blocks, c } = await setup(30);
  c.offer(blocks[1]!, 'push', 'non-blocking');
  await ledger.commit(blocks.slice(0, 5));
  assert.not.ok(c.holds(2));
  assert.is(c.offer(blocks[2]!, 'push', 'non-blocking'), 'duplicate');
  assert.is(c.offer(blocks[23]!, 'push', 'non-blocking'), 'accepted', 'the window starts at the new height');
  c.stop();
});

test.run();
