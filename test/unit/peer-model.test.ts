// Model check of the peer's root machine with xstate/graph: every lifecycle state reachable; running is entered
// only when the start actor succeeds, and nothing leads back to it from failed, stopping or stopped; the final
// state is reached only through the stop actor (the bus is always drained) and ignores everything; the
// concerns and channels are children exactly while running, and leaving running stops every one of them.
// Shortest paths are replayed on the live actor (real channel and election machines, simulated clock): the
// effects it performs (start / stop actors run, concerns up / down) are exactly those the pure transitions
// predict, and no timer of a stopped channel survives.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createActor, fromCallback, fromPromise, initialTransition, transition, type AnyActorLogic, type EventObject } from 'xstate';
import { getAdjacencyMap, getShortestPaths } from 'xstate/graph';
import { peerMachine, channelActorId, PEER_CONCERNS, type PeerInput } from '../../machines/peer.machine.ts';
import type { ElectionInput } from '../../machines/election.machine.ts';
import { SimClock } from '../../runtime/clock.ts';

const election = (mode: ElectionInput['mode']): ElectionInput => ({
  self: 'aa',
  mode,
  profile: 'murmur',
  timings: { startupGracePeriod: 500, membershipSampleInterval: 100, leaderAliveThreshold: 500, leaderElectionDuration: 500 },
  maxLeaderLag: 10,
});
// A dynamic election schedules timers as soon as its channel exists; a standby one schedules none.
const input: PeerInput = {
  peerId: 'peer0.org1',
  mspId: 'Org1MSP',
  channels: [
    { channel: 'ch1', height: 1, tipHash: 'aa', election: election('dynamic') },
    { channel: 'ch2', height: 1, tipHash: 'bb', election: election('standby') },
  ],
};
const CHANNELS = input.channels.map((c) => channelActorId(c.channel));
const RUNNING_CHILDREN = [...PEER_CONCERNS, ...CHANNELS].sort();

// The invoked start / stop actors report through done / error events; their ids come from the definition.
const START = peerMachine.states.starting.invoke[0]!.id;
const STOP = peerMachine.states.stopping.invoke[0]!.id;
const startDone = `xstate.done.actor.${START}`;
const startError = `xstate.error.actor.${START}`;
const stopDone = `xstate.done.actor.${STOP}`;
const stopError = `xstate.error.actor.${STOP}`;

type Ev = { type: string; connected?: boolean; error?: unknown };
const EVENTS: Ev[] = [
  { type: 'peer.stop' },
  { type: 'transport.status', connected: true },
  { type: 'transport.status', connected: false },
  { type: startDone },
  { type: startError, error: new Error('no bus') },
  { type: stopDone },
  { type: stopError, error: new Error('drain failed') },
];

type Snap = ReturnType<typeof peerMachine.transition>;
type Act = { type: string; params?: Record<string, unknown> };
const key = (s: Snap) => JSON.stringify([s.value, s.status, s.context.natsConnected, s.context.error, Object.keys(s.children).sort()]);
// Offered as plain logic, so every event is tried in every state (machine logic would only try the events
// the state handles, which would hide exactly the transitions this test forbids). The pure `transition()`
// gives each step a fresh actor system: the channels' system ids would collide in the graph's shared one.
const logic: AnyActorLogic = {
  transition: (s, e) => transition(peerMachine, s as Snap, e as never)[0],
  getInitialSnapshot: (_scope, inp) => initialTransition(peerMachine, inp as PeerInput)[0],
  getPersistedSnapshot: (s) => s,
} as AnyActorLogic;
// The environment: a done or error event only while that actor runs (nothing else can send one), and no
// event at all to an actor that has finished (the runtime delivers none).
function events(s: Snap): Ev[] {
  if (s.status !== 'active') return [];
  return EVENTS.filter((e) => {
    const from = /^xstate\.(?:done|error)\.actor\.(.+)$/.exec(e.type)?.[1];
    return from === undefined || from in s.children;
  });
}
const traversal = { input, events: (s: unknown) => events(s as Snap) as EventObject[], serializeState: (s: unknown) => key(s as Snap) };
type Node = { state: unknown; transitions: Record<string, { event: Ev; state: unknown }> };
let adj: Record<string, Node> | null = null;
const adjacency = () => (adj ??= getAdjacencyMap(logic, traversal) as unknown as Record<string, Node>);
const edges = () =>
  Object.values(adjacency()).flatMap((n) => Object.values(n.transitions).map((t) => ({ from: n.state as Snap, event: t.event, to: t.state as Snap })));
