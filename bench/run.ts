// `npm run bench [-- --quick]`: the benchmark suite (never part of `npm test`). On a real nats-server
// (started here on loopback), every scenario in the same run for murmur's default profile and for the `fabric`
// profile (peer.gossip.murmur.profile = fabric, Fabric's stock gossip), plus the raw NATS floor:
//   latency / copies / verifies   orgs x peers in this process (bench/lib/nats-network.ts), the orderer in its
//                                 own, 4 KB blocks at a steady rate (bench/lib/latency.ts)
//   CPU per peer-block            over the latency window: this process's CPU (every peer; process.cpuUsage,
//                                 less the profiler's thread) / (blocks × peers), the orderer's and
//                                 nats-server's apart (/proc/<pid>/stat)
//   CPU profile                   the same window sampled by node:inspector's Profiler (1 ms), each sample's
//                                 time attributed to a category by its stack (bench/lib/cpu-profile.ts), in µs
//                                 per peer-block (--no-cpu-profile: none; --cpuprofile-dir DIR: also writes the
//                                 raw profiles, <profile>-latency.cpuprofile, for DevTools)
//   throughput                    a doubling ramp of block rates on the same network, then bisection
//   sustained                     the highest rate every peer sustains for 60 s (10 s in --quick): p99 < 1 s and
//                                 no growing backlog (defined in bench/lib/latency.ts), three steps from the
//                                 ramp's figure (down × 0.7 on a failure, up halfway to the lowest failed rate)
//   floor                         a plain NATS publish of the same block to as many subscribers (bench/lib/floor.ts)
//   failover                      bench/failover.ts: fast timings on peer processes; Fabric's timings simulated
//   catch-up                      a peer joining at height 1 when the chain holds N blocks (bench/lib/catchup.ts)
//   idle                          CPU per second of 24 idle peers in one process, local and fabric timings
//                                 (scripts/measure-idle.mjs; issue 25)
//   full run only                 100 peers in one process, in-memory bus and NATS (bench/lib/scale.ts);
//                                 micro figures (bench/lib/micro.ts)
// Prints one table (scripts/bench-table.mjs, which also regenerates the README's) and writes
// bench/results/latest.json (`--out FILE` to write elsewhere).
// --threads N: the latency, throughput and sustained network's peers spread over N peer threads of this
// process (bench/lib/peer-threads.ts; peer i of each org on thread i mod N) instead of all on this thread; the
// CPU profile then adds up the threads' profiles. Default 0 (one thread): on two cores that measured better.
// --quick: 2 orgs x 4 peers at 20 blocks/s for 15 s, sustained steps of 10 s, 3 failover trials (fast
// timings), catch-up of 5 000 blocks, no scale or micro figures: about 4 minutes.
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findNatsServer, startNatsServer, type NatsServer } from '../runtime/nats-server.ts';
import { encodeBlock, makeBlock, ZERO_HASH } from '../runtime/ledger/block.ts';
import { BENCH_SETTINGS, BenchNetwork, until } from './lib/nats-network.ts';
import { measureLatency, measureSustained, measureThroughput, type LatencyResult, type SustainResult, type ThroughputResult } from './lib/latency.ts';
import { CATEGORIES, type CpuProfileSummary } from './lib/cpu-profile.ts';
import { measureFloor, type FloorResult } from './lib/floor.ts';
import { measureCatchup, type CatchupResult, type CatchupShared } from './lib/catchup.ts';
import { measureScale, type ScaleResult } from './lib/scale.ts';
import { measureControlTraffic, type ControlTraffic } from './lib/control-traffic.ts';
import { plotControlTraffic } from './lib/control-plot.ts';
import { measureMicro, type MicroResult } from './lib/micro.ts';
import { round, tx } from './lib/stats.ts';
import { measureFailover } from './failover.ts';
import { benchTable } from '../scripts/bench-table.mjs';

