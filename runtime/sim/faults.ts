// Fault sets of the simulator and the scheduler that injects them during the safety phase. Every knob is
// drawn from the run's seed (rng.fork('faults') and friends), so a failing run replays exactly.
//
//   none       reliable links (1–20 ms), no fault
//   default    lossy links (loss, duplication, reordering), crashes and restarts with durable state kept,
//              leader crashes, partitions inside an org and across orgs and their heal, an isolated peer,
//              delay spikes, and one clock-skewed peer (offset and drift)
//   heavy      the same, more of all: more loss, more frequent and longer faults, more peers down at once
//   byzantine  default, plus a peer with a valid certificate that attacks (byzantine.ts)
//
//   schedule:  fault events form a Poisson process (eventsPerMinute); each picks a kind by weight; a crash
//              is followed by a restart after a drawn downtime, a partition / isolation by a heal after a
//              drawn duration, a delay spike by its end; at most one partition at a time.
//   stop():    the liveness phase begins: no new fault, every partition healed, every link fault cleared,
//              every crashed peer restarted (its durable state kept). The skewed clock stays: it is a
//              property of the peer, not a transient fault.
import type { Clock, SimClock } from '../clock.ts';
import type { Rng } from '../rng.ts';
import type { Harness } from './harness.ts';

export const FAULT_SETS = ['none', 'default', 'heavy', 'byzantine'] as const;
export type FaultSet = (typeof FAULT_SETS)[number];

export type FaultKind = 'crash' | 'leader-crash' | 'partition-org' | 'partition-orgs' | 'isolate' | 'spike';

export interface FaultProfile {
  /** Ranges the link knobs are drawn from (per run). */
  loss: [number, number];
  duplicate: [number, number];
  reorder: [number, number];
  latency: { minMs: number; maxMs: number };
  eventsPerMinute: number;
  weights: Record<FaultKind, number>;
  /** Peers down at once at most, as a fraction of the honest peers (at least one when > 0). */
  maxDownFraction: number;
  downtimeMs: [number, number];
  partitionMs: [number, number];
  spikeMs: [number, number];
  spikeLatency: { minMs: number; maxMs: number };
  /** One peer's clock: offset within ±offsetMs, rate within 1 ± drift. Null: no skew. */
  skew: { offsetMs: number; drift: number } | null;
  byzantine: boolean;
}

const NO_FAULTS: Record<FaultKind, number> = { crash: 0, 'leader-crash': 0, 'partition-org': 0, 'partition-orgs': 0, isolate: 0, spike: 0 };

const DEFAULT_FAULTS: FaultProfile = {
  loss: [0.005, 0.05],
  duplicate: [0, 0.03],
  reorder: [0, 0.1],
  latency: { minMs: 1, maxMs: 30 },
  eventsPerMinute: 3,
  weights: { crash: 3, 'leader-crash': 2, 'partition-org': 2, 'partition-orgs': 2, isolate: 1, spike: 2 },
  maxDownFraction: 0.34,
  downtimeMs: [2_000, 40_000],
  partitionMs: [5_000, 40_000],
  spikeMs: [2_000, 15_000],
  spikeLatency: { minMs: 300, maxMs: 3_000 },
  skew: { offsetMs: 20_000, drift: 0.01 },
  byzantine: false,
};

export const FAULT_PROFILES: Record<FaultSet, FaultProfile> = {
  none: {
    loss: [0, 0],
    duplicate: [0, 0],
    reorder: [0, 0],
    latency: { minMs: 1, maxMs: 20 },
    eventsPerMinute: 0,
    weights: NO_FAULTS,
    maxDownFraction: 0,
    downtimeMs: [0, 0],
    partitionMs: [0, 0],
    spikeMs: [0, 0],
    spikeLatency: { minMs: 0, maxMs: 0 },
    skew: null,
    byzantine: false,
  },
  default: DEFAULT_FAULTS,
  heavy: {
    loss: [0.05, 0.2],
    duplicate: [0.02, 0.1],
    reorder: [0.05, 0.3],
    latency: { minMs: 1, maxMs: 80 },
    eventsPerMinute: 8,
    weights: { crash: 3, 'leader-crash': 3, 'partition-org': 2, 'partition-orgs': 2, isolate: 2, spike: 3 },
    maxDownFraction: 0.5,
    downtimeMs: [1_000, 90_000],
    partitionMs: [5_000, 90_000],
    spikeMs: [2_000, 30_000],
    spikeLatency: { minMs: 500, maxMs: 8_000 },
    skew: { offsetMs: 25_000, drift: 0.03 },
    byzantine: false,
  },
  // The default faults, a little calmer, plus the attacking peer.
  byzantine: { ...DEFAULT_FAULTS, eventsPerMinute: 2, byzantine: true },
};

