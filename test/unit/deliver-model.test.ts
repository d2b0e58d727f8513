// Model check of the deliver machine with xstate/graph, timers included. The machine's pure transitions are
// wrapped in a model that also tracks what XState schedules on the clock: every delayed raise becomes a timer
// (due = now + delay), every cancel removes one, the feed actor is live between its spawn and its stop, and
// time moves only by firing the earliest timer (as SimClock does). The environment sends deliver.start /
// deliver.stop at any moment, feed events only while a feed runs, and one mode per graph (a peer binds
// deliver with a fixed mode: static for orgLeader, elected otherwise).
//
// Checked on every reachable state and edge:
//   static:   gaveUp is unreachable and deliver.gaveUp never emitted, however long the failures last
//   elected:  while active, the give-up timer runs exactly when failures > 0; it is set at the first failure
//             in a row to reconnectTotalTimeThreshold and never moved; when it fires, gaveUp and one
//             deliver.gaveUp (a block first cancels it)
//   both:     connect timer exactly in connecting, back-off timer exactly in backoff (with Fabric's delay),
//             nothing scheduled in idle or gaveUp, one feed exactly in a session, never two timers of one id,
//             and streaming reachable again from every state
// Shortest paths are replayed on the live actor on a SimClock: its value, its pending timers and their due
// times, its feed and what it emits follow the model step by step; an elected leader emits deliver.gaveUp
// exactly reconnectTotalTimeThreshold after its first failure in a row.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createActor, fromCallback, initialTransition, transition, type AnyActorLogic, type EventObject } from 'xstate';
import { getAdjacencyMap, getShortestPaths } from 'xstate/graph';
import { deliverMachine, type DeliverEmitted, type DeliverEvent, type DeliverInput, type DeliverMode } from '../../machines/deliver.machine.ts';
import { backoffMs } from '../../machines/deliver.logic.ts';
import { SimClock } from '../../runtime/clock.ts';

// Small whole-millisecond timings keep the timed state space finite and small. Back-off: 1, 1, 1, 2, 2, …
const input: DeliverInput = { channel: 'ch', connTimeoutMs: 3, minimalReconnectIntervalMs: 1, reConnectBackoffThresholdMs: 2, reconnectTotalTimeThresholdMs: 20 };
const GIVE_UP = input.reconnectTotalTimeThresholdMs;
/** From this many failures in a row on, the back-off no longer grows: failures beyond it are equivalent. */
const SATURATED = 4;

type Snap = ReturnType<typeof deliverMachine.transition>;
type Act = { type: string; params?: Record<string, unknown> };
type TimerEvent = 'connect.timeout' | 'backoff.done' | 'giveup.timeout';
interface Timer {
  id: string;
  event: TimerEvent;
  due: number;
  seq: number;
}
/** The model's state: the machine's snapshot plus the clock and the feed as XState would drive them. */
interface Model {
  status: 'active';
  output: undefined;
  error: undefined;
  m: Snap;
  now: number;
  /** Pending timers in firing order (due, then scheduling order). */
  timers: Timer[];
  seq: number;
  feed: boolean;
  /** A delayed raise while a timer of the same id was pending (must never happen). */
  duplicate: string | null;
}
interface Step {
  next: Model;
  acts: Act[];
  emitted: DeliverEmitted[];
}

const isTimer = (type: string): type is TimerEvent => type === 'connect.timeout' || type === 'backoff.done' || type === 'giveup.timeout';
const value = (m: Model) => JSON.stringify(m.m.value);
const pendingIds = (m: Model) => m.timers.map((t) => t.id).sort();
const due = (m: Model, id: string) => m.timers.find((t) => t.id === id)?.due;

function initial(): Model {
  const [m, acts] = initialTransition(deliverMachine, input) as unknown as [Snap, Act[]];
  assert.equal(acts.filter((a) => a.type !== 'xstate.assign'), [], 'idle schedules and spawns nothing');
  return { status: 'active', output: undefined, error: undefined, m, now: 0, timers: [], seq: 0, feed: false, duplicate: null };
}

