// The batching emitter and gossipBatch routing (machines/emitter.logic.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BatchingEmitter, routeBatch } from '../../machines/emitter.logic.ts';
import { rngFromSeed } from '../../runtime/rng.ts';

test('flush-now at the burst size, arm-timer below it', () => {
  const e = new BatchingEmitter<number>({ propagateIterations: 1, maxPropagationBurstSize: 3 });
  assert.is(e.add(1), 'arm-timer');
  assert.is(e.add(2), 'arm-timer');
  assert.is(e.add(3), 'flush-now');
  assert.equal(e.flush(), [1, 2, 3]);
  assert.is(e.size, 0);
  assert.equal(e.flush(), []);
});

test('propagateIterations: each item takes part in that many flushes', () => {
  const e = new BatchingEmitter<string>({ propagateIterations: 2, maxPropagationBurstSize: 10 });
  e.add('a');
  assert.equal(e.flush(), ['a']);
  e.add('b');
  assert.equal(e.flush(), ['a', 'b']);
  assert.equal(e.flush(), ['b']);
  assert.equal(e.flush(), []);
});

test('propagateIterations 0 turns push off (pull-only operation)', () => {
  const e = new BatchingEmitter<number>({ propagateIterations: 0, maxPropagationBurstSize: 1 });
  assert.is(e.add(1), 'ignored');
  assert.equal(e.flush(), []);
});

test('bounded: past maxPending the oldest items are dropped', () => {
  const e = new BatchingEmitter<number>({ propagateIterations: 5, maxPropagationBurstSize: 100, maxPending: 4 });
  for (let i = 0; i < 10; i++) e.add(i);
  assert.is(e.size, 4);
  assert.is(e.dropped, 6);
  assert.equal(e.flush(), [6, 7, 8, 9]);
});

test('routing: one random peer set per flush, minus each message\'s excluded peers', () => {
  const rng = rngFromSeed('route');
  const peers = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'];
  const batch = [
    { id: 'local', exclude: [] as string[] },
    { id: 'fwd', exclude: ['p1', 'p2', 'p3', 'p4', 'p5'] },
  ];
  for (let i = 0; i < 50; i++) {
    const routed = routeBatch(batch, peers, 3, (xs, k) => rng.sample(xs, k), (x, p) => x === p);
    assert.is(routed[0]!.to.length, 3);
    assert.ok(routed[1]!.to.every((p) => p === 'p6'), 'never to an excluded peer');
    assert.ok(routed[1]!.to.every((p) => routed[0]!.to.includes(p)), 'the same set for the whole flush');
  }
  assert.equal(routeBatch([], peers, 3, (xs, k) => rng.sample(xs, k), (x, p) => x === p), []);
  assert.equal(routeBatch(batch, [], 3, (xs, k) => rng.sample(xs, k), (x, p) => x === p).map((r) => r.to), [[], []]);
});

test.run();