/**
 * A peer's clock that is off by a constant offset and runs at `rate` times real speed (so its timers fire
 * early or late). Whole milliseconds, monotonic. Scheduling goes through the shared SimClock, so the run
 * stays deterministic. The peer's codec reads it too (harness.ts), so certificate validity is judged by the
 * skewed time: certificates are valid from a minute before the simulation starts, so a peer running more
 * than 60 s behind rejects every one (`cert-not-yet-valid`) and one past their notAfter rejects them as
 * expired. The profiles' skews are moderate: offset + drift × run time stays under 60 s for runs up to
 * about 65 simulated minutes (default) or 19 (heavy).
 */
export class SkewedClock implements Clock {
  private readonly origin: number;
  constructor(
    private readonly base: SimClock,
    readonly offsetMs: number,
    readonly rate: number,
  ) {
    this.origin = base.now();
  }
  now(): number {
    return Math.floor(this.origin + (this.base.now() - this.origin) * this.rate + this.offsetMs);
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const d = Number.isFinite(ms) && ms > 0 ? Math.round(ms / this.rate) : 0;
    return this.base.setTimeout(fn, d);
  }
  clearTimeout(id: unknown): void {
    this.base.clearTimeout(id);
  }
}

export interface LinkKnobs {
  loss: number;
  duplicate: number;
  reorder: number;
  latency: { minMs: number; maxMs: number };
}

const draw = (rng: Rng, [lo, hi]: [number, number]) => (hi > lo ? rng.range(lo, hi) : lo);
const drawInt = (rng: Rng, [lo, hi]: [number, number]) => (hi > lo ? lo + rng.int(hi - lo + 1) : lo);

export function drawLink(p: FaultProfile, rng: Rng): LinkKnobs {
  return { loss: draw(rng, p.loss), duplicate: draw(rng, p.duplicate), reorder: draw(rng, p.reorder), latency: p.latency };
}

export function drawSkew(p: FaultProfile, rng: Rng, candidates: string[]): { peer: string; offsetMs: number; rate: number } | null {
  if (!p.skew || candidates.length === 0) return null;
  return { peer: rng.pick(candidates), offsetMs: Math.round(rng.range(-p.skew.offsetMs, p.skew.offsetMs)), rate: 1 + rng.range(-p.skew.drift, p.skew.drift) };
}

export interface FaultRecord {
  atMs: number;
  kind: FaultKind | 'restart' | 'heal' | 'spike-end';
  detail: string;
}

interface Pending {
  at: number;
  seq: number;
  run: () => Promise<void> | void;
}

/** Injects the faults of one profile into a running harness; driven by the simulator's step loop. */
export class FaultScheduler {
  readonly log: FaultRecord[] = [];
  readonly counts: Record<string, number> = {};
  private nextEventAt: number;
  private readonly pending: Pending[] = [];
  private seq = 0;
  private partitionUntil = -1;
  private readonly down = new Set<string>();
  private readonly spiking = new Set<string>();
  private stopped = false;

  constructor(
    private readonly h: Harness,
    private readonly p: FaultProfile,
    private readonly rng: Rng,
    /** Honest peer ids (the byzantine peer is never crashed or partitioned by the scheduler). */
    private readonly honest: string[],
    private readonly channels: string[],
    private readonly startMs: number,
    private readonly extraEndpoints: string[] = [],
  ) {
    this.nextEventAt = this.gap(h.clock.now());
  }

  /** Peers crashed by a fault and not restarted yet. */
  crashed(): string[] {
    return [...this.down].sort();
  }

  /** Applies every fault due by now (called once per simulator step). */
  async step(): Promise<void> {
    const now = this.h.clock.now();
    this.pending.sort((a, b) => a.at - b.at || a.seq - b.seq);
    while (this.pending.length && this.pending[0]!.at <= now) await this.pending.shift()!.run();
    if (this.stopped) return;
    while (this.nextEventAt <= now) {
      await this.inject();
      this.nextEventAt = this.gap(this.nextEventAt);
    }
  }