function step(x: Model, e: DeliverEvent): Step {
  let now = x.now;
  let timers = x.timers;
  if (isTimer(e.type)) {
    const head = timers[0];
    if (!head || head.event !== e.type) throw new Error(`${e.type} fired but the next timer is ${head?.event}`);
    now = head.due;
    timers = timers.slice(1);
  }
  const [m, acts] = transition(deliverMachine, x.m, e) as unknown as [Snap, Act[]];
  let { seq, feed, duplicate } = x;
  timers = [...timers];
  const emitted: DeliverEmitted[] = [];
  for (const a of acts) {
    const p = a.params ?? {};
    if (a.type === 'xstate.raise' && typeof p.delay === 'number') {
      const id = String(p.id);
      if (timers.some((t) => t.id === id)) duplicate ??= id;
      timers.push({ id, event: (p.event as EventObject).type as TimerEvent, due: now + p.delay, seq: ++seq });
    } else if (a.type === 'xstate.raise') throw new Error('an undelayed raise: the model does not expect one');
    else if (a.type === 'xstate.cancel') timers = timers.filter((t) => t.id !== p.sendId);
    else if (a.type === 'xstate.spawnChild' && p.id === 'feed') feed = true;
    else if (a.type === 'xstate.stopChild' && p.id === 'feed') feed = false;
    else if (a.type === 'xstate.emit') emitted.push(p.event as DeliverEmitted);
  }
  timers.sort((a, b) => a.due - b.due || a.seq - b.seq);
  return { next: { ...x, m, now, timers, seq, feed, duplicate }, acts, emitted };
}

/** The environment: leadership at any moment, feed events only from a running feed, the earliest timer. */
function events(x: Model, mode: DeliverMode): DeliverEvent[] {
  const out: DeliverEvent[] = [{ type: 'deliver.start', mode }, { type: 'deliver.stop' }];
  if (x.feed) out.push({ type: 'feed.ready' }, { type: 'feed.block', number: 1 }, { type: 'feed.error', reason: 'unavailable' });
  if (x.timers[0]) out.push({ type: x.timers[0].event } as DeliverEvent);
  return out;
}

// Counters beyond what decides behaviour (connects, lastError, failures past saturation) and absolute time are
// left out; pending timers are kept with their time left.
const key = (x: Model) =>
  JSON.stringify([x.m.value, x.m.context.mode, Math.min(x.m.context.failures, SATURATED), x.feed, x.duplicate, x.timers.map((t) => [t.id, t.due - x.now])]);

const logic: AnyActorLogic = {
  transition: (s, e) => step(s as Model, e as DeliverEvent).next,
  getInitialSnapshot: () => initial(),
  getPersistedSnapshot: (s) => s,
} as AnyActorLogic;
// A machine that leaks timers would have an infinite graph: the limit turns that into a failure, and a state
// with a duplicated timer is not explored further (it already fails the checks below).
const traversal = (mode: DeliverMode) => ({
  events: (s: unknown) => events(s as Model, mode) as EventObject[],
  serializeState: (s: unknown) => key(s as Model),
  stopWhen: (s: unknown) => (s as Model).duplicate !== null,
  limit: 50_000,
});
type Node = { state: unknown; transitions: Record<string, { event: DeliverEvent; state: unknown }> };
const graphs = new Map<DeliverMode, Record<string, Node>>();
const adjacency = (mode: DeliverMode) => {
  let g = graphs.get(mode);
  if (!g) graphs.set(mode, (g = getAdjacencyMap(logic, traversal(mode)) as unknown as Record<string, Node>));
  return g;
};
/** Every edge, recomputed with the step function so that the actions and emitted events come with it. */
const edges = (mode: DeliverMode) =>
  Object.values(adjacency(mode)).flatMap((n) => Object.values(n.transitions).map((t) => ({ from: n.state as Model, event: t.event, ...step(n.state as Model, t.event) })));

const ALL = ['"idle"', '{"active":{"session":"connecting"}}', '{"active":{"session":"streaming"}}', '{"active":"backoff"}', '"gaveUp"'];

