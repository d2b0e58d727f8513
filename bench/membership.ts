// Membership figures in simulated time (issue 4): convergence and dead-detection time for 3 orgs x 8 peers
// at Fabric's default timings, and alive-message bytes per peer per second.
// Run: npm run bench:membership
import { Harness } from '../runtime/sim/harness.ts';
import { parseEnvelope } from '../runtime/wire/envelope.ts';
import { decodeCbor } from '../runtime/wire/cbor.ts';

const seeds = Number(process.argv[2] ?? 5);
const rows: { seed: number; convergeMs: number; deadMs: number; aliveBytesPerPeerPerS: number }[] = [];
for (let seed = 1; seed <= seeds; seed++) {
  const h = await Harness.create({ orgs: 3, peers: 8, seed, signer: 'sim', startJitterMs: 1000, link: { latency: { minMs: 1, maxMs: 10 } } });
  const ext = (id: string) => id.startsWith('peer0.');
  const expected = (id: string, org: string, dead = new Set<string>()) =>
    [...h.peers.values()].filter((q) => q.id !== id && !dead.has(q.id) && (q.org === org || (ext(id) && ext(q.id)))).length;
  const full = (dead = new Set<string>()) => h.running().every((p) => p.peer!.discovery.aliveMembers().length === expected(p.id, p.org, dead));
  const t0 = h.clock.now() - 1000;
  await h.until(() => full(), 120_000, 100);
  const convergeMs = h.clock.now() - t0;

  let aliveBytes = 0;
  h.network.taps.add((_from, _subject, bytes) => {
    const env = parseEnvelope(bytes);
    if (env.ok && (decodeCbor(env.env.payload) as { t?: string }).t === 'alive') aliveBytes += bytes.byteLength;
  });
  const window = 60_000;
  await h.advance(window);
  const aliveBytesPerPeerPerS = aliveBytes / h.peers.size / (window / 1000);

  await h.crash('peer3.org2');
  const crashed = h.clock.now();
  await h.until(() => full(new Set(['peer3.org2'])), 120_000, 100);
  rows.push({ seed, convergeMs, deadMs: h.clock.now() - crashed, aliveBytesPerPeerPerS: Math.round(aliveBytesPerPeerPerS) });
  await h.stop();
}
const p = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
console.table(rows);
console.log(
  JSON.stringify({
    peers: 24,
    convergence_ms_p50: p(rows.map((r) => r.convergeMs), 0.5),
    convergence_ms_max: Math.max(...rows.map((r) => r.convergeMs)),
    dead_detection_ms_p50: p(rows.map((r) => r.deadMs), 0.5),
    dead_detection_ms_max: Math.max(...rows.map((r) => r.deadMs)),
    alive_bytes_per_peer_per_s: p(rows.map((r) => r.aliveBytesPerPeerPerS), 0.5),
  }),
);
