// The deliver machine, pure: back-off maths as a table, every transition as a table over `transition()`,
// then runs on a simulated clock with a scripted feed (static leaders never give up, elected ones do).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createActor, fromCallback, initialTransition, transition, type EventObject } from 'xstate';
import { deliverMachine, type DeliverEvent, type DeliverInput } from '../../machines/deliver.machine.ts';
import { backoffMs } from '../../machines/deliver.logic.ts';
import { SimClock } from '../../runtime/clock.ts';

const input: DeliverInput = { channel: 'c', connTimeoutMs: 3000, reConnectBackoffThresholdMs: 1000, reconnectTotalTimeThresholdMs: 10_000, minimalReconnectIntervalMs: 100 };

test('backoff: 100ms × 1.2^(n−1), capped, ±20 % jitter kept within [minimal, threshold]', () => {
  const t = { minimalReconnectIntervalMs: 100, reConnectBackoffThresholdMs: 1000 };
  const table: [attempt: number, u: number, ms: number][] = [
    [1, 0.5, 100],
    [2, 0.5, 120],
    [3, 0.5, 144],
    [4, 0.5, 173],
    [10, 0.5, 516],
    [13, 0.5, 892],
    [14, 0.5, 1000], // 1070 capped
    [1000, 0.5, 1000],
    [1, 0, 100], // 80 floored at minimal
    [5, 0, 166], // 207.36 × 0.8
    [5, 0.999999, 249], // × 1.2
    [14, 0.999999, 1000], // capped after jitter too
    [0, 0.5, 100], // nonsense attempt numbers count as the first
  ];
  for (const [n, u, ms] of table) assert.is(backoffMs(n, u, t), ms, `attempt ${n}, u ${u}`);
});

type Snap = ReturnType<typeof initialTransition<typeof deliverMachine>>[0];
type Act = { type: string; params?: Record<string, unknown> };
const raised = (acts: Act[]) => acts.filter((a) => a.type === 'xstate.raise').map((a) => `${(a.params!.event as EventObject).type}@${a.params!.delay}`);
const cancelled = (acts: Act[]) => [...new Set(acts.filter((a) => a.type === 'xstate.cancel').map((a) => a.params!.sendId as string))].sort();
const spawned = (acts: Act[]) => acts.filter((a) => a.type === 'xstate.spawnChild').map((a) => a.params!.id as string);
const emitted = (acts: Act[]) => acts.filter((a) => a.type === 'xstate.emit').map((a) => (a.params!.event as EventObject).type);

function run(events: DeliverEvent[], from?: Snap): { s: Snap; acts: Act[] } {
  let s = from ?? initialTransition(deliverMachine, input)[0];
  let acts: Act[] = [];
  for (const e of events) [s, acts] = transition(deliverMachine, s, e) as unknown as [Snap, Act[]];
  return { s, acts };
}

const start = (mode: 'static' | 'elected'): DeliverEvent => ({ type: 'deliver.start', mode });
const err: DeliverEvent = { type: 'feed.error', reason: 'unavailable' };