test('the back-off saturates: failures beyond SATURATED behave alike (the key may merge them)', () => {
  for (let n = SATURATED; n < 40; n++) assert.is(backoffMs(n, 0.5, input), backoffMs(SATURATED, 0.5, input), `attempt ${n}`);
  assert.is.not(backoffMs(SATURATED - 1, 0.5, input), backoffMs(SATURATED, 0.5, input));
});

for (const mode of ['static', 'elected'] as const) {
  test(`${mode}: reachable states; timers, feed and back-off match the state on every node and edge`, () => {
    const nodes = Object.values(adjacency(mode)).map((n) => n.state as Model);
    const values = new Set(nodes.map(value));
    assert.equal([...values].sort(), ALL.filter((v) => mode === 'elected' || v !== '"gaveUp"').sort());
    for (const x of nodes) {
      const v = value(x);
      const where = `${key(x)}`;
      assert.is(x.duplicate, null, `two timers with one id: ${where}`);
      assert.is(x.feed, v.includes('session'), `feed live outside a session or missing in one: ${where}`);
      assert.is(pendingIds(x).includes('connect.timeout'), v.includes('connecting'), `connect timer: ${where}`);
      assert.is(pendingIds(x).includes('backoff.done'), v.includes('backoff'), `back-off timer: ${where}`);
      if (v === '"idle"' || v === '"gaveUp"') assert.equal(pendingIds(x), [], `timers left in ${v}`);
      if (v.includes('active')) assert.is(x.m.context.mode, mode);
    }
    for (const { from, next, event } of edges(mode)) {
      if (value(next) === '{"active":"backoff"}' && value(from) !== '{"active":"backoff"}') {
        assert.is(due(next, 'backoff.done')! - next.now, backoffMs(next.m.context.failures, 0.5, input), `back-off after ${next.m.context.failures} failures`);
        assert.ok(event.type === 'feed.error' || event.type === 'connect.timeout', event.type);
      }
      // Each new session is a fresh subscription.
      if (value(next).includes('session') && !value(from).includes('session')) assert.is(next.m.context.connects, from.m.context.connects + 1);
    }
    console.log(`    ${mode}: ${nodes.length} states explored`);
  });

  test(`${mode}: streaming is reachable again from every state (no trap)`, () => {
    const a = adjacency(mode);
    const streaming = (x: Model) => value(x).includes('streaming');
    for (const k of Object.keys(a)) {
      const seen = new Set([k]);
      const queue = [k];
      let found = streaming(a[k]!.state as Model);
      while (!found && queue.length) {
        for (const t of Object.values(a[queue.shift()!]!.transitions)) {
          const nk = key(t.state as Model);
          if (streaming(t.state as Model)) found = true;
          if (!seen.has(nk)) seen.add(nk), queue.push(nk);
        }
      }
      assert.ok(found, `trapped: ${k}`);
    }
  });
}

test('static: never gives up, however long the failures last; its give-up timer firing changes nothing', () => {
  let fired = 0;
  let longest = 0;
  for (const { from, event, next, emitted } of edges('static')) {
    assert.is.not(value(next), '"gaveUp"');
    assert.equal(emitted, [], `emitted on ${event.type}`);
    longest = Math.max(longest, next.m.context.failures);
    if (event.type === 'giveup.timeout') {
      fired++;
      assert.is(value(next), value(from), 'a static leader moved on its give-up timer');
    }
  }
  assert.ok(fired > 0, 'the give-up timer does fire for a static leader');
  assert.ok(longest >= SATURATED, `failures in a row explored up to ${longest}`);
});