type Profile = 'murmur' | 'fabric';
type FailoverResult = Awaited<ReturnType<typeof measureFailover>>;

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const outIdx = args.indexOf('--out');
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = outIdx >= 0 ? args[outIdx + 1]! : join(root, 'bench', 'results', 'latest.json');
const PROFILE = !args.includes('--no-cpu-profile');
const profDirIdx = args.indexOf('--cpuprofile-dir');
const PROFILE_DIR = profDirIdx >= 0 ? args[profDirIdx + 1]! : null;
const threadsIdx = args.indexOf('--threads');
const THREADS = threadsIdx >= 0 ? Number(args[threadsIdx + 1]) : 0;
if (!Number.isInteger(THREADS) || THREADS < 0 || THREADS > 64) throw new Error(`--threads must be an integer 0..64, got ${args[threadsIdx + 1]}`);

const S = quick
  ? { orgs: 2, peersPerOrg: 4, rate: 20, windowS: 15, warmupS: 1, settleS: 0.5, floorS: 3, rates: [80, 160, 320, 640, 1280], stepS: 3, refine: 0, sustainS: 10, sustainSteps: 3, failoverTrials: 3, fabricFailover: false, catchupBlocks: 5000, scale: false, micro: false }
  : { orgs: 3, peersPerOrg: 8, rate: 50, windowS: 60, warmupS: 5, settleS: 1, floorS: 60, rates: [25, 50, 100, 200, 400, 800, 1600], stepS: 15, refine: 2, sustainS: 60, sustainSteps: 3, failoverTrials: 20, fabricFailover: true, catchupBlocks: 20_000, scale: true, micro: true };
const TX_BYTES = 4096;
const PEERS = S.orgs * S.peersPerOrg;
/** Catch-up only: the first anti-entropy round comes after 1 s instead of 10 s (the rate leaves that wait out). */
const CATCHUP_SETTINGS = { 'peer.gossip.state.checkInterval': '1s' };

/** Both profiles' catch-up runs share the identities, the chain and its stream (built once). */
const catchupShared: CatchupShared = {};

const t0 = performance.now();
const say = (line: string) => console.error(`[bench ${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${line}`);

interface ProfileRun {
  dissemination: string;
  /** The orderer process's clock − this one's, and the ping round trip that measured it (ms). */
  clock: { offset_ms: number | null; rtt_ms: number | null };
  latency: Omit<LatencyResult, 'cpu_profile'>;
  throughput: ThroughputResult;
  sustained: SustainResult | null;
  cpuProfile: CpuProfileSummary | null;
  catchup: CatchupResult | null;
  failoverFast: FailoverResult | null;
  failoverFabric: FailoverResult | null;
  errors: string[];
}

async function attempt<T>(what: string, errors: string[], fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn();
  } catch (e) {
    const msg = `${what}: ${(e as Error).message}`;
    errors.push(msg);
    say(`FAILED ${msg}`);
    return null;
  }
}

/** The lowest rate of the ramp that failed above `rate` (null: none did). */
function failedAbove(t: ThroughputResult, rate: number): number | null {
  const failed = t.steps.filter((s) => !s.held && s.rate > rate).map((s) => s.rate);
  return failed.length ? Math.min(...failed) : null;
}

