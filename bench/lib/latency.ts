// Latency, redundancy and throughput of block dissemination on a running BenchNetwork.
//
// measureLatency: a paced load of one `txBytes` transaction per block at `rate` blocks/s for `durationMs`
//   (after a warm-up at the same rate, once every peer holds the whole chain):
//     latency(n)   = last peer's commit of block n − the orderer's append of n (acknowledged by JetStream),
//                    both on this process's clock (performance.now; an orderer process's times mapped by the
//                    offset its pings measured)
//     copies       = block payload copies the peers received from the first append of the window until every
//                    peer committed its last block + settleMs (1 s), / (blocks × peers); the leader's copy from the
//                    ordering service counts as one (so a perfect scheme is 1.0)
//     verifies     = orderer-key signature verifications over the same span / (blocks × peers)
//     cpu          = CPU time from the first append of the window until every peer committed its last block, per
//                    committed peer-block (blocks × peers): this process's (every peer, process.cpuUsage, all
//                    threads but V8's profiler thread, whose CPU /proc/self/task gives apart) and, apart, each
//                    child process's named in `childPids` (the orderer, nats-server: /proc/<pid>/stat, 10 ms
//                    resolution)
//     cpu_profile  = with `profile`, the same window sampled by node:inspector's Profiler and attributed by
//                    category (bench/lib/cpu-profile.ts), in µs per peer-block
// measureThroughput: a ramp of block rates, each held for `stepMs` right after the previous one, cut by the
//   orderer wherever it runs (run.ts runs it in its own process, so the offered rate does not depend on how
//   busy the peers keep this process). A step holds when the orderer appended at least 90 % of the
//   offered blocks (counted where it runs) and, when the load ends, the slowest peer trails the orderer by at
//   most lagBound blocks (1 s of blocks, or 10 % of the step if shorter): it kept (nearly) up instead of
//   falling further behind with the window. The ramp doubles until a step fails, then bisects between the last rate that held and
//   that one (`refine` steps, each after a drain); the figure is the highest offered rate that held.
//   Sampled lag (orderer height − lowest peer height, every 100 ms) is reported per step for reading.
// measureSustained: the highest rate every peer sustains for `stepMs` (60 s in the full bench), searched with a
//   few steps from a start rate (the ramp's figure), each after a drain. A step at rate r holds when
//     (a) the orderer appended ≥ 95 % of r × the step (the rate was offered),
//     (b) the p99 latency (append → commit on the last peer) of the blocks appended during the step is < 1 s;
//         the bench waits 1 s after the load ends, and a block not on every peer by then counts as ≥ 1 s
//         (its latency already is), so the criterion is decided exactly without waiting for a drain, and
//     (c) the backlog does not grow: with lag = orderer height − the lowest peer height, sampled every 100 ms,
//         the mean lag over the last fifth of the step ≤ the mean lag over the first fifth + the blocks of
//         250 ms at r (at least 5): a peer committing c < r blocks/s adds (r − c) × 0.8 × the step to it.
//   Search: hold → up (halfway to the lowest rate that failed so far, in this search or the ramp; × 1.5 when
//   none did); fail → down (× 0.7) until one holds, then halfway between; at most `maxSteps` steps. The figure
//   is the highest rate that held (null: none did), reported with the lowest that failed.
import { BenchNetwork, cloneCounts, diffCounts, sleep, totalCounts, until, type PeerCounts } from './nats-network.ts';
import { pct, round } from './stats.ts';
import { ownCpuUs, processCpuUs, REPO_ROOT, startCpuProfile, summarize, threadCpuUs, type CpuProfile, type CpuProfileSummary, type RunningProfile, type ThreadCpu } from './cpu-profile.ts';

