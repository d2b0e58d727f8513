// Counts refused inbound messages per reason. Nothing that fails to decode or verify is thrown at a caller:
// it is counted here and dropped.
import type { RejectReason } from './messages.ts';

export class RejectionCounter {
  private readonly counts = new Map<string, number>();
  private listeners: ((reason: string) => void)[] = [];

  count(reason: RejectReason | (string & {})): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
    for (const l of this.listeners) l(reason);
  }
  get(reason: string): number {
    return this.counts.get(reason) ?? 0;
  }
  get total(): number {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }
  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }
  /** Called on every rejection (metrics); returns an unsubscribe function. */
  onReject(fn: (reason: string) => void): () => void {
    this.listeners.push(fn);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== fn);
    };
  }
}
