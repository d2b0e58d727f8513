import { bufferTime, delay, interval, of, take, timer, debounceTime, Subject } from 'rxjs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createActor, setup } from 'xstate';
import { clockScheduler, realClock, SimClock } from '../../runtime/clock.ts';

test('timers fire in due order, only when time advances', () => {
  const c = new SimClock();
  const log: string[] = [];
  c.setTimeout(() => log.push('b@20'), 20);
  c.setTimeout(() => log.push('a@10'), 10);
  c.setTimeout(() => log.push('c@30'), 30);
  assert.equal(log, []);
  assert.is(c.pending(), 3);
  assert.is(c.nextDue(), 10);
  c.advance(20);
  assert.equal(log, ['a@10', 'b@20']);
  assert.is(c.now(), 20);
  c.advance(100);
  assert.equal(log, ['a@10', 'b@20', 'c@30']);
  assert.is(c.now(), 120);
  assert.is(c.pending(), 0);
  assert.is(c.nextDue(), null);
});

test('same due time fires first-in first-out', () => {
  const c = new SimClock(1000);
  const log: number[] = [];
  for (let i = 0; i < 50; i++) c.setTimeout(() => log.push(i), 5);
  c.advance(5);
  assert.equal(log, Array.from({ length: 50 }, (_, i) => i));
});

test('now() inside a timer is its due time', () => {
  const c = new SimClock();
  const seen: number[] = [];
  c.setTimeout(() => seen.push(c.now()), 7);
  c.setTimeout(() => seen.push(c.now()), 3);
  c.advance(100);
  assert.equal(seen, [3, 7]);
});

test('clearTimeout cancels; clearing twice or an unknown id is harmless', () => {
  const c = new SimClock();
  const log: string[] = [];
  const id = c.setTimeout(() => log.push('x'), 10);
  c.setTimeout(() => log.push('y'), 10);
  c.clearTimeout(id);
  c.clearTimeout(id);
  c.clearTimeout('nope');
  assert.is(c.pending(), 1);
  c.advance(10);
  assert.equal(log, ['y']);
});

test('many clears stay consistent (heap compaction)', () => {
  const c = new SimClock();
  const fired: number[] = [];
  const ids = Array.from({ length: 1000 }, (_, i) => c.setTimeout(() => fired.push(i), 1000 - i));
  ids.forEach((id, i) => i % 3 !== 0 && c.clearTimeout(id));
  c.advance(2000);
  const expected = Array.from({ length: 1000 }, (_, i) => i).filter((i) => i % 3 === 0).reverse();
  assert.equal(fired, expected);
});

test('timers scheduled while firing run in the same advance if they fall within it', () => {
  const c = new SimClock();
  const log: string[] = [];
  c.setTimeout(() => {
    log.push('outer@10');
    c.setTimeout(() => log.push('inner0@10'), 0);
    c.setTimeout(() => log.push('inner5@15'), 5);
    c.setTimeout(() => log.push('late@60'), 50);
  }, 10);
  c.setTimeout(() => log.push('peer@10'), 10);
  c.advance(20);
  assert.equal(log, ['outer@10', 'peer@10', 'inner0@10', 'inner5@15']);
  assert.is(c.pending(), 1);
  c.advanceTo(60);
  assert.equal(log.at(-1), 'late@60');
});

test('runNext, runUntil, advanceTo', () => {
  const c = new SimClock();
  let n = 0;
  const tick = () => {
    n++;
    c.setTimeout(tick, 100);
  };
  c.setTimeout(tick, 100);
  assert.ok(c.runNext());
  assert.is(c.now(), 100);
  assert.ok(c.runUntil(() => n === 5, 10_000));
  assert.is(c.now(), 500);
  assert.is(c.runUntil(() => n === 100, 250), false);
  assert.is(c.now(), 750, 'gives up at the deadline');
  assert.is(n, 7);
  assert.throws(() => c.advanceTo(10), /before now/);
  const empty = new SimClock();
  assert.is(empty.runNext(), false);
});

test('XState after-delay fires only when the sim clock advances', () => {
  const machine = setup({ delays: { timeout: 1000 } }).createMachine({
    initial: 'waiting',
    states: { waiting: { after: { timeout: 'done' } }, done: { type: 'final' } },
  });
  const clock = new SimClock();
  const actor = createActor(machine, { clock }).start();
  assert.is(actor.getSnapshot().value, 'waiting');
  clock.advance(999);
  assert.is(actor.getSnapshot().value, 'waiting');
  clock.advance(1);
  assert.is(actor.getSnapshot().value, 'done');
  actor.stop();
});

test('rxjs interval and timer tick in simulated time only', () => {
  const c = new SimClock();
  const s = clockScheduler(c);
  const ticks: Array<[number, number]> = [];
  const sub = interval(1000, s).subscribe((i) => ticks.push([i, c.now()]));
  c.advance(3500);
  assert.equal(ticks, [[0, 1000], [1, 2000], [2, 3000]]);
  sub.unsubscribe();
  c.advance(5000);
  assert.is(ticks.length, 3);
  assert.is(c.pending(), 0, 'unsubscribe clears the timer');

  const t: number[] = [];
  timer(500, 200, s).pipe(take(3)).subscribe(() => t.push(c.now()));
  c.advance(2000);
  assert.equal(t, [8500 + 500, 8500 + 700, 8500 + 900]);
  assert.is(c.pending(), 0);
  assert.is(s.now(), c.now());
});

test('rxjs delay, debounceTime and bufferTime run on the sim clock', () => {
  const c = new SimClock();
  const s = clockScheduler(c);
  const delayed: number[] = [];
  of(1, 2).pipe(delay(300, s)).subscribe((v) => delayed.push(v));
  c.advance(299);
  assert.equal(delayed, []);
  c.advance(1);
  assert.equal(delayed, [1, 2]);

  const input = new Subject<number>();
  const debounced: Array<[number, number]> = [];
  input.pipe(debounceTime(100, s)).subscribe((v) => debounced.push([v, c.now()]));
  input.next(1);
  c.advance(50);
  input.next(2);
  c.advance(100);
  assert.equal(debounced, [[2, 450]]);

  const batches: number[][] = [];
  const src = new Subject<number>();
  const sub = src.pipe(bufferTime(1000, s)).subscribe((b) => batches.push(b));
  src.next(1);
  src.next(2);
  c.advance(1000);
  src.next(3);
  c.advance(1000);
  c.advance(1000);
  assert.equal(batches, [[1, 2], [3], []]);
  sub.unsubscribe();
  assert.is(c.pending(), 0);
});

test('realClock is wall time', async () => {
  const t0 = realClock.now();
  assert.ok(Math.abs(t0 - Date.now()) < 50);
  await new Promise<void>((resolve) => realClock.setTimeout(resolve, 5));
  const id = realClock.setTimeout(() => assert.unreachable('cleared'), 1);
  realClock.clearTimeout(id);
  await new Promise((r) => setTimeout(r, 10));
});

test.run();
