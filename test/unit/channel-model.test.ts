// Model check of the channel machine with xstate/graph, for a standby, a static leader and a dynamic election:
// every (height, tip) the commits can produce is reachable and nothing else; the height never goes back and the
// tip changes only with it; the election child is always there and the deliver child exactly when deliver
// settings were given, and no transition spawns, stops or starts a child (leadership, bound by the peer
// assembly, starts deliver; the channel never does). Shortest paths are replayed on the live actor with a
// simulated clock: same context, a deliver child that never leaves idle, and a standby that schedules nothing
// and never leads.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createActor, initialTransition, transition, type AnyActorLogic, type EventObject, type InspectionEvent } from 'xstate';
import { getAdjacencyMap, getShortestPaths } from 'xstate/graph';
import { channelMachine, type ChannelEvent, type ChannelInput } from '../../machines/channel.machine.ts';
import type { ElectionMode } from '../../machines/election.machine.ts';
import { SimClock } from '../../runtime/clock.ts';

const deliver = { channel: 'ch', connTimeoutMs: 3000, reConnectBackoffThresholdMs: 1000, reconnectTotalTimeThresholdMs: 10_000, minimalReconnectIntervalMs: 100 };
const input = (mode: ElectionMode, withDeliver: boolean): ChannelInput => ({
  channel: 'ch',
  height: 1,
  tipHash: 'a',
  election: {
    self: 'aa',
    mode,
    profile: 'murmur',
    timings: { startupGracePeriod: 500, membershipSampleInterval: 100, leaderAliveThreshold: 500, leaderElectionDuration: 500 },
    maxLeaderLag: 10,
  },
  ...(withDeliver ? { deliver } : {}),
});
const VARIANTS: [string, ChannelInput][] = [
  ['standby with deliver', input('standby', true)],
  ['static leader with deliver', input('static-leader', true)],
  ['dynamic without deliver', input('dynamic', false)],
];

// Behind, equal, one ahead, two ahead, and a second tip at height 2 (a fork the ledger would refuse; the
// channel only mirrors what the ledger reports, and only forward).
const EVENTS: ChannelEvent[] = [
  { type: 'ledger.committed', height: 0, tipHash: 'z' },
  { type: 'ledger.committed', height: 1, tipHash: 'y' },
  { type: 'ledger.committed', height: 2, tipHash: 'b' },
  { type: 'ledger.committed', height: 3, tipHash: 'c' },
  { type: 'ledger.committed', height: 2, tipHash: 'b2' },
];

type Snap = ReturnType<typeof channelMachine.transition>;
type Act = { type: string; params?: Record<string, unknown> };
const key = (s: Snap) => JSON.stringify([s.value, s.status, s.context.height, s.context.tipHash, Object.keys(s.children).sort()]);
// Plain logic over the pure transition: every event in every state, a fresh actor system per step.
const logic: AnyActorLogic = {
  transition: (s, e) => transition(channelMachine, s as Snap, e as never)[0],
  getInitialSnapshot: (_scope, inp) => initialTransition(channelMachine, inp as ChannelInput)[0],
  getPersistedSnapshot: (s) => s,
} as AnyActorLogic;
const traversal = (inp: ChannelInput) => ({ input: inp, events: EVENTS as EventObject[], serializeState: (s: unknown) => key(s as Snap) });
type Node = { state: unknown; transitions: Record<string, { event: ChannelEvent; state: unknown }> };
const adjacency = (inp: ChannelInput) => getAdjacencyMap(logic, traversal(inp)) as unknown as Record<string, Node>;

