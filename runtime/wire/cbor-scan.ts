// Reading hostile CBOR without building it. A general decoder allocates whatever the input describes (1 MB of
// empty maps is a million objects), so the receive path reads the envelope's fixed shape by hand, and measures a
// payload's structure before the decoder sees it. Nothing here allocates per item.
//   head(i): major type (3 bits) ‖ additional info (5 bits); ai < 24 is the value, 24..27 a 1/2/4/8-byte value
//   after it, 31 an indefinite length (refused: murmur's encoder never writes one); canonical = shortest head
// A canonical payload scan also refuses maps keyed by anything but text strings, and keys out of the order of
// their encodings (RFC 8949 §4.2.1, what runtime/wire/cbor.ts writes): one order, so a key twice (a decoder
// would keep one of them silently) and a reordered map (another digest for the same message) are both refused.

export type Head = { major: number; value: number; next: number };

const NOT_A_MAP = -2;

/** Bytewise order of b[as, ae) and b[bs, be): a shorter prefix first. */
function compareBytes(b: Uint8Array, as: number, ae: number, bs: number, be: number): number {
  for (let x = as, y = bs; x < ae && y < be; x++, y++) if (b[x] !== b[y]) return b[x]! - b[y]!;
  return ae - as - (be - bs);
}

/** The head at `i`, or null (truncated, reserved, indefinite, or a value beyond 2^53). `canonical` refuses
 * heads longer than needed, so one value has one encoding. */
export function readHead(b: Uint8Array, i: number, canonical: boolean): Head | null {
  return headInto(b, i, canonical, { major: 0, value: 0, next: 0 });
}

/** readHead into `out` (the scan reuses one Head: a fresh object per item was a sixteenth of what the receive
 * path allocated under load). */
function headInto(b: Uint8Array, i: number, canonical: boolean, out: Head): Head | null {
  if (i >= b.length) return null;
  const major = b[i]! >> 5;
  const ai = b[i]! & 31;
  out.major = major;
  if (ai < 24) {
    out.value = ai;
    out.next = i + 1;
    return out;
  }
  const n = ai === 24 ? 1 : ai === 25 ? 2 : ai === 26 ? 4 : ai === 27 ? 8 : 0;
  if (n === 0 || i + 1 + n > b.length) return null;
  out.next = i + 1 + n;
  // Major 7 with ai 25..27 is a float, whose bits are neither a count nor a length.
  if (major === 7) {
    out.value = 0;
    return out;
  }
  let v = 0;
  for (let k = 1; k <= n; k++) v = v * 256 + b[i + k]!;
  if (v > Number.MAX_SAFE_INTEGER) return null;
  if (canonical && v < (n === 1 ? 24 : n === 2 ? 256 : n === 4 ? 65_536 : 2 ** 32)) return null;
  out.value = v;
  return out;
}

export interface ScanLimits {
  /** Data items in all (every array element, map key and value, tag, scalar). */
  maxItems: number;
  /** Nesting of arrays, maps and tags. */
  maxDepth: number;
  /** Only one encoding of a value: shortest heads, map keys text strings in strictly increasing order. */
  canonical?: boolean;
}

/** Whether `b` is exactly one well-formed CBOR item within the limits; the reason otherwise. */
export function scanCbor(b: Uint8Array, limits: ScanLimits): { ok: true; items: number } | { ok: false; reason: string } {
  let items = 0;
  const canonical = limits.canonical === true;
  // Explicit stack of remaining children per open container: no recursion a deep input could overflow. For
  // a map (canonical), where its previous key's encoding starts and ends (-1: none yet; NOT_A_MAP otherwise);
  // its children alternate key, value (a key when an even number remain).
  const remaining: number[] = [1];
  const keyStart: number[] = [NOT_A_MAP];
  const keyEnd: number[] = [NOT_A_MAP];
  const head: Head = { major: 0, value: 0, next: 0 };
  let i = 0;
  while (remaining.length > 0) {
    const top = remaining.length - 1;
    if (remaining[top] === 0) {
      remaining.pop();
      keyStart.pop();
      keyEnd.pop();
      continue;
    }
    const isKey = keyStart[top] !== NOT_A_MAP && remaining[top]! % 2 === 0;
    remaining[top]!--;
    if (++items > limits.maxItems) return { ok: false, reason: `more than ${limits.maxItems} items` };
    const h = headInto(b, i, canonical, head);
    if (!h) return { ok: false, reason: `bad head at ${i}` };
    if (isKey) {
      if (h.major !== 3) return { ok: false, reason: `map key at ${i} is not a text string` };
      const end = h.next + h.value;
      if (end > b.length) return { ok: false, reason: 'truncated string' };
      if (keyStart[top]! >= 0 && compareBytes(b, keyStart[top]!, keyEnd[top]!, i, end) >= 0) return { ok: false, reason: `map key at ${i} out of order or repeated` };
      keyStart[top] = i;
      keyEnd[top] = end;
    }
    i = h.next;
    switch (h.major) {
      case 0:
      case 1:
      case 7:
        break;
      case 2:
      case 3:
        if (i + h.value > b.length) return { ok: false, reason: 'truncated string' };
        i += h.value;
        break;
      case 4:
      case 5:
      case 6: {
        if (remaining.length > limits.maxDepth) return { ok: false, reason: `nested deeper than ${limits.maxDepth}` };
        const children = h.major === 4 ? h.value : h.major === 5 ? h.value * 2 : 1;
        // Each child needs at least one byte: a count beyond the bytes left is a lie, refused before any work.
        if (children > b.length - i) return { ok: false, reason: 'count beyond the input' };
        remaining.push(children);
        const map = canonical && h.major === 5 ? -1 : NOT_A_MAP;
        keyStart.push(map);
        keyEnd.push(map);
        break;
      }
    }
  }
  if (i !== b.length) return { ok: false, reason: 'trailing bytes' };
  return { ok: true, items };
}
