// A set of timers on the injected clock that an actor owns and clears in one call when it stops.
import type { Clock } from './clock.ts';

export class TimerGroup {
  private readonly ids = new Set<unknown>();
  private active = true;

  constructor(private readonly clock: Clock) {}

  /** Runs `fn` once after `ms`. */
  later(ms: number, fn: () => void): void {
    if (!this.active) return;
    const id = this.clock.setTimeout(() => {
      this.ids.delete(id);
      if (this.active) fn();
    }, ms);
    this.ids.add(id);
  }

  /** Runs `fn` every `ms`, first after `first` (default `ms`): a fixed-delay loop, like Fabric's tickers. */
  every(ms: number, fn: () => void, first = ms): void {
    const tick = () => {
      fn();
      this.later(ms, tick);
    };
    this.later(first, tick);
  }

  /** Cancels everything; the group schedules nothing afterwards. */
  clear(): void {
    this.active = false;
    for (const id of this.ids) this.clock.clearTimeout(id);
    this.ids.clear();
  }
}

/**
 * A random first delay in (0, ms]: peers started together (one `murmur up`, one benchmark process) would
 * otherwise sign and send their periodic messages in the same instant every period, and every receiver verify
 * them all in one burst that holds up the blocks behind it. The period itself is unchanged.
 */
export function phase(rng: { int(n: number): number }, ms: number): number {
  return ms <= 1 ? ms : 1 + rng.int(Math.floor(ms));
}
