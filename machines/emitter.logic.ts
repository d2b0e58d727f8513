// Fabric's batching emitter (gossip/gossip/batcher.go, digest §4.1): the push engine's queue.
//
//   add(item):  propagateIterations = 0 → ignored (pull-only operation)
//               append {item, iterationsLeft: propagateIterations}
//               pending ≥ maxPropagationBurstSize → 'flush-now'; else the caller arms one flush timer of
//               maxPropagationBurstLatency (Fabric runs a free ticker; arming only when something waits sends the
//               same batches without waking every 10 ms for nothing)
//   flush():    hand every pending item to the router (one gossipBatch), then decrement each; items reaching 0
//               leave the queue. Items with iterations left stay for the next flush.
// Bounded: past maxPending (default 8 × burst size) the oldest pending item is dropped.
export interface EmitterConfig {
  propagateIterations: number;
  maxPropagationBurstSize: number;
  maxPending?: number;
}

export type AddResult = 'flush-now' | 'arm-timer' | 'ignored';

export class BatchingEmitter<T> {
  private pending: { item: T; left: number }[] = [];
  dropped = 0;

  constructor(private readonly c: EmitterConfig) {}

  add(item: T): AddResult {
    if (this.c.propagateIterations <= 0) return 'ignored';
    this.pending.push({ item, left: this.c.propagateIterations });
    const max = this.c.maxPending ?? 8 * Math.max(1, this.c.maxPropagationBurstSize);
    while (this.pending.length > max) {
      this.pending.shift();
      this.dropped++;
    }
    return this.pending.length >= this.c.maxPropagationBurstSize ? 'flush-now' : 'arm-timer';
  }

  /** The batch to route now; every item's iteration count drops by one. */
  flush(): T[] {
    const batch = this.pending.map((p) => p.item);
    for (const p of this.pending) p.left--;
    this.pending = this.pending.filter((p) => p.left > 0);
    return batch;
  }

  get size(): number {
    return this.pending.length;
  }
}

/**
 * gossipBatch for blocks of one channel (digest §4.2): pick `peerNum` random eligible peers once for the
 * flush, then send each message to that set minus the peers its filter excludes (its relayer, its
 * originator). `shuffle` is the injected randomness.
 */
export function routeBatch<P, X, M extends { exclude: readonly X[] }>(
  batch: readonly M[],
  eligible: readonly P[],
  peerNum: number,
  sample: (xs: readonly P[], k: number) => P[],
  same: (excluded: X, peer: P) => boolean,
): { msg: M; to: P[] }[] {
  if (batch.length === 0) return [];
  const chosen = sample(eligible, peerNum);
  return batch.map((msg) => ({ msg, to: chosen.filter((p) => !msg.exclude.some((x) => same(x, p))) }));
}