const val = (s: Snap) => s.value as string;

/** The effects a pure transition's actions announce, in order: actors run, concerns brought up or down. */
function effects(acts: Act[]): string[] {
  const out: string[] = [];
  for (const a of acts) {
    const id = String(a.params?.id ?? '');
    if (a.type === 'xstate.spawnChild' && (a.params?.src === 'start' || a.params?.src === 'stop')) out.push(`run:${a.params.src}`);
    else if (a.type === 'xstate.spawnChild' && (PEER_CONCERNS as readonly string[]).includes(id)) out.push(`up:${id}`);
    else if (a.type === 'xstate.stopChild' && (PEER_CONCERNS as readonly string[]).includes(id)) out.push(`down:${id}`);
  }
  return out;
}

test('every lifecycle state is reachable; the children are exactly those of the state', () => {
  const nodes = Object.values(adjacency()).map((n) => n.state as Snap);
  assert.equal([...new Set(nodes.map(val))].sort(), ['failed', 'running', 'starting', 'stopped', 'stopping']);
  for (const s of nodes) {
    const kids = Object.keys(s.children).sort();
    const want = { starting: [START], running: RUNNING_CHILDREN, stopping: [STOP], failed: [], stopped: [] }[val(s)];
    assert.equal(kids, want, `children in ${key(s)}`);
  }
  console.log(`    ${nodes.length} states explored`);
});

test('running is entered only when the start actor succeeds; nothing leads back from failed, stopping or stopped', () => {
  let entries = 0;
  for (const { from, event, to } of edges()) {
    if (val(to) !== 'running' || val(from) === 'running') continue;
    entries++;
    assert.is(val(from), 'starting', `entered running from ${val(from)}`);
    assert.is(event.type, startDone, `entered running on ${event.type}`);
  }
  assert.ok(entries > 0);
  // Closure: from any node in failed, stopping or stopped, no sequence of events reaches running.
  const a = adjacency();
  const seeds = Object.keys(a).filter((k) => ['failed', 'stopping', 'stopped'].includes(val(a[k]!.state as Snap)));
  assert.ok(seeds.length >= 3);
  const seen = new Set(seeds);
  const queue = [...seeds];
  while (queue.length) {
    for (const t of Object.values(a[queue.shift()!]!.transitions)) {
      const s = t.state as Snap;
      assert.is.not(val(s), 'running', 'a failed or stopped peer came back to running without a new start');
      const k = key(s);
      if (!seen.has(k)) seen.add(k), queue.push(k);
    }
  }
});

test('stopped is final and reached only through the stop actor; only stopped is final', () => {
  let into = 0;
  for (const { from, event, to } of edges()) {
    if (val(to) !== 'stopped') continue;
    into++;
    assert.is(val(from), 'stopping', 'the stop actor (NATS drain, stores closed) always runs first');
    assert.ok(event.type === stopDone || event.type === stopError, event.type);
  }
  assert.ok(into >= 2, 'both the stop actor\'s success and its failure end in stopped');
  for (const n of Object.values(adjacency())) {
    const s = n.state as Snap;
    assert.is(s.status, val(s) === 'stopped' ? 'done' : 'active', key(s));
  }
});

