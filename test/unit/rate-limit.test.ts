// Per-requester token buckets (machines/rate-limit.logic.ts) in explicit time: a burst of twice the rate, then
// the rate; requesters independent; the number of buckets bounded, refilled ones dropped first.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RequesterLimits } from '../../machines/rate-limit.logic.ts';

const takes = (l: RequesterLimits, who: string, n: number, now: number) => Array.from({ length: n }, () => l.take(who, now)).filter(Boolean).length;

test('a burst of twice the rate, then the rate; each requester has its own bucket', () => {
  const l = new RequesterLimits(20);
  assert.is(takes(l, 'a', 100, 0), 40, 'the burst');
  assert.is(takes(l, 'a', 100, 500), 10, 'half a second refills ten');
  assert.is(takes(l, 'b', 100, 500), 40, 'another requester is not affected');
  assert.is(takes(l, 'a', 100, 10_500), 40, 'never more than the burst, however long the pause');
  let served = 0;
  for (let t = 20_000; t < 30_000; t += 10) served += takes(l, 'a', 5, t);
  assert.ok(served >= 200 + 40 - 1 && served <= 200 + 40, `ten seconds of flooding: ${served} served`);
});

test('buckets are bounded: full ones are dropped for newcomers, otherwise a newcomer is refused', () => {
  const l = new RequesterLimits(1, 3);
  for (const who of ['a', 'b', 'c']) assert.ok(l.take(who, 0));
  assert.not.ok(l.take('d', 0), 'no room: every bucket is still in use');
  assert.is(l.size, 3);
  assert.ok(l.take('d', 5_000), 'the refilled buckets made room');
  assert.ok(l.size <= 3);
});

test.run();
