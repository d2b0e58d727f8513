// Status `blocks` (an extension of the contract): block latency and payload copies per block of one channel,
// over the last `window` blocks this peer committed.
//   commit of block n at time t (ledger.commits$) → latency(n) = t − n.timestamp  (v2 blocks; v1 has none)
//   a copy of block n reaches the peer → copies(n)[source]++ while n is in the window, or not yet committed
//     and less than `ahead` past the height (else ignored: memory stays bounded by window + ahead)
//       orderer: a block the deliver actor committed from the ordering service (delivered$)
//       push:    a DataMsg of the channel from an org peer          (inbound, before any intake check)
//       pull:    each item of a block update from an org peer        (its DataMsg's claimed seq)
//       state:   each block of a state response                     (its claimed seq)
//   figures: p50/p99 (nearest rank) of the window's latencies; Σ copies of the window's blocks / its size.
// Copies are counted as they arrive, duplicates and all, by tapping the transport: nothing in push, pull or
// state transfer changes, and the newest blocks of the window may still be receiving copies. Latency compares
// the orderer's clock with this peer's: across hosts it includes their clock offset.
import { Subscription, type Observable } from 'rxjs';
import type { Block } from '../runtime/ledger/block.ts';
import type { Ledger } from '../runtime/ledger/ledger.ts';
import type { Clock } from '../runtime/clock.ts';
import type { BlockCopy } from './block-intake.ts';
import type { BlockFigures } from './status-row.ts';

export type CopySource = 'orderer' | 'push' | 'pull' | 'state';

type Copies = Record<CopySource, number>;
const noCopies = (): Copies => ({ orderer: 0, push: 0, pull: 0, state: 0 });

interface Entry {
  latencyMs: number | null;
  copies: Copies;
}

export interface BlockStatsOptions {
  /** Committed blocks the figures cover (default 256). */
  window?: number;
  /** How far past the height a copy is still counted before its block commits (default 1024). */
  ahead?: number;
}

export class BlockStats {
  readonly window: number;
  readonly ahead: number;
  /** Committed blocks, oldest first (Map keeps insertion order; blocks commit in order). */
  private readonly entries = new Map<number, Entry>();
  /** Copies of blocks not committed yet, seq in [height, height + ahead). */
  private readonly pending = new Map<number, Copies>();
  private height: number;
  private cached: BlockFigures | null = null;

  constructor(height: number, o: BlockStatsOptions = {}) {
    this.height = height;
    this.window = o.window ?? 256;
    this.ahead = o.ahead ?? 1024;
  }

  /** Blocks a ledger commit made durable at time `at` (ms, this peer's clock). */
  committed(blocks: readonly Block[], at: number): void {
    for (const b of blocks) {
      const latencyMs = b.timestamp === undefined ? null : Math.round(at - b.timestamp);
      this.entries.set(b.number, { latencyMs, copies: this.pending.get(b.number) ?? noCopies() });
      this.pending.delete(b.number);
      this.height = Math.max(this.height, b.number + 1);
    }
    for (const seq of this.entries.keys()) {
      if (this.entries.size <= this.window) break;
      this.entries.delete(seq);
    }
    for (const seq of this.pending.keys()) if (seq < this.height) this.pending.delete(seq);
    this.cached = null;
  }

  /** One payload copy of block `seq` arrived. */
  copy(seq: number, source: CopySource): void {
    const e = this.entries.get(seq);
    if (e) e.copies[source]++;
    else if (Number.isSafeInteger(seq) && seq >= this.height && seq < this.height + this.ahead) {
      const c = this.pending.get(seq) ?? noCopies();
      c[source]++;
      this.pending.set(seq, c);
    } else return;
    this.cached = null;
  }

  figures(): BlockFigures {
    if (this.cached) return this.cached;
    const n = this.entries.size;
    const lat = [...this.entries.values()].map((e) => e.latencyMs).filter((v): v is number => v !== null).sort((a, b) => a - b);
    const sum = noCopies();
    for (const e of this.entries.values()) for (const k of Object.keys(sum) as CopySource[]) sum[k] += e.copies[k];
    const per = (v: number) => Math.round((v / n) * 1000) / 1000;
    this.cached = {
      window: n,
      latencyP50Ms: percentile(lat, 0.5),
      latencyP99Ms: percentile(lat, 0.99),
      copiesPerBlock: n ? per(sum.orderer + sum.push + sum.pull + sum.state) : null,
      copiesBySource: n ? { orderer: per(sum.orderer), push: per(sum.push), pull: per(sum.pull), stateTransfer: per(sum.state) } : null,
    };
    return this.cached;
  }
}

/** Nearest-rank percentile of ascending values; null when there are none. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

export interface BlockStatsSources {
  ledger: Ledger;
  clock: Clock;
  /** Blocks the deliver actor committed from the orderer, this channel's. */
  fromOrderer$: Observable<{ block: Block }>;
  /** Copies gossip brought from the org (the intake's, block-intake.ts: already decoded, never again here). */
  copies$: Observable<BlockCopy>;
}

/** Feeds `stats` from the ledger's commits, the orderer's deliveries and the channel's gossip copies. */
export function bindBlockStats(stats: BlockStats, s: BlockStatsSources): Subscription {
  const subs = new Subscription();
  subs.add(s.ledger.commits$.subscribe((c) => stats.committed(c.blocks, s.clock.now())));
  subs.add(s.fromOrderer$.subscribe(({ block }) => stats.copy(block.number, 'orderer')));
  subs.add(s.copies$.subscribe((c) => stats.copy(c.seq, c.source)));
  return subs;
}