test('concerns are spawned only on entering running; leaving running stops every concern and channel', () => {
  let left = 0;
  for (const { from, event } of edges()) {
    const [to, acts] = transition(peerMachine, from, event as never) as unknown as [Snap, Act[]];
    const spawned = acts.filter((x) => x.type === 'xstate.spawnChild').map((x) => String(x.params!.id));
    const stopped = acts.filter((x) => x.type === 'xstate.stopChild').map((x) => String(x.params!.id));
    const entering = val(to) === 'running' && val(from) !== 'running';
    if (!entering) assert.not.ok(spawned.some((id) => RUNNING_CHILDREN.includes(id)), `spawned ${spawned} on ${val(from)} --${event.type}`);
    else assert.equal(spawned.filter((id) => RUNNING_CHILDREN.includes(id)).sort(), RUNNING_CHILDREN);
    if (val(from) === 'running' && val(to) !== 'running') {
      left++;
      for (const id of RUNNING_CHILDREN) assert.ok(stopped.includes(id), `${id} not stopped on ${event.type}`);
    }
    if (event.type === 'transport.status' && from.status === 'active') assert.is(to.context.natsConnected, event.connected);
  }
  assert.ok(left > 0, 'some edge leaves running');
});

/** The peer machine with controllable start / stop actors and concerns that log their lifetime. */
function live() {
  const clock = new SimClock(0);
  const log: string[] = [];
  const pending: Record<'start' | 'stop', { resolve: () => void; reject: (e: unknown) => void } | null> = { start: null, stop: null };
  const ctl = (name: 'start' | 'stop') =>
    fromPromise<void>(
      () =>
        new Promise<void>((resolve, reject) => {
          log.push(`run:${name}`);
          pending[name] = { resolve, reject };
        }),
    );
  const concern = (id: string) =>
    fromCallback<EventObject>(() => {
      log.push(`up:${id}`);
      return () => log.push(`down:${id}`);
    });
  const machine = peerMachine.provide({
    actors: {
      start: ctl('start'),
      stop: ctl('stop'),
      session: concern('session'),
      discovery: concern('discovery'),
      stateInfo: concern('stateInfo'),
    },
  });
  const actor = createActor(machine, { input, clock });
  return { clock, log, pending, actor };
}

const flush = () => new Promise<void>((r) => setImmediate(r));

test('shortest paths replayed on the live actor perform exactly the predicted effects', async () => {
  const paths = getShortestPaths(logic, traversal);
  assert.ok(paths.length >= 8, `${paths.length} paths`);
  for (const p of paths) {
    const { clock, log, pending, actor } = live();
    const predicted = effects(initialTransition(peerMachine, input)[1] as unknown as Act[]);
    let channels: { getSnapshot(): { status: string } }[] = [];
    actor.start();
    // Each step is an event and the state after it; the first is the initial state.
    for (let i = 1; i < p.steps.length; i++) {
      const e = p.steps[i]!.event as Ev;
      predicted.push(...effects(transition(peerMachine, p.steps[i - 1]!.state as Snap, e as never)[1] as unknown as Act[]));
      const which = e.type === startDone || e.type === startError ? 'start' : e.type === stopDone || e.type === stopError ? 'stop' : null;
      if (which) {
        const d = pending[which];
        assert.ok(d, `${e.type} on a path, but the live ${which} actor is not running`);
        pending[which] = null;
        if (e.type.startsWith('xstate.done')) d!.resolve();
        else d!.reject(e.error);
        await flush();
      } else actor.send(e as never);
      if (actor.getSnapshot().matches('running')) channels = CHANNELS.map((id) => actor.getSnapshot().children[id] as never);
    }
    const s = actor.getSnapshot();
    const want = p.state as Snap;
    const where = p.steps.map((x) => x.event.type).join(' → ');
    assert.equal(s.value, want.value, where);
    assert.equal([s.status, s.context.natsConnected, s.context.error], [want.status, want.context.natsConnected, want.context.error], where);
    assert.equal(Object.keys(s.children).sort(), Object.keys(want.children).sort(), where);
    assert.equal(log, predicted, where);
    if (s.matches('running')) {
      assert.ok(clock.pending() > 0, 'the dynamic election of ch1 runs on the simulated clock');
    } else {
      // Out of running, every channel (and its election) is stopped and left no timer behind.
      for (const c of channels) assert.is(c.getSnapshot().status, 'stopped', where);
      assert.is(clock.pending(), 0, `${where}: timers left`);
    }
    if (s.status === 'done') {
      // A stopped peer ignores everything: no event brings it back.
      for (const e of EVENTS) actor.send(e as never);
      assert.is(actor.getSnapshot(), s, where);
    }
    actor.stop();
  }
});

test.run();
