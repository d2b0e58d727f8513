// The message store and Fabric's block replacing policy (machines/message-store.logic.ts).
import { test } from '../helpers/test.ts';
import * as assert from 'uvu/assert';
import { MessageStore, blockPolicy, blockStore, type Relation, type StoredBlock } from '../../machines/message-store.logic.ts';

const blk = (seq: number): StoredBlock => ({ seq, envelope: new Uint8Array([seq & 0xff]) });
const seqs = (s: MessageStore<StoredBlock>) => s.items().map((b) => b.seq).sort((a, b) => a - b);

test('block policy table (maxBlockCountToStore = 10)', () => {
  const p = blockPolicy<StoredBlock>(10);
  const rows: [number, number, Relation][] = [
    [5, 5, 'invalidated'],
    [5, 6, 'unrelated'],
    [15, 5, 'unrelated'],
    [5, 15, 'unrelated'],
    [16, 5, 'invalidates'],
    [5, 16, 'invalidated'],
    [1000, 1, 'invalidates'],
  ];
  for (const [n, old, want] of rows) assert.is(p(blk(n), blk(old)), want, `${n} vs ${old}`);
});

test('fabric channel/BlockStoreKeepsNewest', () => {
  const evicted: number[] = [];
  const s = blockStore({ maxBlockCountToStore: 10, pullInterval: 4000, onEvict: (b) => evicted.push(b.seq) });
  for (let i = 1; i <= 30; i++) assert.ok(s.add(blk(i), 0), `block ${i}`);
  assert.equal(seqs(s), [20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30], 'the newest N+1 blocks');
  assert.equal(evicted, Array.from({ length: 19 }, (_, i) => i + 1), 'older blocks were evicted, oldest first');
  assert.not.ok(s.checkValid(blk(5)), 'a block older than the window is refused');
  assert.not.ok(s.checkValid(blk(25)), 'a held block is refused');
  assert.ok(s.checkValid(blk(31)));
  assert.not.ok(s.add(blk(19), 0));
  assert.is(s.size, 11);
});

test('expiry: hidden after ttl (still refusing duplicates), removed after 2 x ttl, callbacks once', () => {
  const expired: number[] = [];
  const s = new MessageStore<StoredBlock>({ policy: blockPolicy(10), ttl: 100, onExpire: (b) => expired.push(b.seq) });
  s.add(blk(1), 0);
  s.add(blk(2), 50);
  s.expire(100);
  assert.equal(seqs(s), [1, 2]);
  s.expire(101);
  assert.equal(seqs(s), [2], 'block 1 expired');
  assert.not.ok(s.checkValid(blk(1)), 'an expired item still refuses its duplicate');
  s.expire(160);
  assert.equal(expired, [1, 2]);
  s.expire(170);
  assert.equal(expired, [1, 2], 'each expiry fires once');
  s.expire(201);
  assert.ok(s.checkValid(blk(1)), 'removed for good after 2 x ttl');
  s.expire(251);
  assert.is(s.size, 0);
});

test('the store is generic: an alive-style newest-per-PKI-ID policy', () => {
  type Alive = { pki: string; seq: number };
  const s = new MessageStore<Alive>({
    ttl: Infinity,
    policy: (n, o) => (n.pki !== o.pki ? 'unrelated' : n.seq > o.seq ? 'invalidates' : 'invalidated'),
  });
  assert.ok(s.add({ pki: 'a', seq: 1 }, 0));
  assert.ok(s.add({ pki: 'b', seq: 1 }, 0));
  assert.ok(s.add({ pki: 'a', seq: 3 }, 0));
  assert.not.ok(s.add({ pki: 'a', seq: 2 }, 0));
  assert.equal(s.items(), [{ pki: 'b', seq: 1 }, { pki: 'a', seq: 3 }]);
});

test('hard bound: maxItems evicts the oldest', () => {
  const s = new MessageStore<StoredBlock>({ policy: () => 'unrelated', ttl: Infinity, maxItems: 3 });
  for (let i = 0; i < 10; i++) s.add(blk(i), i);
  assert.equal(seqs(s), [7, 8, 9]);
});

test.run();
