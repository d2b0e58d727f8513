// The block cutter on a clock: BatchTimeout after the first transaction of a pending batch, the batch is cut.
// (Fabric starts the timer when a batch becomes pending and does not restart it when a cut leaves a new
// pending batch; murmur restarts it, so every batch waits at most BatchTimeout from its own first tx.)
import type { Clock } from '../clock.ts';
import { BlockCutter, type BatchSize } from './cutter.ts';

export class Batcher {
  private readonly cutter: BlockCutter;
  private timer: unknown = null;
  private stopped = false;

  constructor(
    size: BatchSize,
    private readonly batchTimeoutMs: number,
    private readonly clock: Clock,
    private readonly onBatch: (txs: Uint8Array[]) => void,
  ) {
    this.cutter = new BlockCutter(size);
  }

  get pendingCount(): number {
    return this.cutter.pendingCount;
  }

  add(tx: Uint8Array): void {
    if (this.stopped) return;
    const { batches, pending } = this.cutter.ordered(tx);
    if (batches.length || !pending) this.stopTimer();
    for (const b of batches) this.onBatch(b);
    if (pending && this.timer === null) this.timer = this.clock.setTimeout(() => this.expire(), this.batchTimeoutMs);
  }

  /** Cuts whatever is pending now (shutdown). */
  flush(): void {
    this.stopTimer();
    const b = this.cutter.cut();
    if (b.length) this.onBatch(b);
  }

  stop(): void {
    this.stopped = true;
    this.stopTimer();
  }

  private expire(): void {
    this.timer = null;
    const b = this.cutter.cut();
    if (b.length) this.onBatch(b);
  }

  private stopTimer(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }
}