export interface LatencyOptions {
  rate: number;
  durationMs: number;
  txBytes: number;
  warmupMs?: number;
  /** Longest wait for every peer to commit the window's last block. */
  drainTimeoutMs?: number;
  /** After that, how long late copies are still counted (default 1 s). */
  settleMs?: number;
  /** Child processes whose CPU over the window is reported apart, by name (e.g. orderer, nats_server). */
  childPids?: Record<string, number>;
  /** Sample this process with node:inspector's Profiler over the window (every `profileIntervalUs`, default
   * 1000 µs) and summarise it by category; `onProfile` receives the raw profile. */
  profile?: boolean;
  profileIntervalUs?: number;
  /** Called once per profile: one for the main thread (thread null) or one per peer thread (its index). */
  onProfile?: (p: CpuProfile, thread: number | null) => void;
  /** Receives every block of the window: when the orderer appended it and its latency (append → commit on
   * the last peer), bench clock ms; for finding what the slow blocks have in common. */
  onBlocks?: (blocks: { n: number; appendedAt: number; latencyMs: number }[]) => void;
}

/** CPU over the latency window (first append → every peer committed the last block), per committed peer-block. */
export interface LatencyCpu {
  window_ms: number;
  /** Blocks of the window × peers: every peer commits every block in the window. */
  peer_blocks: number;
  /** µs per peer-block: `peers` is this process (every peer; the bench harness's own share is in the profile,
   * category bench) less V8's profiler thread (see `peers_threads_us_per_peer_block`), the others the child
   * processes named in `childPids` (null: could not be read). */
  us_per_peer_block: Record<string, number | null>;
  /** This process's by thread (/proc/self/task; null without /proc): the main thread runs every peer's
   * JavaScript, the profiler's thread exists while profiling, the others are V8's and libuv's workers. */
  peers_threads_us_per_peer_block: Record<keyof ThreadCpu, number | null> | null;
  /** With peer threads: each peer thread's own CPU (/proc/thread-self) per peer-block (null: one thread). */
  peer_threads_us_per_peer_block: (number | null)[] | null;
  /** Whether the profiler ran in the window (its sampling costs this process a little CPU). */
  profiled: boolean;
}

export interface LatencyResult {
  blocks: number;
  peers: number;
  latency_p50_ms: number | null;
  latency_p99_ms: number | null;
  latency_max_ms: number | null;
  copies_per_peer: number | null;
  copies_by_source: Record<keyof PeerCounts['copies'], number | null>;
  announcements_per_peer: number | null;
  verifies_per_block_per_peer: number | null;
  message_verifies_per_block_per_peer: number | null;
  /** message_verifies_per_block_per_peer split by what was signed (payload kind, 'secret', 'other'). */
  message_verifies_by_kind: Record<string, number | null>;
  /** Message verifications per peer per second of the load: what the periodic, signed messages cost whatever
   * the block rate. */
  message_verifies_per_peer_s: number | null;
  inbound_kb_per_peer_per_block: number | null;
  /** From the end of the load until every peer committed the last block. */
  drain_ms: number;
  /** Transactions (= blocks) submitted per second over the window: below the rate asked when this process
   * could not keep its own pace. */
  achieved_blocks_per_s: number | null;
  /** Messages the peers' transports dropped, and messages or blocks the peers refused, during the window, by
   * reason (summed over peers). */
  transport_drops: Record<string, number>;
  rejected: Record<string, number>;
  /** Share of the window the peers' event loop was busy (with peer threads, the busiest one's): near 1, its
   * peers were CPU-bound and the latencies measure queueing in that loop more than the protocol. */
  event_loop_utilization: number | null;
  cpu: LatencyCpu;
  /** The window's CPU profile by category (null: not profiled, or the profiler failed: see `cpu_profile_error`). */
  cpu_profile: CpuProfileSummary | null;
  cpu_profile_error?: string;
}

