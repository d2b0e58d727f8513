// Fabric's election scenarios (gossip/election/election_test.go, digest §7.1) on the pure machine with
// Fabric's test timings, plus murmur's differences: the restarting follower timer and the lag rule.
import { test } from '../helpers/test.ts';
import * as assert from 'uvu/assert';
import { ElectionMesh } from '../helpers/election-mesh.ts';
import { bestHeightOf } from '../../machines/election.machine.ts';

const ids = (n: number) => Array.from({ length: n }, (_, i) => `p${i}`);

test('fabric election/TestInitPeersAtSameTime', () => {
  const m = new ElectionMesh('fabric');
  for (const id of ids(10).reverse()) m.start(id);
  m.advance(500 + 500 + 200);
  assert.equal(m.leaders(), ['p0']);
  assert.equal(m.callbacks.get('p0'), [true]);
  m.stopAll();
});

test('fabric election/TestInitPeersStartAtIntervals', () => {
  for (const profile of ['fabric', 'murmur'] as const) {
    const m = new ElectionMesh(profile);
    for (const id of ['p3', 'p2', 'p1', 'p0']) {
      m.start(id);
      m.advance(750);
    }
    m.advance(2000);
    assert.equal(m.leaders(), ['p3'], `${profile}: the first starter stays leader (incumbency)`);
    m.stopAll();
  }
});

test('fabric election/TestConvergence', () => {
  const m = new ElectionMesh('fabric');
  m.partition([ids(4), ['p4', 'p5', 'p6', 'p7']]);
  for (const id of [...ids(4).reverse(), 'p4', 'p5', 'p6', 'p7']) m.start(id);
  m.partition([ids(4), ['p4', 'p5', 'p6', 'p7']]);
  m.advance(2000);
  assert.equal(m.leaders(), ['p0', 'p4']);
  m.heal();
  m.advance(5 * 500);
  assert.equal(m.leaders(), ['p0']);
  assert.equal(m.callbacks.get('p4'), [true, false]);
});

test('a proposal from a peer that has since gone costs one round, not the election (a lost round clears proposals)', () => {
  for (const profile of ['fabric', 'murmur'] as const) {
    const m = new ElectionMesh(profile);
    for (const id of ['p1', 'p2']) m.start(id);
    m.advance(2000);
    assert.equal(m.leaders(), ['p1']);
    // p0 (preferred over both) proposed once and went away: partitioned off, or crashed right after.
    for (const id of ['p1', 'p2']) m.actors.get(id)!.send({ type: 'proposal.received', from: 'p0' });
    m.stop('p1');
    m.advance(20 * 500);
    assert.equal(m.leaders(), ['p2'], `${profile}: the survivor leads (roles: p2 ${m.role('p2')})`);
    m.stopAll();
  }
});

test('fabric election/TestLeadershipTakeover', () => {
  for (const profile of ['fabric', 'murmur'] as const) {
    const m = new ElectionMesh(profile);
    for (const id of ['p5', 'p4', 'p3', 'p2']) {
      m.start(id);
      m.advance(750);
    }
    assert.equal(m.leaders(), ['p5']);
    m.stop('p5');
    m.advance(250 + 3 * 500);
    assert.equal(m.leaders(), ['p2'], profile);
    m.stopAll();
  }
});

test('fabric election/TestYield', () => {
  const m = new ElectionMesh('fabric');
  for (const id of ids(6)) m.start(id);
  m.advance(2000);
  assert.equal(m.leaders(), ['p0']);
  m.yield('p0');
  m.yield('p0');
  assert.equal(m.callbacks.get('p0'), [true, false], 'stepped down once; the second yield is a no-op');
  m.advance(3000);
  assert.is(m.leaders().length, 1);
  assert.is.not(m.leaders()[0], 'p0');
  m.advance(2 * 500);
  assert.is.not(m.leaders()[0], 'p0');
  m.stopAll();
});

test('fabric election/TestYieldSinglePeer', () => {
  const m = new ElectionMesh('fabric');
  m.start('p0');
  m.advance(2000);
  assert.equal(m.leaders(), ['p0']);
  m.yield('p0');
  assert.equal(m.leaders(), []);
  m.advance(6 * 500 - 100);
  assert.equal(m.leaders(), [], 'no proposal while yielding');
  m.advance(2000);
  assert.equal(m.leaders(), ['p0'], 'regains leadership after the yield period');
});