for (const [name, inp] of VARIANTS) {
  test(`${name}: exactly the forward (height, tip) pairs are reachable; the children never change`, () => {
    const nodes = Object.values(adjacency(inp)).map((n) => n.state as Snap);
    assert.equal(nodes.map((s) => `${s.context.height}:${s.context.tipHash}`).sort(), ['1:a', '2:b', '2:b2', '3:c']);
    const kids = inp.deliver ? ['deliver', 'election'] : ['election'];
    for (const s of nodes) {
      assert.is(s.value, 'active');
      assert.is(s.status, 'active');
      assert.equal(Object.keys(s.children).sort(), kids, key(s));
    }
    // The initial transition invokes the election and spawns deliver only when it has settings.
    const init = (initialTransition(channelMachine, inp)[1] as unknown as Act[]).filter((a) => a.type === 'xstate.spawnChild').map((a) => a.params!.id);
    assert.equal(init.sort(), kids);
  });

  test(`${name}: the height never goes back, the tip changes only with it, and no commit touches a child`, () => {
    let forward = 0;
    let refused = 0;
    for (const n of Object.values(adjacency(inp))) {
      const from = n.state as Snap;
      for (const t of Object.values(n.transitions)) {
        const [to, acts] = transition(channelMachine, from, t.event) as unknown as [Snap, Act[]];
        assert.is(key(to), key(t.state as Snap), 'the pure transition is deterministic');
        const c0 = from.context;
        const c1 = to.context;
        assert.ok(c1.height >= c0.height, `height ${c0.height} → ${c1.height}`);
        if (t.event.height > c0.height) {
          forward++;
          assert.equal([c1.height, c1.tipHash], [t.event.height, t.event.tipHash]);
        } else {
          refused++;
          assert.is(key(to), key(from), `a commit at ${t.event.height} (height ${c0.height}) changed the channel`);
        }
        const touching = acts.filter((a) => ['xstate.spawnChild', 'xstate.stopChild', 'xstate.sendTo', 'xstate.raise'].includes(a.type));
        assert.equal(touching.map((a) => a.type), [], 'a commit spawned, stopped or messaged a child');
      }
    }
    assert.ok(forward >= 4 && refused >= 10, `${forward} forward, ${refused} refused`);
  });

  test(`${name}: shortest paths replayed on the live actor; deliver stays idle, a standby neither leads nor schedules`, () => {
    const paths = getShortestPaths(logic, traversal(inp));
    assert.is(paths.length, 4);
    for (const p of paths) {
      const clock = new SimClock(0);
      const deliverValues = new Set<string>();
      const emitted: string[] = [];
      const actor = createActor(channelMachine, {
        input: inp,
        clock,
        inspect: (ev: InspectionEvent) => {
          const id = (ev.actorRef as { id?: string }).id;
          if (ev.type === '@xstate.snapshot' && id === 'deliver') deliverValues.add(JSON.stringify((ev.snapshot as unknown as { value: unknown }).value));
          if (ev.type === '@xstate.action' && ev.action.type === 'xstate.emit') emitted.push(`${id}:${JSON.stringify((ev.action.params as { event: unknown }).event)}`);
        },
      });
      actor.start();
      for (const step of p.steps.slice(1)) actor.send(step.event as ChannelEvent);
      const s = actor.getSnapshot();
      const want = p.state as Snap;
      assert.equal(s.context, want.context);
      assert.equal(Object.keys(s.children).sort(), Object.keys(want.children).sort());
      // Time passes: the deliver child is never started by the channel.
      clock.advance(60_000);
      const election = s.children.election!.getSnapshot();
      if (inp.deliver) assert.equal([...deliverValues], ['"idle"'], 'the channel started its deliver child');
      else assert.is(deliverValues.size, 0);
      if (inp.election.mode === 'standby') {
        assert.equal(election.value, { static: 'standby' });
        assert.is(election.context.isLeader, false);
        assert.equal(emitted, [], 'a standby channel emits nothing');
        assert.is(clock.pending(), 0, 'a standby channel schedules nothing');
      } else if (inp.election.mode === 'static-leader') {
        assert.equal(emitted, ['election:{"type":"leadership.changed","leading":true}'], 'a static leader announces itself once');
        assert.is(clock.pending(), 0);
      } else {
        assert.ok(clock.pending() > 0, 'a dynamic election keeps its timers on the simulated clock');
      }
      actor.stop();
      assert.is(clock.pending(), 0, 'stopping the channel cancels its children\'s timers');
    }
  });
}

test.run();