async function runProfile(server: NatsServer, profile: Profile): Promise<ProfileRun> {
  const errors: string[] = [];
  say(`${profile}: ${S.orgs} orgs x ${S.peersPerOrg} peers in this process (${THREADS ? `${THREADS} peer threads` : 'one thread'}) on NATS`);
  // The orderer runs in its own process, so the offered block rate does not depend on how busy the peers keep
  // this one. Static org leaders (peer0 of each org, as in Fabric's sample core.yaml): this scenario measures
  // dissemination, and with elected leaders a saturated event loop delays leadership messages past
  // leaderAliveThreshold into re-elections that stall whole orgs. Failover is measured on its own below.
  const net = await BenchNetwork.start({ bus: { kind: 'nats', url: server.url }, orgs: S.orgs, peersPerOrg: S.peersPerOrg, profile, blockBytes: TX_BYTES, orderer: 'process', leaders: 'static', threads: THREADS });
  const clock = { offset_ms: round(net.ordererProcess!.offsetMs, 3), rtt_ms: round(net.ordererProcess!.rttMs, 3) };
  let latency: Omit<LatencyResult, 'cpu_profile'>;
  let cpuProfile: CpuProfileSummary | null;
  let throughput: ThroughputResult;
  let sustained: SustainResult | null;
  try {
    const settle = await until(() => net.membershipComplete() && net.leadersSettled(), 120_000, 'membership and the org leaders');
    say(`${profile}: settled after ${Math.round(settle)} ms (dissemination ${net.dissemination}); ${S.rate} blocks/s for ${S.windowS} s`);
    const childPids = { orderer: net.ordererProcess!.pid!, nats_server: server.pid };
    const onProfile = PROFILE_DIR
      ? (p: unknown, thread: number | null) => {
          mkdirSync(PROFILE_DIR, { recursive: true });
          writeFileSync(join(PROFILE_DIR, `${profile}-latency${thread === null ? '' : `-thread${thread}`}.cpuprofile`), JSON.stringify(p));
        }
      : undefined;
    const { cpu_profile, ...lat } = await measureLatency(net, { rate: S.rate, durationMs: S.windowS * 1000, warmupMs: S.warmupS * 1000, settleMs: S.settleS * 1000, txBytes: TX_BYTES, drainTimeoutMs: 120_000, childPids, profile: PROFILE, onProfile });
    latency = lat;
    cpuProfile = cpu_profile;
    if (latency.cpu_profile_error) errors.push(`${profile} cpu profile: ${latency.cpu_profile_error}`);
    const c = latency.cpu.us_per_peer_block;
    say(`${profile}: latency p50 ${latency.latency_p50_ms} ms p99 ${latency.latency_p99_ms} ms, copies ${latency.copies_per_peer}, verifies ${latency.verifies_per_block_per_peer} + ${latency.message_verifies_per_block_per_peer}; CPU µs per peer-block: peers ${c.peers}, orderer ${c.orderer}, nats-server ${c.nats_server}`);
    if (cpuProfile) say(`${profile}: profile (µs per peer-block) ${Object.entries(cpuProfile.us_per_peer_block).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    throughput = await measureThroughput(net, { rates: S.rates, stepMs: S.stepS * 1000, txBytes: TX_BYTES, refine: S.refine, drainTimeoutMs: 180_000 });
    say(`${profile}: throughput ${throughput.throughput_blocks_per_s} blocks/s (${throughput.steps.map((s) => `${s.rate}${s.held ? '✓' : '✗'}`).join(' ')})`);
    const start = throughput.throughput_blocks_per_s ?? S.rates[0]! / 2;
    sustained = await attempt(`${profile} sustained`, errors, () =>
      measureSustained(net, {
        start,
        stepMs: S.sustainS * 1000,
        maxSteps: S.sustainSteps,
        txBytes: TX_BYTES,
        failedAbove: failedAbove(throughput, start),
        minRate: 2,
        drainTimeoutMs: 180_000,
        log: (s) => say(`${profile}: sustained ${s.rate} blocks/s for ${S.sustainS} s: ${s.held ? 'held' : `failed (${s.limit})`}, p99 ${s.latency_p99_ms ?? '≥ 1000'} ms, lag ${s.lag_first_mean} → ${s.lag_last_mean}`),
      }),
    );
    say(`${profile}: sustained ${sustained?.sustained_blocks_per_s ?? 'none'} blocks/s (lowest failed: ${sustained?.lowest_failed_blocks_per_s ?? 'none'})`);
  } finally {
    await net.stop();
  }
  const catchup = await attempt(`${profile} catch-up`, errors, async () => {
    say(`${profile}: catch-up of ${S.catchupBlocks} blocks`);
    const r = await measureCatchup({ url: server.url, profile, blocks: S.catchupBlocks, txBytes: TX_BYTES, settings: CATCHUP_SETTINGS, shared: catchupShared });
    say(`${profile}: catch-up ${r.catchup_blocks_per_s} blocks/s`);
    return r;
  });
  const failoverFast = await attempt(`${profile} failover (fast)`, errors, async () => {
    say(`${profile}: failover, ${S.failoverTrials} trials, fast timings`);
    const r = await measureFailover({ trials: S.failoverTrials, timings: 'fast', profile, log: (l) => say(`  ${l}`) });
    say(`${profile}: failover p50 ${r.p50_ms} ms p99 ${r.p99_ms} ms`);
    return r;
  });
  const failoverFabric = S.fabricFailover
    ? await attempt(`${profile} failover (fabric timings)`, errors, async () => {
        say(`${profile}: failover, ${S.failoverTrials} trials, Fabric's timings (simulated)`);
        const r = await measureFailover({ trials: S.failoverTrials, timings: 'fabric', profile });
        say(`${profile}: failover at Fabric's timings p50 ${r.p50_ms} ms p99 ${r.p99_ms} ms (simulated)`);
        return r;
      })
    : null;
  return { dissemination: net.dissemination, clock, latency: latency!, throughput: throughput!, sustained: sustained!, cpuProfile: cpuProfile!, catchup, failoverFast, failoverFabric, errors };
}

