// Election failover in simulated time at Fabric's default timings (leaderAliveThreshold 10 s,
// leaderElectionDuration 5 s): kill the leader at a random moment, measure until another peer leads.
// murmur profile (follower wait restarts at every declaration) vs fabric profile (Fabric's loop).
// Run: npm run bench:election [-- TRIALS]
import { Harness } from '../runtime/sim/harness.ts';

const trials = Number(process.argv[2] ?? 20);
const leaders = (h: Harness) => h.running().filter((p) => p.peer!.elections.get('channel1')?.role() === 'leader').map((p) => p.id);
const pct = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)]!;

const out: Record<string, { p50: number; p99: number; max: number }> = {};
for (const profile of ['murmur', 'fabric'] as const) {
  const times: number[] = [];
  for (let t = 0; t < trials; t++) {
    const h = await Harness.create({ orgs: 1, peers: 5, seed: `failover-${t}`, signer: 'sim', peerOptions: { profile } });
    await h.until(() => leaders(h).length === 1, 120_000, 250);
    await h.advance(h.rng.fork('kill').int(10_000));
    const old = leaders(h)[0]!;
    await h.crash(old);
    const at = h.clock.now();
    await h.until(() => leaders(h).length === 1, 120_000, 50);
    times.push(h.clock.now() - at);
    await h.stop();
  }
  out[profile] = { p50: pct(times, 0.5), p99: pct(times, 0.99), max: Math.max(...times) };
}
console.table(out);
console.log(JSON.stringify({ trials, failover_ms_fabric_defaults: out }));