export async function measureLatency(net: BenchNetwork, o: LatencyOptions): Promise<LatencyResult> {
  const warm = o.warmupMs ?? 2000;
  if (warm > 0) {
    await net.load(o.rate, warm, o.txBytes);
    await until(() => net.synced(), o.drainTimeoutMs ?? 60_000, 'the warm-up blocks on every peer');
  }
  const peers = net.running();
  const first = net.ordererHeight();
  const appended = new Map<number, number>();
  const last = new Map<number, { at: number; count: number }>();
  const off = net.onAppend((n, at) => void (n >= first && appended.set(n, at)));
  trackCommits(peers, first, last);
  const before = cloneCounts(totalCounts(peers));
  await net.refresh();
  const drops0 = sumBy(peers.map((p) => net.dropped(p)));
  const rejected0 = sumBy(peers.map((p) => net.rejected(p)));
  const intervalUs = o.profileIntervalUs ?? 1000;
  let profiler: { stop(): Promise<CpuProfile[]> } | null = null;
  let profileError: string | undefined;
  if (o.profile) {
    try {
      profiler = net.threads ? await net.threads.startProfile(intervalUs) : await startOne(intervalUs);
    } catch (e) {
      profileError = (e as Error).message;
    }
  }
  const pids = Object.entries(o.childPids ?? {});
  const child0 = pids.map(([, pid]) => processCpuUs(pid));
  const threads0 = threadCpuUs();
  const peerThreads0 = net.threads?.threadUsage() ?? null;
  const cpu0 = ownCpuUs();
  const elu0 = net.loopMark();
  try {
    const loadStart = performance.now();
    const { sent } = await net.load(o.rate, o.durationMs, o.txBytes);
    const loadEnd = performance.now();
    await until(() => net.ordererHeight() >= first + sent && net.synced(), o.drainTimeoutMs ?? 60_000, 'every peer to commit the last block');
    const drain = performance.now() - loadEnd;
    await net.refresh();
    const elu = net.loopUtilization(elu0);
    const peerThreads1 = net.threads?.threadUsage() ?? null;
    const ownCpu = ownCpuUs() - cpu0;
    const threads1 = threadCpuUs();
    const threads: ThreadCpu | null = threads0 && threads1 ? { main: threads1.main - threads0.main, profiler: threads1.profiler - threads0.profiler, other: threads1.other - threads0.other } : null;
    const childCpu = pids.map(([, pid], i) => {
      const now = processCpuUs(pid);
      return now === null || child0[i] === null ? null : now - child0[i]!;
    });
    const windowMs = performance.now() - loadStart;
    const peerBlocks = (net.ordererHeight() - first) * peers.length;
    let rawProfile: CpuProfile[] | null = null;
    if (profiler) {
      try {
        rawProfile = await profiler.stop();
      } catch (e) {
        profileError = (e as Error).message;
      }
      profiler = null;
    }
    const perBlock = (us: number | null) => (us === null || peerBlocks === 0 ? null : round(us / peerBlocks, 1));
    const cpu: LatencyCpu = {
      window_ms: Math.round(windowMs),
      peer_blocks: peerBlocks,
      // V8's profiler thread exists only because the bench profiles this window: its CPU (measured apart) is
      // not the peers'. What the profiler costs the main thread (its interrupts) stays in.
      us_per_peer_block: { peers: perBlock(ownCpu - (threads?.profiler ?? 0)), ...Object.fromEntries(pids.map(([name], i) => [name, perBlock(childCpu[i]!)])) },
      peers_threads_us_per_peer_block: threads ? { main: perBlock(threads.main), profiler: perBlock(threads.profiler), other: perBlock(threads.other) } : null,
      peer_threads_us_per_peer_block:
        peerThreads0 && peerThreads1 ? peerThreads1.map((u, i) => (u.cpuUs === null || peerThreads0[i]!.cpuUs === null ? null : perBlock(u.cpuUs - peerThreads0[i]!.cpuUs!))) : null,
      profiled: o.profile === true && profileError === undefined,
    };
    await sleep(o.settleMs ?? 1000);
    const d = diffCounts(totalCounts(peers), before);
    // After the settle's counts: summarising a large profile takes a moment.
    if (rawProfile) rawProfile.forEach((p, i) => o.onProfile?.(p, net.threads ? i : null));
    const cpuProfile = rawProfile ? summarize(rawProfile, { root: REPO_ROOT, peerBlocks, intervalUs, processCpuUs: ownCpu, threadsCpuUs: threads }) : null;
    const end = net.ordererHeight();
    const n = end - first;
    const lat: number[] = [];
    const blocks: { n: number; appendedAt: number; latencyMs: number }[] | null = o.onBlocks ? [] : null;
    for (let b = first; b < end; b++) {
      const a = appended.get(b);
      const c = last.get(b);
      if (a !== undefined && c && c.count >= peers.length) {
        lat.push(c.at - a);
        blocks?.push({ n: b, appendedAt: a, latencyMs: c.at - a });
      }
    }
    if (blocks) o.onBlocks?.(blocks);
    const per = (x: number) => round(x / (n * peers.length), 2);
    return {
      blocks: n,
      peers: peers.length,
      latency_p50_ms: round(pct(lat, 50)),
      latency_p99_ms: round(pct(lat, 99)),
      latency_max_ms: round(lat.length ? Math.max(...lat) : null),
      copies_per_peer: per(Object.values(d.copies).reduce((a, b) => a + b, 0)),
      copies_by_source: {
        push: per(d.copies.push),
        pull: per(d.copies.pull),
        state: per(d.copies.state),
        orderer: per(d.copies.orderer),
        other: per(d.copies.other),
      },
      announcements_per_peer: per(d.announcements),
      verifies_per_block_per_peer: per(d.blockVerifies),
      message_verifies_per_block_per_peer: per(d.messageVerifies),
      message_verifies_by_kind: Object.fromEntries(Object.entries(d.messageVerifiesByKind).filter(([, v]) => v > 0).sort(([, a], [, b]) => b - a).map(([k, v]) => [k, per(v)])),
      message_verifies_per_peer_s: round((d.messageVerifies * 1000) / (windowMs * peers.length), 1),
      inbound_kb_per_peer_per_block: round(d.bytes / 1024 / (n * peers.length), 2),
      drain_ms: Math.round(drain),
      achieved_blocks_per_s: round((sent * 1000) / (loadEnd - loadStart)),
      transport_drops: diffBy(sumBy(peers.map((p) => net.dropped(p))), drops0),
      rejected: diffBy(sumBy(peers.map((p) => net.rejected(p))), rejected0),
      event_loop_utilization: round(elu, 2),
      cpu,
      cpu_profile: cpuProfile,
      ...(profileError === undefined ? {} : { cpu_profile_error: profileError }),
    };
  } finally {
    await profiler?.stop().catch(() => undefined);
    off();
    for (const p of peers) p.onCommit = null;
  }
}

