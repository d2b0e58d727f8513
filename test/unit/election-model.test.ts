// Model check of the election machine with xstate/graph: every state reachable, forbidden states never
// reached, a stable role reachable from everywhere, and shortest paths replayed against the live actor.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createActor, getNextSnapshot, type AnyStateMachine } from 'xstate';
import { getAdjacencyMap, getShortestPaths } from 'xstate/graph';
import { electionMachine, lagVerdict, type ElectionEvent, type ElectionInput, type ElectionMode } from '../../machines/election.machine.ts';
import { SimClock } from '../../runtime/clock.ts';

const input = (mode: ElectionMode, profile: 'murmur' | 'fabric' = 'murmur'): ElectionInput => ({
  self: 'm',
  mode,
  profile,
  timings: { startupGracePeriod: 500, membershipSampleInterval: 100, leaderAliveThreshold: 500, leaderElectionDuration: 500 },
  maxLeaderLag: 10,
});

// Peers 'a' (smaller id than self 'm') and 'z' (larger); heights make either side lag.
const EVENTS: ElectionEvent[] = [
  { type: 'view.changed', size: 1 },
  { type: 'view.changed', size: 2 },
  { type: 'heights.changed', own: 100, peers: { a: 100, z: 100 } },
  { type: 'heights.changed', own: 1, peers: { a: 100, z: 100 } },
  { type: 'heights.changed', own: 100, peers: { a: 1, z: 100 } },
  { type: 'proposal.received', from: 'a' },
  { type: 'proposal.received', from: 'z' },
  { type: 'declaration.received', from: 'a' },
  { type: 'declaration.received', from: 'z' },
  { type: 'leadership.yield' },
  { type: 'timeout.sample' },
  { type: 'timeout.grace' },
  { type: 'timeout.election' },
  { type: 'timeout.declare' },
  { type: 'timeout.follower' },
  { type: 'timeout.yield' },
];

type Snap = ReturnType<typeof electionMachine.transition>;
// The graph helpers' typings do not accept machines that declare emitted events; the logic is the same.
const logic = electionMachine as unknown as AnyStateMachine;
// The key leaves out what only counts (sample sizes) beyond what changes decisions.
const key = (s: Snap) => {
  const c = s.context;
  return JSON.stringify([s.value, c.isLeader, c.leaderExists, c.yielding, [...c.proposals].sort(), c.lastSample === c.viewSize, c.ownHeight, c.heights]);
};
const graph = (mode: ElectionMode, profile: 'murmur' | 'fabric' = 'murmur'): Record<string, { state: unknown; transitions: Record<string, { state: unknown }> }> =>
  getAdjacencyMap(logic, { input: input(mode, profile), events: EVENTS, serializeState: (s) => key(s as Snap) }) as unknown as Record<string, { state: unknown; transitions: Record<string, { state: unknown }> }>;
const leaf = (s: Snap) => JSON.stringify(s.value);

for (const profile of ['murmur', 'fabric'] as const) {
  test(`${profile}: every dynamic state is reachable and a stable role is reachable from every state`, () => {
    const adj = graph('dynamic', profile);
    const nodes = Object.entries(adj);
    const leaves = new Set(nodes.map(([, n]) => leaf(n.state as Snap)));
    for (const want of ['{"dynamic":"startup"}', '{"dynamic":"electing"}', '{"dynamic":{"leading":"declaring"}}', '{"dynamic":"following"}'])
      assert.ok(leaves.has(want), `${want} unreachable; got ${[...leaves]}`);
    // From every node some path reaches leading or following (no dead ends, no trap in startup/electing).
    const stable = (k: string) => /"(leading|following)"/.test(JSON.stringify((adj[k]!.state as Snap).value));
    for (const [k] of nodes) {
      const seen = new Set([k]);
      const queue = [k];
      let found = stable(k);
      while (!found && queue.length) {
        const cur = queue.shift()!;
        for (const t of Object.values(adj[cur]!.transitions)) {
          const nk = key(t.state as Snap);
          if (seen.has(nk)) continue;
          if (stable(nk)) {
            found = true;
            break;
          }
          seen.add(nk);
          queue.push(nk);
        }
      }
      assert.ok(found, `no way to a stable role from ${k}`);
    }
    console.log(`    ${profile}: ${nodes.length} states explored`);
  });
}

