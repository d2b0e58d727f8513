// uvu has no per-test timeout: every wait in a test goes through one of these, so a hang becomes a failure.
import { firstValueFrom, filter, timeout, type Observable } from 'rxjs';

/** Rejects with `what` if `p` does not settle within `ms`. */
export async function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`deadline: ${what} not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** First value of `obs` satisfying `pred`, or an error after `ms`. */
export function waitFor<T>(obs: Observable<T>, pred: (v: T) => boolean, ms: number, what: string): Promise<T> {
  return firstValueFrom(
    obs.pipe(
      filter(pred),
      timeout({ first: ms, with: () => { throw new Error(`deadline: ${what} not within ${ms} ms`); } }),
    ),
  );
}

/** Polls `pred` every `everyMs` until it holds, or fails after `ms`. */
export async function until(pred: () => boolean, ms: number, what: string, everyMs = 5): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`deadline: ${what} not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
