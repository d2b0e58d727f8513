// A steady transaction load: `rate` requests per second (paced in 10 ms ticks on the real clock) of `size`
// random bytes to each channel, at most `maxInFlight` unanswered at a time. Used by `murmur load` (for a
// duration) and `murmur up` (until it stops).
import { randomBytes } from 'node:crypto';
import type { OrdererClient } from './client.ts';

export interface LoadStats {
  sent: number;
  accepted: number;
  rejected: number;
  /** Refusal reasons (digits folded to N) → count. */
  errors: Record<string, number>;
}

export interface LoadGeneratorOptions {
  channels: string[];
  /** Transactions per second per channel. */
  rate: number;
  size: number;
  /** Answer timeout per request; ms (default 5000). */
  timeoutMs?: number;
  maxInFlight?: number;
}

export class LoadGenerator {
  readonly stats: LoadStats = { sent: 0, accepted: 0, rejected: 0, errors: {} };
  private readonly inFlight = new Set<Promise<void>>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly started = Date.now();
  private seq = 0;

  constructor(
    private readonly client: OrdererClient,
    private readonly o: LoadGeneratorOptions,
  ) {
    this.timer = setInterval(() => this.tick(), 10);
  }

  /** Stops sending and waits for the answers still in flight. */
  async stop(): Promise<LoadStats> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all(this.inFlight);
    return this.stats;
  }

  private tick(): void {
    const per = this.o.channels.length;
    const due = Math.floor(((Date.now() - this.started) * this.o.rate * per) / 1000) - this.stats.sent;
    const max = this.o.maxInFlight ?? Math.max(64, this.o.rate * per);
    for (let i = 0; i < due && this.inFlight.size < max; i++) this.send(this.o.channels[this.stats.sent % per]!);
  }

  private send(channel: string): void {
    const tx = new Uint8Array(this.o.size);
    tx.set(randomBytes(Math.min(this.o.size, 16)));
    if (this.o.size >= 24) new DataView(tx.buffer).setFloat64(16, this.seq++);
    this.stats.sent++;
    const p: Promise<void> = this.client.submit(channel, tx, this.o.timeoutMs ?? 5000).then((r) => {
      if (r.ok) this.stats.accepted++;
      else {
        this.stats.rejected++;
        const key = r.error.replace(/\d+/g, 'N');
        this.stats.errors[key] = (this.stats.errors[key] ?? 0) + 1;
      }
      this.inFlight.delete(p);
    });
    this.inFlight.add(p);
  }
}