test('a standby never leads; a static leader never stops leading', () => {
  for (const [k, n] of Object.entries(graph('standby'))) {
    assert.is((n.state as Snap).context.isLeader, false, k);
    assert.equal((n.state as Snap).value, { static: 'standby' });
  }
  for (const [k, n] of Object.entries(graph('static-leader'))) {
    assert.is((n.state as Snap).context.isLeader, true, k);
    assert.equal((n.state as Snap).value, { static: 'leader' });
  }
});

test('murmur: a lagging peer never becomes leader', () => {
  for (const [k, n] of Object.entries(graph('dynamic'))) {
    const c = (n.state as Snap).context;
    for (const [ek, t] of Object.entries(n.transitions)) {
      const next = (t.state as Snap).context;
      if (!c.isLeader && next.isLeader) assert.ok(next.bestHeight - next.ownHeight <= 10, `became leader while lagging: ${k} --${ek}`);
    }
  }
});

test('murmur: a heights event with the lag verdict of the heights the machine holds changes no decision (the binding leaves such events out)', () => {
  // From every reachable state: the graph's heights events and small moves of each height (a commit, a peer's new
  // StateInfo). Same verdict → same state, role, leader, proposals; a different verdict may change them.
  const decisions = (s: Snap) => JSON.stringify([s.value, s.context.isLeader, s.context.leaderExists, s.context.yielding, [...s.context.proposals].sort()]);
  let same = 0;
  let changed = 0;
  for (const [k, n] of Object.entries(graph('dynamic'))) {
    const s = n.state as Snap;
    const c = s.context;
    const held = lagVerdict(c, c.ownHeight, c.heights);
    const moves: { own: number; peers: Record<string, number> }[] = EVENTS.filter((e) => e.type === 'heights.changed').map((e) => ({ own: e.own, peers: e.peers }));
    for (const d of [1, 9, 11, 50]) {
      moves.push({ own: c.ownHeight + d, peers: c.heights });
      for (const id of Object.keys(c.heights)) moves.push({ own: c.ownHeight, peers: { ...c.heights, [id]: c.heights[id]! + d } });
    }
    for (const m of moves) {
      const next = getNextSnapshot(logic, s as never, { type: 'heights.changed', ...m }) as unknown as Snap;
      if (lagVerdict(c, m.own, m.peers) === held) {
        same++;
        assert.is(decisions(next), decisions(s), `${k} with heights ${JSON.stringify(m)}`);
        // And every later event decides the same with the held heights as with the new ones.
        for (const e of EVENTS.filter((e) => e.type !== 'heights.changed'))
          assert.is(decisions(getNextSnapshot(logic, next as never, e) as unknown as Snap), decisions(getNextSnapshot(logic, s as never, e) as unknown as Snap), `${k} with heights ${JSON.stringify(m)}, then ${e.type}`);
      } else if (decisions(next) !== decisions(s)) changed++;
    }
  }
  assert.ok(same > 100, `${same} same-verdict moves`);
  assert.ok(changed > 0, 'some verdict changes change decisions (the check can fail)');
});

test('shortest paths replayed on the live actor reach the same state and emit the expected messages', () => {
  const paths = getShortestPaths(logic, { input: input('dynamic'), events: EVENTS, serializeState: (s) => key(s as Snap) });
  assert.ok(paths.length > 20, `${paths.length} paths`);
  for (const p of paths) {
    const clock = new SimClock(0);
    const actor = createActor(electionMachine, { input: input('dynamic'), clock });
    const emitted: string[] = [];
    actor.on('*', (e) => emitted.push(e.type === 'leadership.changed' ? `leading:${e.leading}` : e.type));
    actor.start();
    for (const step of p.steps.slice(1)) actor.send(step.event as never);
    const s = actor.getSnapshot();
    assert.equal(s.value, p.state.value);
    assert.is(s.context.isLeader, p.state.context.isLeader);
    // Leadership changes are announced exactly when isLeader flips, and every entry to electing proposes.
    const flips = emitted.filter((e) => e.startsWith('leading:'));
    let leading = false;
    for (const f of flips) {
      assert.is.not(f === 'leading:true', leading, 'alternating leadership callbacks');
      leading = f === 'leading:true';
    }
    assert.is(leading, s.context.isLeader);
    if (s.matches({ dynamic: 'electing' })) assert.ok(emitted.includes('send.proposal'));
    if (s.context.isLeader) assert.ok(emitted.includes('send.declaration'));
    actor.stop();
  }
});

test.run();
