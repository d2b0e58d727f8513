// Small helpers shared by the bench scenarios: percentiles, rounding, paced load, test payloads.

/** Nearest-rank percentile (p in 0..100) of `xs`; null when empty. */
export function pct(xs: readonly number[], p: number): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export const mean = (xs: readonly number[]): number | null => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

/** Rounds to `digits` decimals; null stays null. */
export function round(x: number | null | undefined, digits = 1): number | null {
  if (x === null || x === undefined || !Number.isFinite(x)) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** A distinct transaction of `size` bytes (its index in the first 4 bytes). */
export function tx(i: number, size: number): Uint8Array {
  const t = new Uint8Array(size).fill(i % 251);
  new DataView(t.buffer).setUint32(0, i);
  return t;
}

/**
 * Calls `fire(i)` `rate` times a second for `durationMs` (drift-free: the i-th call is due at t0 + i/rate),
 * or until `stop()` returns true. Returns how many calls were made.
 */
export async function paced(rate: number, durationMs: number, fire: (i: number) => void, stop?: () => boolean): Promise<number> {
  const t0 = performance.now();
  const total = Math.round((rate * durationMs) / 1000);
  let i = 0;
  while (i < total && !stop?.()) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) * rate) / 1000) + 1);
    while (i < due) fire(i++);
    await sleep(Math.max(0, t0 + (i * 1000) / rate - performance.now()));
  }
  return i;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Waits until `pred` holds (polling every `stepMs`); the time it took, or throws after `ms`. */
export async function until(pred: () => boolean, ms: number, what: string, stepMs = 50): Promise<number> {
  const t0 = performance.now();
  const end = t0 + ms;
  while (!pred()) {
    if (performance.now() > end) throw new Error(`bench: timed out after ${ms} ms waiting for ${what}`);
    await sleep(stepMs);
  }
  return performance.now() - t0;
}
