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
// measureThroughput: a ramp of block rates, each held for `stepMs` right after the previous one, cut by the
//   orderer wherever it runs (run.ts runs it in its own process, so the offered rate does not depend on how
//   busy the peers keep this process). A step holds when the orderer appended at least 90 % of the
//   offered blocks (counted where it runs) and, when the load ends, the slowest peer trails the orderer by at
//   most lagBound blocks (1 s of blocks, or 10 % of the step if shorter): it kept (nearly) up instead of
//   falling further behind with the window. The ramp doubles until a step fails, then bisects between the last rate that held and
//   that one (`refine` steps, each after a drain); the figure is the highest offered rate that held.
//   Sampled lag (orderer height − lowest peer height, every 100 ms) is reported per step for reading.
import { BenchNetwork, cloneCounts, diffCounts, sleep, totalCounts, until, type PeerCounts } from './nats-network.ts';
import { pct, round } from './stats.ts';

export interface LatencyOptions {
  rate: number;
  durationMs: number;
  txBytes: number;
  warmupMs?: number;
  /** Longest wait for every peer to commit the window's last block. */
  drainTimeoutMs?: number;
  /** After that, how long late copies are still counted (default 1 s). */
  settleMs?: number;
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
  /** Share of the window this process's event loop was busy: near 1, every peer (one thread) was CPU-bound and
   * the latencies measure queueing in that loop more than the protocol. */
  event_loop_utilization: number | null;
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
  for (const p of peers)
    p.onCommit = (n, at) => {
      if (n < first) return;
      const e = last.get(n);
      if (e) {
        e.count++;
        e.at = Math.max(e.at, at);
      } else last.set(n, { at, count: 1 });
    };
  const before = cloneCounts(totalCounts(peers));
  const drops0 = sumBy(peers.map((p) => p.transport?.stats.dropped ?? {}));
  const rejected0 = sumBy(peers.map((p) => p.peer?.status()[0]?.counters.rejected ?? {}));
  const elu0 = performance.eventLoopUtilization();
  try {
    const loadStart = performance.now();
    const { sent } = await net.load(o.rate, o.durationMs, o.txBytes);
    const loadEnd = performance.now();
    await until(() => net.ordererHeight() >= first + sent && net.synced(), o.drainTimeoutMs ?? 60_000, 'every peer to commit the last block');
    const drain = performance.now() - loadEnd;
    const elu = performance.eventLoopUtilization(elu0).utilization;
    await sleep(o.settleMs ?? 1000);
    const d = diffCounts(totalCounts(peers), before);
    const end = net.ordererHeight();
    const n = end - first;
    const lat: number[] = [];
    for (let b = first; b < end; b++) {
      const a = appended.get(b);
      const c = last.get(b);
      if (a !== undefined && c && c.count >= peers.length) lat.push(c.at - a);
    }
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
      inbound_kb_per_peer_per_block: round(d.bytes / 1024 / (n * peers.length), 2),
      drain_ms: Math.round(drain),
      achieved_blocks_per_s: round((sent * 1000) / (loadEnd - loadStart)),
      transport_drops: diffBy(sumBy(peers.map((p) => p.transport?.stats.dropped ?? {})), drops0),
      rejected: diffBy(sumBy(peers.map((p) => p.peer?.status()[0]?.counters.rejected ?? {})), rejected0),
      event_loop_utilization: round(elu, 2),
    };
  } finally {
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
  /** Share of the step the bench process's event loop was busy (every peer shares it). */
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
  const elu0 = performance.eventLoopUtilization();
  const sampler = setInterval(() => samples.push({ t: performance.now() - t0, lag: net.ordererHeight() - minHeight() }), 100);
  const r = await net.load(rate, stepMs, txBytes);
  clearInterval(sampler);
  const elu = performance.eventLoopUtilization(elu0).utilization;
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
