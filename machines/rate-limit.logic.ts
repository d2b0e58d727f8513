// Per-requester rate limits on what a peer serves (state requests, tree grafts): a token bucket per requester,
// `perSecond` tokens a second up to a burst of twice that, one token per request; time is passed in (pure,
// testable in simulated time). At most `maxRequesters` buckets are kept: a bucket that has refilled is as good
// as none and is dropped first, and a new requester beyond the bound is refused (counted by the caller), so
// memory stays bounded whatever identities an attacker cycles through.
export class RequesterLimits {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly burst: number;

  constructor(
    private readonly perSecond: number,
    private readonly maxRequesters = 10_000,
  ) {
    this.burst = Math.max(1, 2 * perSecond);
  }

  /** Takes one token of `requester`'s bucket at `now` (ms); false when it is empty (or no room for a bucket). */
  take(requester: string, now: number): boolean {
    let b = this.buckets.get(requester);
    if (b) {
      b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) * this.perSecond) / 1000);
      b.at = now;
    } else {
      if (this.buckets.size >= this.maxRequesters) this.sweep(now);
      if (this.buckets.size >= this.maxRequesters) return false;
      b = { tokens: this.burst, at: now };
      this.buckets.set(requester, b);
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Drops the buckets that are full again by `now`. */
  private sweep(now: number): void {
    for (const [id, b] of this.buckets) if (b.tokens + ((now - b.at) * this.perSecond) / 1000 >= this.burst) this.buckets.delete(id);
  }
}