function figures(r: ProfileRun, floor: FloorResult, profile: Profile, blockBytes: number) {
  return {
    latency_p50_ms: r.latency.latency_p50_ms,
    latency_p99_ms: r.latency.latency_p99_ms,
    floor_p99_ms: floor.floor_p99_ms,
    copies_per_peer: r.latency.copies_per_peer,
    verifies_per_block_per_peer: r.latency.verifies_per_block_per_peer,
    message_verifies_per_block_per_peer: r.latency.message_verifies_per_block_per_peer,
    cpu_us_per_peer_block: r.latency.cpu.us_per_peer_block.peers ?? null,
    throughput_blocks_per_s: r.throughput.throughput_blocks_per_s,
    sustained_blocks_per_s: r.sustained?.sustained_blocks_per_s ?? null,
    failover_p99_ms_fast: r.failoverFast?.p99_ms ?? null,
    failover_p99_ms_fabric_defaults: r.failoverFabric?.p99_ms ?? null,
    catchup_blocks_per_s: r.catchup?.catchup_blocks_per_s ?? null,
    /** µs of the peers' thread per peer-block in the latency window, by category (null: not profiled). */
    cpu_profile: r.cpuProfile,
    peers: PEERS,
    cores: cpus().length,
    config: {
      profile,
      dissemination: r.dissemination,
      orgs: S.orgs,
      peers_per_org: S.peersPerOrg,
      channels: 1,
      leaders: 'static: peer0 of each org (peer.gossip.orgLeader), the others standby',
      placement: `${THREADS ? `the peers in ${THREADS} peer threads of this process (peer i of each org on thread i mod ${THREADS}; --threads)` : 'every peer in this process (one thread; --threads N spreads them over N peer threads)'}, one NATS connection each; the orderer in a process of its own; nats-server on loopback`,
      ledger: 'memory',
      tx_bytes: TX_BYTES,
      block_bytes: blockBytes,
      txs_per_block: 1,
      blocks_per_s: S.rate,
      window_s: S.windowS,
      timings: { ...BENCH_SETTINGS, rest: "the schema's defaults (Fabric's): pullInterval 4s, state.checkInterval 10s, propagatePeerNum 3, …" },
      latency: 'orderer append acknowledged by JetStream → commit on the last peer; the orderer process clock mapped to this one by a ping-measured offset',
      orderer_clock: r.clock,
      copies: 'payload copies received (push/tree DataMsg, pull update items, state-transfer blocks, the leader’s copy from the orderer; tree announcements not counted) / (blocks × peers)',
      verifies: 'orderer-key signature verifications (gossip intake, ledger commit) / (blocks × peers)',
      message_verifies: 'every other signature verification (envelopes, secrets) / (blocks × peers)',
      cpu: 'CPU time from the first append of the latency window until every peer committed its last block / (blocks × peers): cpu_us_per_peer_block is this process (every peer and the bench harness, all threads, process.cpuUsage) less the V8 profiler thread (/proc/self/task); the orderer and nats-server apart under details.<profile>.latency.cpu (/proc/<pid>/stat), and this process by thread',
      cpu_profile: PROFILE
        ? { how: "node:inspector Profiler on the peers' thread (with --threads, on each peer thread, added up) over the latency window, 1 ms sampling; each sample's time to one category by its stack (bench/lib/cpu-profile.ts); total = every category but idle; the profiler's own cost is in the window's CPU figures", categories: CATEGORIES }
        : null,
      sustained: {
        step_s: S.sustainS,
        max_steps: S.sustainSteps,
        held: 'the orderer appended ≥ 95 % of the rate; p99 append → commit on the last peer < 1 s (a block not on every peer 1 s after the load ended counts as ≥ 1 s); mean lag (orderer height − lowest peer height, sampled every 100 ms) over the last fifth of the step ≤ the first fifth’s + the blocks of 250 ms (≥ 5)',
        search: "from the throughput figure (else half the ramp's first rate): hold → halfway up to the lowest failed rate (× 1.5 if none), fail → × 0.7 down, then halfway between; a drain before each step",
      },
      floor: `${floor.messages} publishes of the same ${blockBytes}-byte block to ${floor.subscribers} subscriber connections at ${S.rate}/s`,
      throughput: {
        rates: S.rates,
        step_s: S.stepS,
        refine_steps: S.refine,
        orderer: 'its own process, cutting the load itself',
        held: 'appended ≥ 90 % of offered, and when the step ends the slowest peer trails the orderer by ≤ the blocks of min(1 s, 10 % of the step)',
      },
      failover_fast: r.failoverFast?.config ?? null,
      failover_fabric_defaults: r.failoverFabric ? { ...r.failoverFabric.config, simulated: r.failoverFabric.simulated } : null,
      catchup: { blocks: S.catchupBlocks, network: '1 org: peer0 static leader and peer1 standby hold the chain; peer2 (standby) joins at height 1', settings: CATCHUP_SETTINGS },
    },
  };
}

