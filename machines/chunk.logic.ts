// Splitting a list of items into messages that each stay under the bus's max_payload.
//   greedy, in order: start a new chunk when adding the next item would pass `budget` bytes; an item larger
//   than the budget on its own cannot travel and is returned in `oversized` (the caller counts it)
// Used by pull updates and state responses (NATS max_payload is 1 MB by default; Fabric issue #2804).
export function chunkBySize<T>(items: readonly T[], sizeOf: (x: T) => number, budget: number, perItemOverhead = 16): { chunks: T[][]; oversized: T[] } {
  const chunks: T[][] = [];
  const oversized: T[] = [];
  let cur: T[] = [];
  let used = 0;
  for (const x of items) {
    const n = sizeOf(x) + perItemOverhead;
    if (n > budget) {
      oversized.push(x);
      continue;
    }
    if (cur.length && used + n > budget) {
      chunks.push(cur);
      cur = [];
      used = 0;
    }
    cur.push(x);
    used += n;
  }
  if (cur.length) chunks.push(cur);
  return { chunks, oversized };
}
