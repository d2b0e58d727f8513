// SWIM's pure parts (machines/swim.logic.ts): the round-robin probe order, suspicions and their timeout.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ProbeOrder, Suspicions, suspicionTimeout } from '../../machines/swim.logic.ts';
import { rngFromSeed } from '../../runtime/rng.ts';

test('every member is probed exactly once per round, in a new order each round', () => {
  const rng = rngFromSeed('order');
  const order = new ProbeOrder();
  const members = ['a', 'b', 'c', 'd', 'e'];
  const rounds: string[][] = [];
  for (let r = 0; r < 4; r++) rounds.push(members.map(() => order.next(members, (xs) => rng.shuffle(xs))!));
  for (const r of rounds) assert.equal([...r].sort(), members, 'each member once');
  assert.ok(new Set(rounds.map((r) => r.join())).size > 1, 'orders differ between rounds');
});

test('a member gone since the round was drawn is skipped; none left gives null', () => {
  const order = new ProbeOrder();
  const identity = (xs: readonly string[]) => [...xs];
  // The order is taken from the end: c, b, a.
  assert.is(order.next(['a', 'b', 'c'], identity), 'c');
  assert.is(order.next(['a', 'c'], identity), 'a', 'b left: skipped');
  assert.is(order.next([], identity), null);
});

test('a suspicion stands until its timeout, a second one of the same member changes nothing but who accused', () => {
  const s = new Suspicions();
  const ts = { incNum: 1, seqNum: 4 };
  assert.ok(s.suspect('x', ts, 1000, false));
  assert.not.ok(s.suspect('x', { incNum: 1, seqNum: 5 }, 1500, true));
  assert.equal(s.get('x'), { ts, since: 1000, mine: true });
  assert.equal(s.due(3999, 3000), []);
  assert.equal(s.due(4000, 3000).map(([id]) => id), ['x']);
  assert.is(s.size, 0, 'a due suspicion is removed');
  assert.ok(s.suspect('y', ts, 0, false));
  assert.ok(s.clear('y'));
  assert.equal(s.due(1e9, 1), []);
});

test('the suspicion timeout leaves the member dead about an expiry after it went silent, and never under a period', () => {
  assert.is(suspicionTimeout(1000, 5000), 3000);
  assert.is(suspicionTimeout(5000, 25_000), 15_000);
  assert.is(suspicionTimeout(1000, 1500), 1000);
});

test.run();