  /** Liveness phase: no more faults; heal, clear link faults, restart every crashed peer. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.pending.length = 0;
    this.h.heal();
    for (const e of this.spiking) {
      this.h.network.clearLink(e, '*');
      this.h.network.clearLink('*', e);
    }
    this.spiking.clear();
    this.h.network.setDefaults({ loss: 0, duplicate: 0, reorder: 0 });
    for (const id of this.crashed()) await this.restart(id);
  }

  private gap(from: number): number {
    if (this.p.eventsPerMinute <= 0) return Infinity;
    // Exponential inter-arrival times with the profile's mean.
    return from + Math.max(100, Math.round(-Math.log(1 - this.rng.next()) * (60_000 / this.p.eventsPerMinute)));
  }

  private later(ms: number, run: () => Promise<void> | void): void {
    this.pending.push({ at: this.h.clock.now() + ms, seq: ++this.seq, run });
  }

  private record(kind: FaultRecord['kind'], detail: string): void {
    this.log.push({ atMs: this.h.clock.now() - this.startMs, kind, detail });
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
  }

  private pickKind(): FaultKind {
    const entries = Object.entries(this.p.weights).filter(([, w]) => w > 0) as [FaultKind, number][];
    let x = this.rng.next() * entries.reduce((s, [, w]) => s + w, 0);
    for (const [k, w] of entries) if ((x -= w) < 0) return k;
    return entries.at(-1)![0];
  }

  private running(): string[] {
    return this.honest.filter((id) => this.h.peers.get(id)?.peer);
  }

  private orgOf(id: string): string {
    return this.h.peers.get(id)!.org;
  }

  private mayCrash(): boolean {
    const max = Math.max(1, Math.floor(this.honest.length * this.p.maxDownFraction));
    return this.down.size < max;
  }

  private async inject(): Promise<void> {
    const kind = this.pickKind();
    switch (kind) {
      case 'crash': {
        const up = this.running();
        if (!up.length || !this.mayCrash()) return;
        await this.crash(this.rng.pick(up), 'crash');
        return;
      }
      case 'leader-crash': {
        const ch = this.rng.pick(this.channels);
        const leaders = this.running().filter((id) => this.h.peers.get(id)!.peer!.elections.get(ch)?.role() === 'leader');
        if (!leaders.length || !this.mayCrash()) return;
        await this.crash(this.rng.pick(leaders), 'leader-crash', ch);
        return;
      }
      case 'partition-org':
      case 'partition-orgs':
      case 'isolate': {
        if (this.h.clock.now() < this.partitionUntil) return;
        const groups = kind === 'isolate' ? null : kind === 'partition-org' ? this.splitOrg() : this.splitOrgs();
        const ms = drawInt(this.rng, this.p.partitionMs);
        if (kind === 'isolate') {
          const victim = this.rng.pick(this.honest);
          this.h.network.isolate(victim);
          this.record('isolate', `${victim} for ${ms} ms`);
        } else {
          if (!groups) return;
          this.h.partition(groups);
          this.record(kind, `${groups.map((g) => `[${g.join(' ')}]`).join(' | ')} for ${ms} ms`);
        }
        this.partitionUntil = this.h.clock.now() + ms;
        this.later(ms, () => {
          this.h.heal();
          this.record('heal', '');
        });
        return;
      }
      case 'spike': {
        const victim = this.rng.pick(this.honest);
        if (this.spiking.has(victim)) return;
        const ms = drawInt(this.rng, this.p.spikeMs);
        const latency = this.p.spikeLatency;
        this.h.network.setLink(victim, '*', { latency });
        this.h.network.setLink('*', victim, { latency });
        this.spiking.add(victim);
        this.record('spike', `${victim}: ${latency.minMs}–${latency.maxMs} ms for ${ms} ms`);
        this.later(ms, () => {
          this.h.network.clearLink(victim, '*');
          this.h.network.clearLink('*', victim);
          this.spiking.delete(victim);
          this.record('spike-end', victim);
        });
        return;
      }
    }
  }

  private async crash(id: string, kind: 'crash' | 'leader-crash', channel?: string): Promise<void> {
    await this.h.crash(id);
    this.down.add(id);
    const ms = drawInt(this.rng, this.p.downtimeMs);
    this.record(kind, `${id}${channel ? ` (leader of ${channel})` : ''} down for ${ms} ms`);
    this.later(ms, () => this.restart(id));
  }

  private async restart(id: string): Promise<void> {
    if (!this.down.delete(id)) return;
    await this.h.start(id);
    this.record('restart', id);
  }

  /** One org's peers split in two; the rest of the network stays with the first half. */
  private splitOrg(): string[][] | null {
    const orgs = [...new Set(this.honest.map((id) => this.orgOf(id)))];
    const org = this.rng.pick(orgs);
    const members = this.rng.shuffle(this.honest.filter((id) => this.orgOf(id) === org));
    if (members.length < 2) return null;
    const cut = 1 + this.rng.int(members.length - 1);
    const rest = [...this.honest.filter((id) => this.orgOf(id) !== org), ...this.extraEndpoints];
    return [[...members.slice(0, cut), ...rest].sort(), members.slice(cut).sort()];
  }

  /** The orgs split in two groups (whole orgs on each side). */
  private splitOrgs(): string[][] | null {
    const orgs = this.rng.shuffle([...new Set(this.honest.map((id) => this.orgOf(id)))]);
    if (orgs.length < 2) return null;
    const cut = 1 + this.rng.int(orgs.length - 1);
    const side = new Set(orgs.slice(0, cut));
    const a = this.honest.filter((id) => side.has(this.orgOf(id)));
    const b = this.honest.filter((id) => !side.has(this.orgOf(id)));
    // The byzantine peer sits with its own org.
    for (const e of this.extraEndpoints) (side.has(this.h.peers.get(e)?.org ?? '') ? a : b).push(e);
    return [a.sort(), b.sort()];
  }
}
