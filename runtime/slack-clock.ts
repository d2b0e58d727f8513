// Real time with timer slack, for peers: a timer of `ms` fires at the next multiple of a grid step of at most
// 1/16 of `ms` (a 1 s timer on the 50 ms grid, a 5 s one on the 250 ms grid; under 80 ms, exactly as asked),
// never early. Peers' timers are periodic and independent (heartbeats, expiry checks, pull rounds, StateInfo),
// so without slack an idle process wakes for each of them apart; on a virtual machine a wake-up costs about
// 100-200 µs of CPU (interrupt, timer reprogramming, epoll), more than the work it does. With slack, every
// timer of every peer in the process that falls due in one grid slot runs in one wake-up (one Node timer per
// slot). The protocol's timings move by at most 1/16 (6 %), always later: a timeout never fires early, a
// periodic task runs a little less often, never more. Linux's timer slack and browsers' timer alignment for
// background tabs are the same idea. The orderer and tests keep `realClock`.
import type { Clock } from './clock.ts';

/** Grid steps (ms), largest first; a timer uses the largest whose 16-fold fits in its delay. */
const STEPS = [250, 100, 50, 25, 10, 5] as const;
/** Slots this close to the one firing (ms) run in the same wake-up: Node's timers fire on a ms clock
 * that may lag the high-resolution one a little. */
const TOLERANCE_MS = 2;

interface Slot {
  at: number;
  entries: Set<Entry>;
  timer: unknown;
}
interface Entry {
  fn: () => void;
  slot: Slot | null;
  /** A timer too short for slack: a plain timer of the base clock. */
  plain: unknown;
}

/** Node's timers on the monotonic high-resolution clock. */
const nodeTimers: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
};

/** The grid step for a delay of `ms`, or 0 for none. */
export function slackStep(ms: number): number {
  for (const s of STEPS) if (s * 16 <= ms) return s;
  return 0;
}

/** When a timer of `ms` set at `now` fires: its due time rounded up to its grid. */
export function slackDue(now: number, ms: number): number {
  const step = slackStep(ms);
  const due = now + ms;
  return step === 0 ? due : Math.ceil(due / step) * step;
}

export class SlackTimers {
  private readonly slots = new Map<number, Slot>();

  /** `base` runs the timers: Node's by default, a SimClock in tests. */
  constructor(private readonly base: Clock = nodeTimers) {}

  /** Timers waiting (for tests and metrics). */
  get pending(): number {
    let n = 0;
    for (const s of this.slots.values()) n += s.entries.size;
    return n;
  }

  setTimeout(fn: () => void, ms: number): Entry {
    const delay = Math.max(0, ms);
    if (slackStep(delay) === 0) {
      const e: Entry = { fn, slot: null, plain: null };
      e.plain = this.base.setTimeout(() => {
        e.plain = null;
        fn();
      }, delay);
      return e;
    }
    const now = this.base.now();
    const at = slackDue(now, delay);
    let slot = this.slots.get(at);
    if (!slot) {
      const s: Slot = { at, entries: new Set(), timer: null };
      s.timer = this.base.setTimeout(() => this.fire(s), Math.ceil(at - now));
      this.slots.set(at, s);
      slot = s;
    }
    const e: Entry = { fn, slot, plain: null };
    slot.entries.add(e);
    return e;
  }

  clearTimeout(id: unknown): void {
    const e = id as Entry | null | undefined;
    if (!e || typeof e !== 'object') return;
    if (e.plain !== null) {
      this.base.clearTimeout(e.plain);
      e.plain = null;
      return;
    }
    const slot = e.slot;
    if (!slot) return;
    e.slot = null;
    slot.entries.delete(e);
    if (slot.entries.size === 0 && this.slots.get(slot.at) === slot) {
      this.base.clearTimeout(slot.timer);
      this.slots.delete(slot.at);
    }
  }

  /** Runs the slot whose Node timer fired and every other one due by now, earliest first. */
  private fire(first: Slot): void {
    const limit = this.base.now() + TOLERANCE_MS;
    const due = [first];
    for (const s of this.slots.values()) if (s !== first && s.at <= limit) due.push(s);
    due.sort((a, b) => a.at - b.at);
    for (const s of due) {
      if (s !== first) this.base.clearTimeout(s.timer);
      this.slots.delete(s.at);
    }
    for (const s of due) {
      // A Set's iteration skips entries deleted meanwhile: a timer cleared by an earlier callback of this
      // wake-up does not run.
      for (const e of s.entries) {
        e.slot = null;
        try {
          e.fn();
        } catch (err) {
          // Like Node's timers: a throwing callback is the process's problem, not its neighbours'.
          queueMicrotask(() => {
            throw err;
          });
        }
      }
    }
  }
}

const shared = new SlackTimers();

/** The peers' clock: Unix-epoch time, timers with slack shared by every peer in the process. */
export const slackClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => shared.setTimeout(fn, ms),
  clearTimeout: (id) => shared.clearTimeout(id),
};
