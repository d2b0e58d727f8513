// The clock port: the one source of time for machines (XState delays), RxJS schedulers and the network.
// Production uses `realClock`; tests and the simulator use `SimClock`, which only moves when told to, so a
// run is a pure function of its seed. (Fabric's gossip has no clock abstraction; its tests sleep.)
import { Subscription, type SchedulerAction, type SchedulerLike } from 'rxjs';

/** A superset of XState v5's `Clock`: pass it as `createActor(machine, { clock })`. */
export interface Clock {
  /** Milliseconds; real clocks use the Unix epoch, simulated ones start wherever they are told. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
};

interface Timer {
  id: number;
  due: number;
  fn: () => void;
}

/** (due, insertion sequence): equal due times fire in the order they were scheduled. */
function before(a: Timer, b: Timer): boolean {
  return a.due < b.due || (a.due === b.due && a.id < b.id);
}

/**
 * Deterministic virtual time. Timers sit in a binary heap ordered by (due, insertion sequence); cleared
 * timers are removed lazily (and the heap is compacted when they pile up). Nothing fires unless
 * `advance`, `advanceTo`, `runNext` or `runUntil` is called, and then strictly in order: a timer scheduled
 * while another fires runs in the same call if it falls inside the window.
 */
export class SimClock implements Clock {
  private t: number;
  private seq = 0;
  private heap: Timer[] = [];
  private readonly live = new Map<number, Timer>();

  constructor(start = 0) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): number {
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    const timer: Timer = { id: ++this.seq, due: this.t + delay, fn };
    this.live.set(timer.id, timer);
    this.push(timer);
    return timer.id;
  }

  clearTimeout(id: unknown): void {
    if (typeof id !== 'number' || !this.live.delete(id)) return;
    // Lazy removal; compact when dead entries dominate so a clear-heavy workload stays bounded.
    if (this.heap.length > 64 && this.heap.length > 2 * this.live.size) {
      this.heap = [...this.live.values()].sort((a, b) => (before(a, b) ? -1 : 1));
    }
  }

  /** Live (not yet fired, not cleared) timers. */
  pending(): number {
    return this.live.size;
  }

  /** Due time of the earliest live timer, or null when none. */
  nextDue(): number | null {
    const top = this.peek();
    return top ? top.due : null;
  }

  /** Fires the earliest timer (moving time forward to its due time). False when there is none. */
  runNext(): boolean {
    const top = this.peek();
    if (!top) return false;
    this.pop();
    this.live.delete(top.id);
    if (top.due > this.t) this.t = top.due;
    top.fn();
    return true;
  }

  /** Moves time forward by `ms`, firing every timer due up to the new time, in order. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`SimClock.advance: ms must be >= 0, got ${ms}`);
    this.advanceTo(this.t + ms);
  }

  /** Moves time forward to `target` (never backwards), firing every timer due up to it, in order. */
  advanceTo(target: number): void {
    if (!(target >= this.t)) throw new RangeError(`SimClock.advanceTo: ${target} is before now (${this.t})`);
    for (let top = this.peek(); top && top.due <= target; top = this.peek()) this.runNext();
    this.t = target;
  }

  /**
   * Fires timers one by one until `pred()` holds (true) or the next timer lies more than `maxMs` ahead of
   * the starting time (false; time is then left at the deadline). `pred` is checked before each timer.
   */
  runUntil(pred: () => boolean, maxMs: number): boolean {
    const deadline = this.t + maxMs;
    for (;;) {
      if (pred()) return true;
      const due = this.nextDue();
      if (due === null || due > deadline) {
        this.t = Math.max(this.t, deadline);
        return pred();
      }
      this.runNext();
    }
  }

  private peek(): Timer | undefined {
    while (this.heap.length > 0 && !this.live.has(this.heap[0]!.id)) this.pop();
    return this.heap[0];
  }

  private push(timer: Timer): void {
    const h = this.heap;
    h.push(timer);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (h.length === 0 || !last) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l]!, h[m]!)) m = l;
      if (r < h.length && before(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}

/** One scheduled unit of RxJS work; rescheduling (interval, bufferTime) replaces its timer. */
class ClockAction<T> extends Subscription implements SchedulerAction<T> {
  private timer: unknown = null;
  private state: T | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly work: (this: SchedulerAction<T>, state?: T) => void,
  ) {
    super();
    this.add(() => this.cancel());
  }

  schedule(state?: T, delay = 0): Subscription {
    if (this.closed) return this;
    this.state = state;
    this.cancel();
    this.timer = this.clock.setTimeout(() => this.execute(), Math.max(0, delay));
    return this;
  }

  private execute(): void {
    this.timer = null;
    if (this.closed) return;
    try {
      this.work.call(this, this.state);
    } catch (err) {
      this.unsubscribe();
      throw err;
    }
    // Not rescheduled by the work: the action is finished (as RxJS's AsyncAction).
    if (this.timer === null && !this.closed) this.unsubscribe();
  }

  private cancel(): void {
    if (this.timer !== null) {
      this.clock.clearTimeout(this.timer);
      this.timer = null;
    }
  }
}

/** An RxJS scheduler on the given clock: `interval(1000, clockScheduler(sim))` ticks in simulated time. */
export function clockScheduler(clock: Clock): SchedulerLike {
  return {
    now: () => clock.now(),
    schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription {
      return new ClockAction<T>(clock, work).schedule(state, delay);
    },
  };
}