function sumBy(rs: Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rs) for (const [k, v] of Object.entries(r)) out[k] = (out[k] ?? 0) + v;
  return out;
}

function diffBy(b: Record<string, number>, a: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(b)) if (v - (a[k] ?? 0) !== 0) out[k] = v - (a[k] ?? 0);
  return out;
}

export interface ThroughputStep {
  rate: number;
  appended_per_s: number;
  /** Blocks/s the slowest peer committed during the step. */
  slowest_commit_per_s: number;
  /** Orderer height − the lowest peer height when the load ended (blocks). */
  lag_at_end: number;
  /** Largest sampled lag (orderer height as last reported, so it may trail by ~50 ms) during the step. */
  lag_max_sampled: number | null;
  /** Share of the step the peers' event loop was busy (with peer threads, the busiest one's). */
  event_loop_utilization: number | null;
  held: boolean;
  /** Why it did not hold: 'orderer' (it appended < 90 % of the offered rate) or 'lag' (the slowest peer trailed by more than lagBound). */
  limit: 'orderer' | 'lag' | null;
}

export interface ThroughputResult {
  throughput_blocks_per_s: number | null;
  /** True when no rate of the ramp failed (the figure is then a lower bound). */
  ramp_exhausted: boolean;
  steps: ThroughputStep[];
  /** Drain after the last step (null: not every peer caught up within the timeout). */
  drain_ms: number | null;
}