test('fabric election/TestYieldAllPeers', () => {
  const m = new ElectionMesh('fabric');
  for (const id of ids(2)) m.start(id);
  m.advance(2000);
  assert.equal(m.leaders(), ['p0']);
  m.yield('p0');
  m.advance(1500);
  assert.equal(m.leaders(), ['p1']);
  // p1 yields while p0's own yield period (6 × 500 ms) still runs: p0 ended it when it saw p1 lead.
  m.yield('p1');
  m.advance(1500);
  assert.equal(m.leaders(), ['p0']);
});

test('fabric election/TestPartition', () => {
  const m = new ElectionMesh('fabric');
  for (const id of ids(6)) m.start(id);
  m.advance(2000);
  assert.equal(m.leaders(), ['p0']);
  m.isolateAll();
  m.advance(250 + 2 * 500 + 1000);
  assert.equal(m.leaders(), ids(6), 'every isolated peer leads');
  m.heal();
  m.advance(250 + 2 * 500);
  assert.equal(m.leaders(), ['p0']);
  for (const id of ids(6).slice(1)) assert.equal(m.callbacks.get(id)!.at(-1), false, `${id} got callback(false)`);
});

test('murmur: followers restart their wait at every declaration, so failover ≈ threshold + election duration', () => {
  const failover = (profile: 'fabric' | 'murmur') => {
    const t = { startupGracePeriod: 15_000, membershipSampleInterval: 1000, leaderAliveThreshold: 10_000, leaderElectionDuration: 5000 };
    const m = new ElectionMesh(profile, t);
    for (const id of ids(4)) m.start(id);
    m.advance(30_000);
    assert.equal(m.leaders(), ['p0']);
    m.advance(3333);
    m.stop('p0');
    const at = m.clock.now();
    while (m.leaders().length === 0 && m.clock.now() - at < 60_000) m.advance(100);
    m.stopAll();
    return m.clock.now() - at;
  };
  const mur = failover('murmur');
  const fab = failover('fabric');
  assert.ok(mur <= 10_000 + 5000 + 200, `murmur failover ${mur} ms`);
  assert.ok(fab >= mur, `fabric ${fab} ms is not faster`);
});

test('murmur lag rule: a far-behind smallest-id peer does not take over after a heal (fabric profile: it does)', () => {
  const run = (profile: 'fabric' | 'murmur') => {
    const m = new ElectionMesh(profile);
    for (const id of ['p1', 'p2', 'p3']) m.start(id, 100);
    m.advance(2000);
    m.start('p0', 1);
    m.partition([['p0'], ['p1', 'p2', 'p3']]);
    m.advance(3000);
    assert.equal(m.leaders(), ['p0', 'p1']);
    m.heal();
    m.advance(5000);
    const l = m.leaders();
    m.stopAll();
    return l;
  };
  assert.equal(run('murmur'), ['p1']);
  assert.equal(run('fabric'), ['p0']);
});

test('murmur lag rule: a lagging peer does not propose; it may lead again once caught up, without flapping', () => {
  const m = new ElectionMesh('murmur');
  m.start('p1', 100);
  m.start('p2', 100);
  m.start('p0', 1);
  m.advance(3000);
  assert.equal(m.leaders(), ['p1']);
  m.setHeight('p0', 100);
  m.advance(5000);
  assert.equal(m.leaders(), ['p1'], 'incumbent keeps leading once p0 caught up');
  assert.equal(m.callbacks.get('p1'), [true]);
  assert.equal(m.callbacks.get('p0'), []);
  m.stopAll();
});

test('murmur lag rule: one peer alone cannot make the others lag (a claim of 2^53 moves nothing)', () => {
  // The lag rule measures against the second-highest height: p2's lie leaves p0 and p1 "up to date", so the
  // preferred peer (p0) leads, not the liar.
  const m = new ElectionMesh('murmur');
  m.start('p0', 10);
  m.start('p1', 10);
  m.start('p2', 2 ** 53);
  m.advance(3000);
  assert.equal(m.leaders(), ['p0']);
  m.stopAll();
  // With only two peers one of them cannot tell a liar from a peer really ahead: neither counts as lagging.
  const two = new ElectionMesh('murmur');
  two.start('p1', 100);
  two.start('p0', 1);
  two.advance(3000);
  assert.equal(two.leaders(), ['p0']);
  two.stopAll();
});

test('bestHeightOf: the second-highest of the view, own height included; bad claims ignored', () => {
  assert.is(bestHeightOf(5, {}), 5);
  assert.is(bestHeightOf(5, { a: 9 }), 5);
  assert.is(bestHeightOf(5, { a: 9, b: 7 }), 7);
  assert.is(bestHeightOf(5, { a: 2 ** 53, b: 7, c: 6 }), 7);
  assert.is(bestHeightOf(5, { a: -3, b: Number.NaN }), 5);
});

test.run();
