// Model check of the channel machine with xstate/graph, for a standby, a static leader and a dynamic election,
// over its children's events (the election's leadership.changed and the deliver child's deliver.gaveUp, as
// the electionLink port relays them) and the ledger's commits: every (height, tip) the commits can produce is
// reachable and nothing else; the height never goes back and the tip changes only with it; the children are
// fixed at entry (election always, deliver and stateTransfer exactly when given settings) and no transition
// spawns or stops one; the link rule: a change of leadership, and only a change, sends deliver.start (static
// or elected) or deliver.stop, never in a standby or without deliver; deliver.gaveUp makes the election yield
// exactly when the channel can lead; a commit messages no child. Shortest paths are replayed on the live
// actor with a simulated clock: same context, deliver active exactly while leading, and a standby that
// schedules nothing and never leads.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createActor, fromCallback, initialTransition, transition, type AnyActorLogic, type EventObject, type InspectionEvent } from 'xstate';
import { getAdjacencyMap, getShortestPaths } from 'xstate/graph';
import { channelMachine, type ChannelEvent, type ChannelInput } from '../../machines/channel.machine.ts';
import type { ElectionMode } from '../../machines/election.machine.ts';
import { deliverMachine } from '../../machines/deliver.machine.ts';
import { SimClock } from '../../runtime/clock.ts';

const deliver = { channel: 'ch', connTimeoutMs: 3000, reConnectBackoffThresholdMs: 1000, reconnectTotalTimeThresholdMs: 10_000, minimalReconnectIntervalMs: 100 };
const stateTransfer = { height: 1, batchSize: 10, maxRetries: 3, timings: { checkInterval: 1000, responseTimeout: 500 }, seed: 7 };
const input = (mode: ElectionMode, withDeliver: boolean, withState = false): ChannelInput => ({
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
  ...(withState ? { stateTransfer } : {}),
});
const VARIANTS: [string, ChannelInput][] = [
  ['standby with deliver', input('standby', true)],
  ['static leader with deliver', input('static-leader', true)],
  ['dynamic with deliver and state transfer', input('dynamic', true, true)],
  ['dynamic without deliver', input('dynamic', false)],
];
/** A sendTo's target: the child's id (the pure transition resolves it to the child's ref). */
const targetOf = (to: unknown) => (typeof to === 'object' && to !== null ? (to as { id: string }).id : String(to));
/** The channel leads with deliver: a leadership change must reach the deliver child. */
const links = (inp: ChannelInput) => inp.deliver !== undefined && inp.election.mode !== 'standby';

// Behind, equal, one ahead, two ahead, and a second tip at height 2 (a fork the ledger would refuse; the
// channel only mirrors what the ledger reports, and only forward).
const EVENTS: ChannelEvent[] = [
  { type: 'ledger.committed', height: 0, tipHash: 'z' },
  { type: 'ledger.committed', height: 1, tipHash: 'y' },
  { type: 'ledger.committed', height: 2, tipHash: 'b' },
  { type: 'ledger.committed', height: 3, tipHash: 'c' },
  { type: 'ledger.committed', height: 2, tipHash: 'b2' },
  { type: 'leadership.changed', leading: true },
  { type: 'leadership.changed', leading: false },
  { type: 'deliver.gaveUp' },
];