/**
 * The most blocks the slowest peer may trail the orderer by when a step's load ends, for the step to hold: the
 * blocks of 1 s at that rate, or of 10 % of the step if shorter (at least 5). A peer committing c blocks/s
 * under an offered r ends a step of T s (r − c) × T behind, so this accepts c ≥ r × (1 − min(1 s, T/10) / T),
 * i.e. c ≥ 0.9 r for short steps and c ≥ 0.93 r for 15 s ones.
 */
export const lagBound = (rate: number, stepMs: number) => Math.max(5, Math.round(rate * Math.min(1, stepMs / 10_000)));

/** Lets every peer (and the orderer's queue) catch up; the drain time in ms, or null if it did not within the timeout. */
async function drain(net: BenchNetwork, timeoutMs: number): Promise<number | null> {
  const t = performance.now();
  const idle = () => net.ordererIdle() && net.synced();
  try {
    await until(idle, timeoutMs, 'every peer to catch up after a ramp step', 100);
    return Math.round(performance.now() - t);
  } catch {
    return null;
  }
}

async function step(net: BenchNetwork, rate: number, stepMs: number, txBytes: number): Promise<ThroughputStep> {
  const minHeight = () => Math.min(...net.running().map((p) => net.height(p)));
  const m0 = minHeight();
  const samples: { t: number; lag: number }[] = [];
  const t0 = performance.now();
  const elu0 = net.loopMark();
  const sampler = setInterval(() => samples.push({ t: performance.now() - t0, lag: net.ordererHeight() - minHeight() }), 100);
  const r = await net.load(rate, stepMs, txBytes);
  clearInterval(sampler);
  const elu = net.loopUtilization(elu0);
  const m1 = minHeight();
  const secs = stepMs / 1000;
  const ordererOk = r.appended >= 0.9 * rate * secs;
  const held = ordererOk && r.height - m1 <= lagBound(rate, stepMs);
  return {
    rate,
    appended_per_s: Math.round(r.appended / secs),
    slowest_commit_per_s: Math.round((m1 - m0) / secs),
    lag_at_end: r.height - m1,
    lag_max_sampled: samples.length ? Math.max(...samples.map((s) => s.lag)) : null,
    event_loop_utilization: round(elu, 2),
    held,
    limit: held ? null : ordererOk ? 'lag' : 'orderer',
  };
}

/**
 * Doubling ramp from `rates[0]` (the listed rates, back to back) until a step fails; then `refine` bisection
 * steps between the last rate that held and the first that failed, each after a drain.
 */
export async function measureThroughput(net: BenchNetwork, o: { rates: number[]; stepMs: number; txBytes: number; refine?: number; drainTimeoutMs?: number }): Promise<ThroughputResult> {
  const steps: ThroughputStep[] = [];
  let lo: number | null = null;
  let hi: number | null = null;
  for (const rate of o.rates) {
    const s = await step(net, rate, o.stepMs, o.txBytes);
    steps.push(s);
    if (!s.held) {
      hi = rate;
      break;
    }
    lo = rate;
  }
  let drained = await drain(net, o.drainTimeoutMs ?? 60_000);
  for (let k = 0; k < (o.refine ?? 0) && lo !== null && hi !== null && drained !== null; k++) {
    const rate = Math.round((lo + hi) / 2);
    if (rate === lo || rate === hi) break;
    const s = await step(net, rate, o.stepMs, o.txBytes);
    steps.push(s);
    if (s.held) lo = rate;
    else hi = rate;
    drained = await drain(net, o.drainTimeoutMs ?? 60_000);
  }
  return { throughput_blocks_per_s: lo, ramp_exhausted: hi === null, steps, drain_ms: drained };
}

