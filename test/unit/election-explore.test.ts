// System-level model check of election (runtime/sim/explore.ts): three pure election machines over every
// interleaving of delivery, loss and timer expiry, with a small depth bound so the default run stays fast.
// `npm run sim:explore` explores the whole bounded state space (see its output for the figures).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { exploreElection, violations } from '../../runtime/sim/explore.ts';
import { electionMachine } from '../../machines/election.machine.ts';

for (const profile of ['murmur', 'fabric'] as const) {
  test(`${profile}: safety, recovery and timer hygiene hold in every state within 8 transitions`, () => {
    const r = exploreElection({ profile, linkCapacity: 1, maxDepth: 8 });
    assert.equal(violations(r), []);
    assert.ok(r.states > 20_000, `${r.states} states`);
    // The adversary is strong enough to matter: unsettled states with two and three leaders are reached.
    assert.is(r.maxLeadersSeen, 3);
    console.log(`    ${profile}: ${r.states} states, ${r.transitions} transitions, depth ${r.depth}, ${r.ms} ms`);
  });
}

test('murmur lag rule, complete exploration: the preferred peer lags 99 blocks, never leads, and b or c is elected', () => {
  const r = exploreElection({ profile: 'murmur', linkCapacity: 1, heights: [1, 100, 100] });
  assert.is(r.complete, true);
  assert.equal(r.reachabilityViolations, [], 'from every state a followed leader is reachable');
  assert.equal(violations(r), []);
  assert.is(r.maxLeadersSeen, 2, 'only b and c ever lead');
  console.log(`    murmur, a lagging: ${r.states} states (complete), depth ${r.depth}, ${r.ms} ms`);
});

test('a depth-bounded exploration is not complete and does not judge reachability', () => {
  const r = exploreElection({ profile: 'murmur', linkCapacity: 1, maxDepth: 3 });
  assert.is(r.complete, false);
  assert.is(r.reachabilityViolations, null, 'reachability is only judged on complete explorations');
});

test('the explorer catches broken machines: a leader that never steps down, nobody taking over, the lag rule ignored', () => {
  const stubborn = electionMachine.provide({ guards: { fromPreferred: () => false } });
  const s = exploreElection({ profile: 'murmur', linkCapacity: 1, maxDepth: 8, machine: stubborn });
  assert.ok(s.safetyViolations.length > 0, 'two leaders that never resolve');
  const shy = electionMachine.provide({ guards: { mayLead: () => false } });
  const l = exploreElection({ profile: 'fabric', linkCapacity: 1, maxDepth: 6, machine: shy });
  assert.ok(l.recoveryViolations.length > 0, 'nobody ever leads');
  const lagBlind = electionMachine.provide({
    guards: {
      shouldElect: ({ context }) => !context.leaderExists && !context.yielding,
      mayLead: ({ context }) => !context.leaderExists && !context.yielding && !context.proposals.some((p) => p < context.self),
    },
  });
  const g = exploreElection({ profile: 'murmur', linkCapacity: 1, maxDepth: 8, heights: [1, 100, 100], machine: lagBlind });
  assert.ok(g.safetyViolations.some((v) => v.startsWith('lagging a leads')), 'a machine that ignores the lag rule lets the lagging peer lead');
  const leaky = electionMachine.provide({ actions: { stepDown: () => {} } });
  const t = exploreElection({ profile: 'murmur', linkCapacity: 1, maxDepth: 8, machine: leaky });
  assert.ok(violations(t).length > 0, 'a leader that forgets to step down is caught');
});

test.run();