type Snap = ReturnType<typeof channelMachine.transition>;
type Act = { type: string; params?: Record<string, unknown> };
const key = (s: Snap) => JSON.stringify([s.value, s.status, s.context.height, s.context.tipHash, s.context.leading, Object.keys(s.children).sort()]);
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
  test(`${name}: exactly the forward (height, tip) pairs are reachable, led or not; the children never change`, () => {
    const nodes = Object.values(adjacency(inp)).map((n) => n.state as Snap);
    const pairs = ['1:a', '2:b', '2:b2', '3:c'];
    assert.equal(nodes.map((s) => `${s.context.height}:${s.context.tipHash}:${s.context.leading}`).sort(), [...pairs.map((p) => `${p}:false`), ...pairs.map((p) => `${p}:true`)].sort());
    const kids = ['election', ...(inp.deliver ? ['deliver'] : []), ...(inp.stateTransfer ? ['stateTransfer'] : [])].sort();
    for (const s of nodes) {
      assert.is(s.value, 'active');
      assert.is(s.status, 'active');
      assert.equal(Object.keys(s.children).sort(), kids, key(s));
    }
    // The initial transition invokes the election and spawns deliver only when it has settings.
    const init = (initialTransition(channelMachine, inp)[1] as unknown as Act[]).filter((a) => a.type === 'xstate.spawnChild').map((a) => a.params!.id);
    assert.equal(init.sort(), kids);
  });

  test(`${name}: the height never goes back, the tip changes only with it; leadership reaches deliver by the link rule`, () => {
    let forward = 0;
    let refused = 0;
    let linked = 0;
    let yields = 0;
    for (const n of Object.values(adjacency(inp))) {
      const from = n.state as Snap;
      for (const t of Object.values(n.transitions)) {
        const [to, acts] = transition(channelMachine, from, t.event) as unknown as [Snap, Act[]];
        assert.is(key(to), key(t.state as Snap), 'the pure transition is deterministic');
        const c0 = from.context;
        const c1 = to.context;
        assert.ok(c1.height >= c0.height, `height ${c0.height} → ${c1.height}`);
        const lifecycle = acts.filter((a) => ['xstate.spawnChild', 'xstate.stopChild'].includes(a.type));
        assert.equal(lifecycle.map((a) => a.type), [], 'a transition spawned or stopped a child');
        const sends = acts.filter((a) => ['xstate.sendTo', 'xstate.raise'].includes(a.type)).map((a) => `${targetOf((a.params as { to?: unknown }).to)}:${JSON.stringify((a.params as { event?: unknown }).event)}`);
        const e = t.event;
        if (e.type === 'ledger.committed') {
          assert.equal(sends, [], 'a commit messaged a child');
          if (e.height > c0.height) {
            forward++;
            assert.equal([c1.height, c1.tipHash], [e.height, e.tipHash]);
          } else {
            refused++;
            assert.is(key(to), key(from), `a commit at ${e.height} (height ${c0.height}) changed the channel`);
          }
        } else if (e.type === 'leadership.changed') {
          assert.is(c1.leading, e.leading);
          assert.equal([c1.height, c1.tipHash], [c0.height, c0.tipHash]);
          const want = e.leading === c0.leading || !links(inp) ? [] : [`deliver:${JSON.stringify(e.leading ? { type: 'deliver.start', mode: inp.election.mode === 'static-leader' ? 'static' : 'elected' } : { type: 'deliver.stop' })}`];
          assert.equal(sends, want, `leadership ${c0.leading} → ${e.leading}`);
          linked += want.length;
        } else {
          assert.is(key(to), key(from), 'deliver.gaveUp changed the channel');
          const want = links(inp) ? ['election:{"type":"leadership.yield"}'] : [];
          assert.equal(sends, want, 'deliver.gaveUp');
          yields += want.length;
        }
      }
    }
    assert.ok(forward >= 8 && refused >= 20, `${forward} forward, ${refused} refused`);
    if (links(inp)) assert.ok(linked >= 8 && yields >= 8, `${linked} deliver messages, ${yields} yields`);
    else assert.equal([linked, yields], [0, 0]);
  });

  test(`${name}: shortest paths replayed on the live actor; deliver runs exactly while leading, a standby schedules nothing`, () => {
    const paths = getShortestPaths(logic, traversal(inp));
    assert.is(paths.length, 8);
    // The feed is a port of the real peer; here it stays silent (deliver sits in connecting while active).
    const live = channelMachine.provide({ actors: { deliver: deliverMachine.provide({ actors: { feed: fromCallback(() => {}) } }) } });
    for (const p of paths) {
      const clock = new SimClock(0);
      const deliverValues = new Set<string>();
      const emitted: string[] = [];
      const actor = createActor(live, {
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
      const deliverNow = (s.children.deliver?.getSnapshot() as { value?: unknown } | undefined)?.value;
      if (inp.deliver) assert.is(deliverNow !== 'idle', s.context.leading && links(inp), `deliver ${JSON.stringify(deliverNow)} while leading=${s.context.leading}`);
      else assert.is(deliverValues.size, 0);
      // A leadership change reaches deliver only through the link rule; an unlinked deliver never leaves idle.
      if (inp.deliver && !links(inp)) assert.equal([...deliverValues], ['"idle"'], 'a standby channel started its deliver child');
      clock.advance(60_000);
      const election = (s.children.election!.getSnapshot() as unknown as { value: unknown; context: { isLeader: boolean } });
      if (inp.election.mode === 'standby') {
        assert.equal(election.value, { static: 'standby' });
        assert.is(election.context.isLeader, false);
        assert.equal(emitted, [], 'a standby channel emits nothing');
        assert.is(clock.pending(), 0, 'a standby channel schedules nothing');
      } else if (inp.election.mode === 'static-leader') {
        assert.equal(emitted, ['election:{"type":"leadership.changed","leading":true}'], 'a static leader announces itself once');
      } else {
        assert.ok(clock.pending() > 0, 'a dynamic election keeps its timers on the simulated clock');
      }
      actor.stop();
      assert.is(clock.pending(), 0, 'stopping the channel cancels its children\'s timers');
    }
  });
}

test.run();
