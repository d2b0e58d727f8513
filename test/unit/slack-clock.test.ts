// Timer slack for peers (runtime/slack-clock.ts): timers fire on a grid, never early, at most 1/16 late, and
// timers due in one grid slot share one underlying timer (one wake-up). Run on a SimClock, so exact.
import { test } from '../helpers/test.ts';
import * as assert from 'uvu/assert';
import { SimClock } from '../../runtime/clock.ts';
import { SlackTimers, slackDue, slackStep } from '../../runtime/slack-clock.ts';

test('the grid step is the largest whose 16-fold fits the delay; short delays get none', () => {
  assert.is(slackStep(50), 0);
  assert.is(slackStep(79), 0);
  assert.is(slackStep(80), 5);
  assert.is(slackStep(200), 10);
  assert.is(slackStep(1000), 50);
  assert.is(slackStep(2000), 100);
  assert.is(slackStep(5000), 250);
  assert.is(slackStep(60_000), 250);
  for (const ms of [80, 137, 200, 999, 1000, 1601, 4000, 5000, 25_000]) {
    for (const now of [0, 1, 49, 50, 1234.5, 98_765]) {
      const due = slackDue(now, ms);
      assert.ok(due >= now + ms, `never early: ${ms} at ${now} -> ${due}`);
      assert.ok(due - (now + ms) < slackStep(ms), `late by less than one step: ${ms} at ${now} -> ${due}`);
      assert.is(due % slackStep(ms), 0);
    }
  }
});

test('timers of one slot fire together from one underlying timer; each no earlier than asked', async () => {
  const base = new SimClock(0);
  const t = new SlackTimers(base);
  const fired: [string, number][] = [];
  base.advance(3);
  t.setTimeout(() => fired.push(['a', base.now()]), 1000); // due 1003 -> 1050
  base.advance(20);
  t.setTimeout(() => fired.push(['b', base.now()]), 1000); // due 1023 -> 1050
  t.setTimeout(() => fired.push(['c', base.now()]), 1030); // due 1053 -> 1100
  assert.is(base.pending(), 2, 'two slots, two underlying timers');
  assert.is(t.pending, 3);
  base.advance(1026);
  assert.equal(fired, [], "not before the grid point");
  base.advance(1);
  assert.equal(fired, [['a', 1050], ['b', 1050]]);
  base.advance(100);
  assert.equal(fired, [['a', 1050], ['b', 1050], ['c', 1100]]);
  assert.is(t.pending, 0);
  assert.is(base.pending(), 0);
});

test('a cleared timer never fires; clearing the last of a slot cancels its underlying timer', () => {
  const base = new SimClock(0);
  const t = new SlackTimers(base);
  const fired: string[] = [];
  const a = t.setTimeout(() => fired.push('a'), 1000);
  const b = t.setTimeout(() => fired.push('b'), 1000);
  const short = t.setTimeout(() => fired.push('short'), 10);
  t.clearTimeout(a);
  t.clearTimeout(short);
  assert.is(base.pending(), 1);
  t.clearTimeout(b);
  t.clearTimeout(b);
  assert.is(base.pending(), 0);
  base.advance(5000);
  assert.equal(fired, []);
});

test('a callback may clear a later timer of the same wake-up, and schedule new ones', () => {
  const base = new SimClock(0);
  const t = new SlackTimers(base);
  const fired: string[] = [];
  let b: unknown = null;
  t.setTimeout(() => {
    fired.push('a');
    t.clearTimeout(b);
    t.setTimeout(() => fired.push('again'), 1000);
  }, 1000);
  b = t.setTimeout(() => fired.push('b'), 1000);
  base.advance(1000);
  assert.equal(fired, ['a']);
  base.advance(1000);
  assert.equal(fired, ['a', 'again']);
});

test('timers on different grids that fall due at one grid point share its slot; short ones run apart, first', () => {
  const base = new SimClock(0);
  const t = new SlackTimers(base);
  const fired: string[] = [];
  t.setTimeout(() => fired.push('late-grid'), 1600); // step 100: due 1600
  t.setTimeout(() => fired.push('fine-grid'), 1599); // step 50: due 1600 as well -> same slot
  t.setTimeout(() => fired.push('short'), 50);
  assert.is(base.pending(), 2);
  base.advance(2000);
  assert.equal(fired, ['short', 'late-grid', 'fine-grid']);
});

test.run();