test('transitions: start, ready, blocks, failures, back-off, give-up, stop', () => {
  const rows: { name: string; events: DeliverEvent[]; value: unknown; failures?: number; raised?: string[]; cancelled?: string[]; spawned?: string[]; emitted?: string[] }[] = [
    { name: 'start → connecting: feed invoked, connect timer', events: [start('static')], value: { active: { session: 'connecting' } }, raised: ['connect.timeout@3000'], spawned: ['feed'] },
    { name: 'ready → streaming', events: [start('static'), { type: 'feed.ready' }], value: { active: { session: 'streaming' } }, cancelled: ['connect.timeout'] },
    {
      name: 'connect timeout → backoff; the 1st failure starts the give-up timer',
      events: [start('elected'), { type: 'connect.timeout' }],
      value: { active: 'backoff' },
      failures: 1,
      raised: ['giveup.timeout@10000', 'backoff.done@100'],
    },
    { name: 'feed error while streaming → backoff', events: [start('static'), { type: 'feed.ready' }, err], value: { active: 'backoff' }, failures: 1 },
    { name: 'backoff done → a new session', events: [start('static'), err, { type: 'backoff.done' }], value: { active: { session: 'connecting' } }, failures: 1, spawned: ['feed'] },
    {
      name: '2nd failure in a row: longer back-off, no second give-up timer',
      events: [start('static'), err, { type: 'backoff.done' }, err],
      value: { active: 'backoff' },
      failures: 2,
      raised: ['backoff.done@120'],
    },
    {
      name: 'a block resets failures and cancels the give-up timer',
      events: [start('elected'), err, { type: 'backoff.done' }, { type: 'feed.ready' }, { type: 'feed.block', number: 7 }],
      value: { active: { session: 'streaming' } },
      failures: 0,
      cancelled: ['giveup.timeout'],
    },
    { name: 'elected: give-up → gaveUp, deliver.gaveUp emitted', events: [start('elected'), err, { type: 'giveup.timeout' }], value: 'gaveUp', emitted: ['deliver.gaveUp'] },
    { name: 'static: give-up ignored (never gives up)', events: [start('static'), err, { type: 'giveup.timeout' }], value: { active: 'backoff' }, emitted: [] },
    {
      name: 'stop from backoff → idle, every timer cancelled',
      events: [start('elected'), err, { type: 'deliver.stop' }],
      value: 'idle',
      cancelled: ['backoff.done', 'connect.timeout', 'giveup.timeout'],
    },
    { name: 'stop while streaming → idle', events: [start('elected'), { type: 'feed.ready' }, { type: 'deliver.stop' }], value: 'idle' },
    { name: 'gaveUp → started again by a new leadership', events: [start('elected'), err, { type: 'giveup.timeout' }, start('elected')], value: { active: { session: 'connecting' } }, failures: 0 },
    { name: 'idle ignores feed events', events: [{ type: 'feed.ready' }, err, { type: 'connect.timeout' }], value: 'idle', failures: 0 },
    { name: 'a late connect timeout in streaming is ignored', events: [start('static'), { type: 'feed.ready' }, { type: 'connect.timeout' }], value: { active: { session: 'streaming' } }, failures: 0 },
  ];
  for (const r of rows) {
    const { s, acts } = run(r.events);
    assert.equal(s.value, r.value, r.name);
    if (r.failures !== undefined) assert.is(s.context.failures, r.failures, `${r.name}: failures`);
    if (r.raised) assert.equal(raised(acts), r.raised, `${r.name}: raised`);
    if (r.cancelled) assert.equal(cancelled(acts), r.cancelled, `${r.name}: cancelled`);
    if (r.spawned) assert.equal(spawned(acts), r.spawned, `${r.name}: spawned`);
    if (r.emitted) assert.equal(emitted(acts), r.emitted, `${r.name}: emitted`);
  }
});

test('back-off delays over consecutive failures follow Fabric\'s curve up to the cap', () => {
  let s = run([start('static')]).s;
  const delays: string[] = [];
  for (let i = 0; i < 16; i++) {
    const [s1, acts] = transition(deliverMachine, s, err) as unknown as [Snap, Act[]];
    delays.push(...raised(acts).filter((x) => x.startsWith('backoff.done')).map((x) => x.split('@')[1]!));
    s = transition(deliverMachine, s1, { type: 'backoff.done' })[0];
  }
  assert.equal(delays.map(Number), [100, 120, 144, 173, 207, 249, 299, 358, 430, 516, 619, 743, 892, 1000, 1000, 1000]);
});

/** Runs the machine on a simulated clock with a feed that fails its first `failFirst` sessions. */
function scripted(mode: 'static' | 'elected', failFirst: number) {
  const clock = new SimClock(0);
  const sessions: number[] = [];
  const m = deliverMachine.provide({
    actors: {
      feed: fromCallback<EventObject, { channel: string }>(({ sendBack }) => {
        sessions.push(clock.now());
        const n = sessions.length;
        const id = clock.setTimeout(() => sendBack(n <= failFirst ? { type: 'feed.error', reason: 'unavailable' } : { type: 'feed.ready' }), 10);
        return () => clock.clearTimeout(id);
      }),
    },
  });
  const actor = createActor(m, { input, clock }).start();
  const gaveUp: number[] = [];
  actor.on('deliver.gaveUp', () => gaveUp.push(clock.now()));
  actor.send(start(mode));
  return { clock, actor, sessions, gaveUp };
}

test('simulated time: a static leader keeps retrying past reconnectTotalTimeThreshold and recovers', () => {
  const { clock, actor, sessions, gaveUp } = scripted('static', 30);
  clock.advance(60_000);
  assert.equal(gaveUp, []);
  assert.is(sessions.length, 31, 'the 31st session succeeds');
  assert.equal(actor.getSnapshot().value, { active: { session: 'streaming' } });
  // Sessions are 10 ms of trying plus the back-off: 100, 120, 144, … capped at 1 s (no jitter without the actor).
  assert.is(sessions[1]! - sessions[0]!, 110);
  assert.is(sessions[2]! - sessions[1]!, 130);
  assert.is(sessions[30]! - sessions[29]!, 1010);
  actor.stop();
  assert.is(clock.pending(), 0, 'no timer left');
});

test('simulated time: an elected leader gives up after reconnectTotalTimeThreshold of failures', () => {
  const { clock, actor, sessions, gaveUp } = scripted('elected', 1000);
  clock.advance(60_000);
  assert.equal(gaveUp, [10_010], 'the give-up clock starts at the first failure (t = 10 ms)');
  assert.is(actor.getSnapshot().value, 'gaveUp');
  const n = sessions.length;
  clock.advance(10_000);
  assert.is(sessions.length, n, 'no retries after giving up');
  actor.stop();
});

test.run();