export interface SustainStep {
  rate: number;
  appended_per_s: number;
  /** Blocks appended during the step, and how many of them were not on every peer within 1 s of their append
   * (committed later, or not yet 1 s after the load ended). */
  blocks: number;
  blocks_over_1s: number;
  latency_p50_ms: number | null;
  /** null when more than 1 % of the blocks took ≥ 1 s (then some were still missing, so the value is not known). */
  latency_p99_ms: number | null;
  /** Mean sampled lag (orderer height − lowest peer height, blocks; the orderer's height as last reported by
   * its process, so never below 0) over the first and the last fifth of the step. */
  lag_first_mean: number | null;
  lag_last_mean: number | null;
  /** This process's CPU (every peer) over the step and the 1 s after it, per peer-block committed in that time. */
  cpu_us_per_peer_block: number | null;
  event_loop_utilization: number | null;
  held: boolean;
  /** Why it did not hold: the orderer did not offer the rate, p99 ≥ 1 s, or the backlog grew. */
  limit: 'orderer' | 'latency' | 'backlog' | null;
}

export interface SustainResult {
  sustained_blocks_per_s: number | null;
  /** The lowest rate that failed in this search (null: none did). */
  lowest_failed_blocks_per_s: number | null;
  step_s: number;
  steps: SustainStep[];
  /** Drain before each step (null: not every peer caught up within the timeout, and the search stopped). */
  drains_ms: (number | null)[];
}

/** How long a block may take (append → commit on the last peer) at the sustained rate's p99. */
export const SUSTAIN_LATENCY_MS = 1000;

/** The backlog criterion's slack: the blocks of 250 ms at the rate, at least 5. */
export const backlogSlack = (rate: number) => Math.max(5, Math.round(rate * 0.25));

async function sustainStep(net: BenchNetwork, rate: number, stepMs: number, txBytes: number): Promise<SustainStep> {
  const peers = net.running();
  const first = net.ordererHeight();
  const appended = new Map<number, number>();
  const last = new Map<number, { at: number; count: number }>();
  let top = first;
  const off = net.onAppend((n, at) => {
    if (n < first) return;
    appended.set(n, at);
    top = Math.max(top, n + 1);
  });
  trackCommits(peers, first, last);
  // The orderer's height: the highest append reported (every 20 ms) or its height message (every 50 ms), so a
  // peer that already holds a block is not counted ahead of it.
  const minHeight = () => Math.min(...peers.map((p) => net.height(p)));
  const lagNow = () => Math.max(0, Math.max(top, net.ordererHeight()) - minHeight());
  const heights0 = peers.map((p) => net.height(p));
  const samples: { t: number; lag: number }[] = [];
  try {
    const cpu0 = ownCpuUs();
    const elu0 = net.loopMark();
    const t0 = performance.now();
    const sampler = setInterval(() => samples.push({ t: performance.now() - t0, lag: lagNow() }), 100);
    const r = await net.load(rate, stepMs, txBytes);
    clearInterval(sampler);
    await sleep(SUSTAIN_LATENCY_MS);
    const elu = net.loopUtilization(elu0);
    const cpu = ownCpuUs() - cpu0;
    const committed = peers.reduce((a, p, i) => a + net.height(p) - heights0[i]!, 0);
    const lat: number[] = [];
    for (const [n, a] of appended) {
      const c = last.get(n);
      lat.push(c && c.count >= peers.length ? c.at - a : Infinity);
    }
    const p99 = pct(lat, 99);
    const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
    const firstLag = mean(samples.filter((s) => s.t < stepMs / 5).map((s) => s.lag));
    const lastLag = mean(samples.filter((s) => s.t >= (stepMs * 4) / 5).map((s) => s.lag));
    const ordererOk = r.appended >= 0.95 * rate * (stepMs / 1000);
    const latencyOk = p99 !== null && p99 < SUSTAIN_LATENCY_MS;
    const backlogOk = firstLag !== null && lastLag !== null && lastLag <= firstLag + backlogSlack(rate);
    const held = ordererOk && latencyOk && backlogOk;
    return {
      rate,
      appended_per_s: Math.round(r.appended / (stepMs / 1000)),
      blocks: lat.length,
      blocks_over_1s: lat.filter((x) => x >= SUSTAIN_LATENCY_MS).length,
      latency_p50_ms: round(pct(lat, 50)),
      latency_p99_ms: round(p99),
      lag_first_mean: round(firstLag),
      lag_last_mean: round(lastLag),
      cpu_us_per_peer_block: committed > 0 ? round(cpu / committed, 1) : null,
      event_loop_utilization: round(elu, 2),
      held,
      limit: held ? null : !ordererOk ? 'orderer' : !latencyOk ? 'latency' : 'backlog',
    };
  } finally {
    off();
    for (const p of peers) p.onCommit = null;
  }
}

