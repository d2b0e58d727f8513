// The lag rule on whole peers (membership, StateInfo heights, real ledgers, the ordering service), in simulated
// time at Fabric's timings. The smallest-PKI-ID peer P misses the chain while it is down, comes back alone
// behind a partition while the ordering service is unreachable (so it leads its side of the org at its old
// height), then the network heals with P far more than maxLeaderLag blocks behind the others.
//   murmur profile: P steps down at once and the up-to-date leader Q keeps leading throughout.
//   fabric profile: P's smaller PKI-ID wins: Q steps down and P takes over (the RFC 0011 failure).
// The ordering service stays unreachable until the election has settled: with it reachable, P (leading its side)
// catches up from it within a deliver back-off and is no longer behind when the two sides meet.
import { test } from '../helpers/test.ts';
import * as assert from 'uvu/assert';
import { Harness } from '../../runtime/sim/harness.ts';
import { FABRIC_TIMINGS as T } from '../helpers/timings.ts';

const CH = 'channel1';
const MAX_LAG = 10;
const GAP = 60;

const role = (h: Harness, id: string) => h.peers.get(id)!.peer?.elections.get(CH)?.role() ?? null;
const leaders = (h: Harness) => h.running().filter((p) => role(h, p.id) === 'leader').map((p) => p.id).sort();
const height = (h: Harness, id: string) => h.ledger(id)?.height() ?? 0;

async function healWithLaggingSmallestPeer(profile: 'murmur' | 'fabric') {
  const h = await Harness.create({
    orgs: 1,
    peers: 4,
    seed: `election-lag-${profile}`,
    signer: 'sim',
    peerOptions: { profile, maxLeaderLag: MAX_LAG },
    orderer: { maxMessageCount: 1 },
  });
  try {
    const byPki = [...h.peers.values()].sort((a, b) => (a.pkiIdHex < b.pkiIdHex ? -1 : 1));
    const p = byPki[0]!.id;
    const others = byPki.slice(1).map((x) => x.id);
    assert.ok(await h.until(() => leaders(h).length === 1, 60_000, 250), `a leader: ${leaders(h)}`);

    // P goes down; the others elect among themselves and the chain grows GAP blocks past P's ledger.
    await h.crash(p);
    assert.ok(await h.until(() => leaders(h).length === 1, 3 * T.leaderAliveThreshold + T.leaderElectionDuration, 250), `a leader without ${p}`);
    for (let i = 0; i < GAP; i++) {
      assert.ok(h.submit(CH, new TextEncoder().encode(`tx-${i}`)).ok);
      await h.advance(100);
    }
    const target = h.ordering.height(CH);
    assert.ok(await h.until(() => others.every((id) => height(h, id) === target), 4 * T.pullInterval, 250), 'the others hold the whole chain');

    // P comes back alone, cut off from its org and from the ordering service: it leads its side at its old height.
    h.ordering.setAvailable(false);
    h.partition([[p], others]);
    await h.start(p);
    assert.ok(
      await h.until(() => leaders(h).length === 2, T.startupGracePeriod + T.leaderElectionDuration + T.leaderAliveThreshold, 250),
      `one leader per side: ${leaders(h)}`,
    );
    const q = leaders(h).find((id) => id !== p)!;
    assert.ok(target - height(h, p) > MAX_LAG, `${p} at ${height(h, p)} is far behind ${target}`);

    // Heal the bus while the ordering service is still unreachable, so P cannot simply catch up from it: that is
    // when leading from behind hurts (RFC 0011). Record every leadership change with P's height at that moment.
    const changes: string[] = [];
    const subs = [p, q].map((id) =>
      h.peers.get(id)!.peer!.elections.get(CH)!.leading$.subscribe((leading) => changes.push(`${id}:${leading ? 'leads' : 'steps down'}@p=${height(h, p)}`)),
    );
    changes.length = 0;
    h.heal();
    const settled = () => leaders(h).length === 1 && h.running().every((x) => h.peers.get(x.id)!.peer!.elections.get(CH)!.leaderId() === leaders(h)[0]);
    const healed = await h.until(settled, 3 * T.leaderAliveThreshold + 2 * T.publishStateInfoInterval, 250);
    await h.advance(2 * T.leaderAliveThreshold);
    const afterHeal = { leaders: leaders(h), changes: [...changes], healed };

    // The ordering service comes back: the chain goes on under the remaining leader, with no block lost.
    h.ordering.setAvailable(true);
    for (let i = 0; i < 10; i++) {
      h.submit(CH, new TextEncoder().encode(`after-${i}`));
      await h.advance(1000);
    }
    const end = h.ordering.height(CH);
    const complete = await h.until(() => [p, ...others].every((id) => height(h, id) === end), 4 * T.pullInterval, 250);
    for (const s of subs) s.unsubscribe();
    return { p, q, gapAt: target, afterHeal, changes, leaders: leaders(h), complete };
  } finally {
    await h.stop();
  }
}

test('murmur profile: after a heal, a far-behind smallest-id peer does not take over; the up-to-date leader stays', async () => {
  const r = await healWithLaggingSmallestPeer('murmur');
  const log = r.changes.join(', ');
  assert.ok(r.afterHeal.healed, `one leader after the heal: ${log}`);
  assert.equal(r.afterHeal.leaders, [r.q], `leaders ${r.afterHeal.leaders}, expected ${r.q} (not ${r.p}); ${log}`);
  // P steps down while still far behind, and Q never does; P catches up by gossip and does not lead again.
  assert.equal(r.changes, [`${r.p}:steps down@p=1`], log);
  assert.equal(r.leaders, [r.q], `after the orderer returned: ${r.leaders}; ${log}`);
  assert.ok(r.complete, 'every peer holds the whole chain');
});

test('fabric profile: after a heal, the far-behind smallest-id peer takes over from the up-to-date leader', async () => {
  const r = await healWithLaggingSmallestPeer('fabric');
  const log = r.changes.join(', ');
  assert.ok(r.afterHeal.healed, `one leader after the heal: ${log}`);
  assert.equal(r.afterHeal.leaders, [r.p], `leaders ${r.afterHeal.leaders}, expected ${r.p}; ${log}`);
  // Q hands over to P while P still holds only the genesis block.
  assert.equal(r.changes, [`${r.q}:steps down@p=1`], log);
  assert.ok(r.gapAt - 1 > MAX_LAG);
  assert.equal(r.leaders, [r.p]);
  assert.ok(r.complete, 'every peer holds the whole chain');
});

test.run();