const server = await startNatsServer({ port: 0 });
let natsVersion = 'unknown';
try {
  natsVersion = execFileSync(findNatsServer() ?? 'nats-server', ['--version'], { encoding: 'utf8' }).trim().replace(/^nats-server:\s*/, '');
} catch {
  // Reported as unknown.
}
const sample = encodeBlock(makeBlock(1, ZERO_HASH, [tx(0, TX_BYTES)], () => new Uint8Array(64), Date.now()));
let floor: FloorResult;
const runs: Partial<Record<Profile, ProfileRun>> = {};
let scale: { memory: ScaleResult; nats: ScaleResult } | null = null;
let micro: MicroResult | null = null;
let idle: IdleResult | null = null;
let control: ControlTraffic | null = null;
try {
  say(`floor: ${sample.byteLength}-byte block to ${PEERS} subscribers at ${S.rate}/s`);
  floor = await measureFloor(server.url, { subscribers: PEERS, rate: S.rate, durationMs: S.floorS * 1000, payload: sample });
  say(`floor: p50 ${floor.floor_p50_ms} ms p99 ${floor.floor_p99_ms} ms`);
  for (const profile of ['murmur', 'fabric'] as const) runs[profile] = await runProfile(server, profile);
  if (S.scale) {
    say('scale: 100 peers in one process, in-memory bus');
    const memory = await measureScale('memory');
    say(`scale (memory): ${JSON.stringify(memory)}`);
    say('scale: 100 peers in one process, NATS');
    const nats = await measureScale('nats');
    say(`scale (nats): ${JSON.stringify(nats)}`);
    scale = { memory, nats };
    say('control traffic by network size (simulated time, in-memory bus, local timings)');
    control = await attempt('control traffic', [], () => measureControlTraffic([12, 48, 96, 192], 20, say));
    if (control) {
      const png = join(dirname(OUT), 'control-traffic.png');
      say((await attempt('control traffic plot', [], () => plotControlTraffic(control!, png))) ? `control traffic: plotted ${png}` : 'control traffic: no plot (no /usr/bin/chromium)');
    }
  }
  if (S.micro) {
    say('micro figures');
    micro = measureMicro();
  }
  idle = await attempt('idle cost', [], async () => {
    say('idle: 3 orgs x 8 peers in one process, no load, CPU of the process (scripts/measure-idle.mjs)');
    // A minute of settling: V8's memory reducer runs its collections about 30 s after start, and a window that
    // catches them read 16-33 ms/s for the same build (fabric timings); a minute of window averages the rest.
    const r = await measureIdle(quick ? { settleS: 30, windowS: 10 } : { settleS: 60, windowS: 60 });
    say(`idle: ${r.local} ms/s (local timings), ${r.fabric} ms/s (fabric timings)`);
    return r;
  });
} finally {
  await server.stop();
}

