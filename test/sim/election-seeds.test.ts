// 20 random seeds of crashes, restarts and partitions: after faults stop and the network heals, every org
// ends with exactly one leader and every live peer follows it. (More seeds: the simulator's soak run.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Harness } from '../../runtime/sim/harness.ts';

const timings = {
  aliveTimeInterval: 500,
  aliveExpirationTimeout: 2500,
  reconnectInterval: 1500,
  pullInterval: 1000,
  publishStateInfoInterval: 500,
  requestStateInfoInterval: 500,
  startupGracePeriod: 1500,
  membershipSampleInterval: 200,
  leaderAliveThreshold: 1000,
  leaderElectionDuration: 500,
};

test('20 seeds with crashes and partitions end with one leader per org', async () => {
  for (let seed = 1; seed <= 20; seed++) {
    const h = await Harness.create({ orgs: 2, peers: 4, seed: `election-seed-${seed}`, signer: 'sim', timings, link: { latency: { minMs: 1, maxMs: 30 }, loss: 0.02 } });
    try {
      const rng = h.rng.fork('faults');
      const ids = [...h.peers.keys()];
      for (let step = 0; step < 8; step++) {
        const r = rng.int(3);
        if (r === 0) {
          const id = rng.pick(ids);
          if (h.peers.get(id)!.peer) await h.crash(id);
          else await h.start(id);
        } else if (r === 1) {
          const cut = rng.shuffle(ids);
          h.partition([cut.slice(0, 3), cut.slice(3)]);
        } else h.heal();
        await h.advance(500 + rng.int(4000));
      }
      h.heal();
      for (const [id, p] of h.peers) if (!p.peer) await h.start(id);
      const settled = () =>
        ['Org1', 'Org2'].every((org) => {
          const peers = h.running().filter((p) => p.org === org);
          const leaders = peers.filter((p) => p.peer!.elections.get('channel1')?.role() === 'leader');
          if (leaders.length !== 1) return false;
          const leaderId = leaders[0]!.id;
          return peers.every((p) => p.peer!.elections.get('channel1')!.leaderId() === leaderId);
        });
      const ok = await h.until(settled, 30_000, 250);
      const summary = h.running().map((p) => `${p.id}:${p.peer!.elections.get('channel1')?.role()}->${p.peer!.elections.get('channel1')?.leaderId()}`);
      assert.ok(ok, `seed ${seed}: ${summary.join(' ')}`);
    } finally {
      await h.stop();
    }
  }
});

test.run();
