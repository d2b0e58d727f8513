// `npm run bench:profile`: a short CPU profile of the benchmark's network under load, for A/B comparisons of a
// change (run it on both builds, alternately). 3 orgs x 8 peers in this process on a real nats-server, the
// orderer in its own, 4 KB blocks at RATE blocks/s (default 30) for DUR s (default 15) after a 3 s warm-up;
// node:inspector's Profiler at 0.5 ms. Prints latency, verifications and CPU per peer-block (this process's
// CPU over the window / committed peer-blocks, the profiler's cost included) and writes the profile to OUT
// (default /tmp/murmur-load.cpuprofile; open it in Chrome DevTools or summarise it by function).
// BLOCKS=FILE writes every block's append time and latency, and the window's garbage collections, as JSON (what
// the slow blocks have in common: `node scripts/tail-latency.mjs FILE`).
// THREADS=n spreads the peers over n peer threads (bench/lib/peer-threads.ts): one profile per thread, OUT
// with -<thread> before its extension.
import { writeFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { startNatsServer } from '../runtime/nats-server.ts';
import { BenchNetwork, until } from './lib/nats-network.ts';
import { measureLatency } from './lib/latency.ts';
import { startCpuProfile } from './lib/cpu-profile.ts';

async function startOne(intervalUs: number) {
  const p = await startCpuProfile(intervalUs);
  return { stop: async () => [await p.stop()] };
}

const rate = Number(process.env.RATE ?? 30);
const dur = Number(process.env.DUR ?? 15);
const out = process.env.OUT ?? '/tmp/murmur-load.cpuprofile';
const threads = Number(process.env.THREADS ?? 0);
const server = await startNatsServer({});
const net = await BenchNetwork.start({ bus: { kind: 'nats', url: server.url }, orgs: 3, peersPerOrg: 8, profile: 'murmur', blockBytes: 4096, orderer: 'process', leaders: 'static', threads });
try {
  await until(() => net.membershipComplete() && net.leadersSettled(), 120_000, 'settle');
  await net.load(rate, 3000, 4096);
  // PROFILE=0: no profiler (the same window's latency and CPU without its cost).
  const profiler = process.env.PROFILE === '0' ? { stop: async () => [] } : net.threads ? await net.threads.startProfile(500) : await startOne(500);
  const gcs: { at: number; ms: number; kind: number }[] = [];
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push({ at: e.startTime, ms: e.duration, kind: (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0 });
  });
  if (process.env.BLOCKS) gcObserver.observe({ entryTypes: ['gc'] });
  let blocks: { n: number; appendedAt: number; latencyMs: number }[] = [];
  const cpu0 = process.cpuUsage();
  const r = await measureLatency(net, { rate, durationMs: dur * 1000, warmupMs: 0, txBytes: 4096, drainTimeoutMs: 60_000, ...(process.env.BLOCKS ? { onBlocks: (b) => (blocks = b) } : {}) });
  const cpu = process.cpuUsage(cpu0);
  gcObserver.disconnect();
  if (process.env.BLOCKS) writeFileSync(process.env.BLOCKS, JSON.stringify({ blocks, gcs }));
  const profiles = await profiler.stop();
  const outs = profiles.map((p, i) => {
    const file = net.threads ? out.replace(/(\.cpuprofile)?$/, `-${i}$1`) : out;
    writeFileSync(file, JSON.stringify(p));
    return file;
  });
  const peerBlocks = r.blocks * 24;
  console.log(
    JSON.stringify({
      rate,
      seconds: dur,
      latency_p50_ms: r.latency_p50_ms,
      latency_p99_ms: r.latency_p99_ms,
      verifies_per_block_per_peer: r.verifies_per_block_per_peer,
      message_verifies_per_block_per_peer: r.message_verifies_per_block_per_peer,
      message_verifies_by_kind: r.message_verifies_by_kind,
      message_verifies_per_peer_s: r.message_verifies_per_peer_s,
      cpu_us_per_peer_block: Math.round((cpu.user + cpu.system) / peerBlocks),
      event_loop_utilization: r.event_loop_utilization,
      cpu: r.cpu,
      profiles: outs,
    }),
  );
} finally {
  await net.stop();
  await server.stop();
}