const durationS = Math.round((performance.now() - t0) / 1000);
const cpu = cpus();
const results = {
  date: new Date().toISOString(),
  command: `npm run bench${quick ? ' -- --quick' : ''}`,
  mode: quick ? 'quick' : 'full',
  duration_s: durationS,
  machine: { cores: cpu.length, cpu: cpu[0]?.model ?? 'unknown', node: process.version, platform: `${process.platform} ${process.arch}`, nats_server: natsVersion },
  ...figures(runs.murmur!, floor!, 'murmur', sample.byteLength),
  idle_cpu_ms_per_s: idle,
  /** Bytes of control messages each peer receives per second, by network size: {murmur, fabric} × {idle, busy}. */
  control_bytes_per_peer_s: control,
  fabric_profile: figures(runs.fabric!, floor!, 'fabric', sample.byteLength),
  scale,
  micro,
  details: {
    floor: floor!,
    murmur: runs.murmur,
    fabric: runs.fabric,
  },
};
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, `${JSON.stringify(results, null, 2)}\n`);
console.log(benchTable(results));
say(`wrote ${OUT} (${durationS} s)`);
process.exit(0);

interface IdleResult {
  local: number;
  fabric: number;
  peers: number;
  network: string;
  /** Seconds after start before the window, and the window's length. */
  settle_s: number;
  window_s: number;
}

/** CPU per second of 24 idle peers in one process (`up --in-process --no-load`), both timing presets. */
async function measureIdle(o: { settleS: number; windowS: number }): Promise<IdleResult> {
  const args = [join(root, 'scripts/measure-idle.mjs'), '--orgs', '3', '--peers', '8', '--timings', 'local,fabric', '--settle', String(o.settleS), '--window', String(o.windowS)];
  const out = await new Promise<string>((res, rej) =>
    execFile(process.execPath, args, { cwd: root, timeout: 600_000 }, (e, stdout) => (e ? rej(e) : res(stdout))),
  );
  const rows = out.trim().split('\n').map((l) => JSON.parse(l) as { timings: string; cpuMsPerS: number; peers: number });
  const of = (t: string) => rows.find((r) => r.timings === t)?.cpuMsPerS ?? Number.NaN;
  return { local: of('local'), fabric: of('fabric'), peers: rows[0]?.peers ?? 24, network: '3 orgs x 8 peers, up --in-process --no-load', settle_s: o.settleS, window_s: o.windowS };
}