/**
 * The highest rate every peer sustains for `stepMs` (see the header): at most `maxSteps` steps from `start`,
 * each after a drain; `failedAbove` is the lowest rate a shorter test (the ramp) already saw fail above
 * `start`, which bounds the first step up.
 */
export async function measureSustained(
  net: BenchNetwork,
  o: { start: number; stepMs: number; maxSteps: number; txBytes: number; failedAbove?: number | null; minRate?: number; drainTimeoutMs?: number; log?: (s: SustainStep) => void },
): Promise<SustainResult> {
  const steps: SustainStep[] = [];
  const drains: (number | null)[] = [];
  let lo: number | null = null;
  let hi: number | null = null;
  let rate: number | null = Math.max(o.minRate ?? 1, Math.round(o.start));
  for (let k = 0; k < o.maxSteps && rate !== null; k++) {
    const d = await drain(net, o.drainTimeoutMs ?? 60_000);
    drains.push(d);
    if (d === null) break;
    const s = await sustainStep(net, rate, o.stepMs, o.txBytes);
    steps.push(s);
    o.log?.(s);
    if (s.held) lo = Math.max(lo ?? rate, rate);
    else hi = Math.min(hi ?? rate, rate);
    rate = nextSustainRate(lo, hi, o.failedAbove ?? null, o.minRate ?? 1);
  }
  return { sustained_blocks_per_s: lo, lowest_failed_blocks_per_s: hi, step_s: o.stepMs / 1000, steps, drains_ms: drains };
}

/** The search's next rate (null: nothing left to try): halfway between what held and what failed, up from a
 * hold (towards `failedAbove`, else × 1.5), down (× 0.7) from a failure, never below `minRate`. */
export function nextSustainRate(lo: number | null, hi: number | null, failedAbove: number | null, minRate: number): number | null {
  if (lo !== null && hi !== null) {
    const mid = Math.round((lo + hi) / 2);
    return mid > lo && mid < hi ? mid : null;
  }
  if (lo !== null) {
    const next = failedAbove !== null && failedAbove > lo ? Math.round((lo + failedAbove) / 2) : Math.round(lo * 1.5);
    return next > lo ? next : null;
  }
  const down = Math.floor(hi! * 0.7);
  return down >= minRate && down < hi! ? down : null;
}

/** Records, for every block from `first` on, when the last of `peers` committed it and how many did. */
function trackCommits(peers: ReturnType<BenchNetwork['running']>, first: number, last: Map<number, { at: number; count: number }>): void {
  for (const p of peers)
    p.onCommit = (n, at) => {
      if (n < first) return;
      const e = last.get(n);
      if (e) {
        e.count++;
        e.at = Math.max(e.at, at);
      } else last.set(n, { at, count: 1 });
    };
}

/** The main thread's profiler behind the peer threads' interface (a list of profiles). */
async function startOne(intervalUs: number): Promise<{ stop(): Promise<CpuProfile[]> }> {
  const p: RunningProfile = await startCpuProfile(intervalUs);
  return { stop: async () => [await p.stop()] };
}