test('elected: the give-up clock runs exactly while failing, starts at the first failure, never moves, and ends in gaveUp', () => {
  let started = 0;
  let gaveUp = 0;
  let blocksCancel = 0;
  for (const x of Object.values(adjacency('elected')).map((n) => n.state as Model)) {
    if (value(x).includes('active')) assert.is(pendingIds(x).includes('giveup.timeout'), x.m.context.failures > 0, `give-up timer vs failures: ${key(x)}`);
  }
  for (const { from, event, next, emitted } of edges('elected')) {
    const before = due(from, 'giveup.timeout');
    const after = due(next, 'giveup.timeout');
    if (before !== undefined && after !== undefined) assert.is(after, before, `the give-up deadline moved on ${event.type}`);
    if (before === undefined && after !== undefined) {
      started++;
      assert.is(after, next.now + GIVE_UP, 'the deadline is reconnectTotalTimeThreshold after the first failure');
      assert.equal([from.m.context.failures, next.m.context.failures], [0, 1]);
    }
    if (before !== undefined && after === undefined && event.type === 'feed.block') blocksCancel++;
    if (event.type === 'giveup.timeout') {
      gaveUp++;
      assert.is(value(next), '"gaveUp"');
      assert.equal(emitted, [{ type: 'deliver.gaveUp', channel: 'ch', failures: from.m.context.failures, lastError: from.m.context.lastError }]);
    } else assert.equal(emitted, [], `emitted on ${event.type}`);
  }
  assert.ok(started > 0 && gaveUp > 0 && blocksCancel > 0, `${started} started, ${gaveUp} gave up, ${blocksCancel} cancelled by a block`);
});

/** The live machine on a SimClock, with a feed actor whose sendBack the replay drives. */
function live() {
  const clock = new SimClock(0);
  const feed: { send: ((e: DeliverEvent) => void) | null; opened: number } = { send: null, opened: 0 };
  const machine = deliverMachine.provide({
    actors: {
      feed: fromCallback<EventObject, { channel: string }>(({ sendBack }) => {
        feed.send = sendBack as (e: DeliverEvent) => void;
        feed.opened++;
        return () => void (feed.send = null);
      }),
    },
  });
  const actor = createActor(machine, { input, clock });
  const emitted: { at: number; e: DeliverEmitted }[] = [];
  actor.on('deliver.gaveUp', (e) => emitted.push({ at: clock.now(), e }));
  return { clock, feed, actor, emitted };
}

for (const mode of ['static', 'elected'] as const) {
  test(`${mode}: shortest paths replayed on the live actor follow the model: value, timers, feed, emitted`, () => {
    const paths = getShortestPaths(logic, traversal(mode));
    assert.ok(paths.length > 50, `${paths.length} paths`);
    let gaveUpChecked = 0;
    for (const p of paths) {
      const { clock, feed, actor, emitted } = live();
      actor.start();
      let x = initial();
      const predicted: DeliverEmitted[] = [];
      let failingSince: number | null = null;
      for (const s of p.steps.slice(1)) {
        const e = s.event as DeliverEvent;
        const r = step(x, e);
        x = r.next;
        predicted.push(...r.emitted);
        if (isTimer(e.type)) assert.ok(clock.runNext(), `${e.type}: no live timer`);
        else if (e.type.startsWith('feed.')) {
          assert.ok(feed.send, `${e.type} but no live feed`);
          feed.send!(e);
        } else actor.send(e);
        const l = actor.getSnapshot();
        const where = `${p.steps.map((z) => z.event.type).join(' → ')} [at ${e.type}]`;
        assert.equal(l.value, x.m.value, where);
        assert.is(clock.now(), x.now, where);
        assert.is(clock.pending(), x.timers.length, `${where}: pending timers`);
        assert.is(clock.nextDue(), x.timers[0]?.due ?? null, `${where}: next due`);
        assert.is(feed.send !== null, x.feed, `${where}: feed`);
        assert.is(l.context.failures, x.m.context.failures, where);
        if (l.context.failures === 0) failingSince = null;
        else failingSince ??= clock.now();
        if (r.emitted.length) {
          gaveUpChecked++;
          assert.is(clock.now() - failingSince!, GIVE_UP, 'gave up reconnectTotalTimeThreshold after the first failure in a row');
        }
      }
      assert.is(key(x), key(p.state as Model), 'the path reaches the state the graph says');
      assert.equal(emitted.map((z) => z.e), predicted);
      assert.is(feed.opened, x.m.context.connects, 'one feed per session');
      actor.stop();
      assert.is(clock.pending(), 0, 'stopping leaves no timer');
    }
    if (mode === 'elected') assert.ok(gaveUpChecked > 0, 'some path gives up');
    else assert.is(gaveUpChecked, 0);
  });
}

test.run();
