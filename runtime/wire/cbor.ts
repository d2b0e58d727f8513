// One CBOR configuration for everything murmur puts on the wire or on disk, in one encoding per value (RFC 8949
// §4.2.1, core deterministic): shortest heads, definite lengths, and map keys in the bytewise order of their
// encodings (for text keys: shorter first, then by UTF-8 bytes). A receiver refuses any other encoding of a
// signed payload (runtime/wire/cbor-scan.ts), so re-encoding what it decoded gives the bytes that were signed.
// Records (cbor-x's non-standard extension) stay off so other implementations can read our bytes, and so a
// hostile input cannot install shared record structures in the decoder.
import { Decoder, Encoder } from 'cbor-x';

// variableMapSize: a map's count in its shortest head (cbor-x otherwise reserves two bytes).
// useTag259ForMaps off: a Map (how ordered keys reach the encoder) is a plain CBOR map, not cbor-x's tag 259.
// (cbor-x reads the option; its type declarations do not list it.)
const encoder = new Encoder({ useRecords: false, tagUint8Array: false, mapsAsObjects: true, variableMapSize: true, useTag259ForMaps: false } as ConstructorParameters<typeof Encoder>[0]);
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

// cbor-x's REUSE_BUFFER_MODE | RESET_BUFFER_MODE (its node entry does not export the names): encode into the
// encoder's one buffer, from its start every time, and copy the bytes out at their size. Left to itself cbor-x
// writes each value further into its buffer and allocates a new one whenever it runs short (every few 4 KB
// blocks); in a loaded peer the fresh memory cost more than the copy (see README, Benchmarks).
const REUSE_AND_RESET = 512 | 1024;
type ReusedTarget = Uint8Array & { start: number; end: number };
const encodeReusing = encoder.encode.bind(encoder) as unknown as (value: unknown, mode: number) => ReusedTarget;

export function encodeCbor(value: unknown): Uint8Array {
  const t = encodeReusing(ordered(value), REUSE_AND_RESET);
  // A copy (TypedArray slice; Buffer#slice would be a view of the buffer the next encode overwrites).
  return Uint8Array.prototype.slice.call(t, t.start, t.end);
}

/** Decodes one CBOR item; throws on malformed input (callers turn that into a counted rejection). */
export function decodeCbor(bytes: Uint8Array): unknown {
  return decoder.decode(bytes);
}

/** Text keys in the order of their deterministic encodings: UTF-8 length first, then bytes. */
export function compareKeys(a: string, b: string): number {
  if (ascii(a) && ascii(b)) return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length - y.length || Buffer.compare(x, y);
}

const ascii = (s: string) => {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
};

/**
 * The value with every plain object turned into a Map in key order (a JS object iterates integer-like keys
 * first, whatever their encoding's order). Arrays are copied only when an element changes; bytes, strings and
 * numbers pass as they are.
 */
function ordered(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return v;
  if (Array.isArray(v)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < v.length; i++) {
      const o = ordered(v[i]);
      if (o !== v[i]) (out ??= v.slice())[i] = o;
    }
    return out ?? v;
  }
  if (v instanceof Map) return new Map([...v.entries()].sort((a, b) => compareKeys(String(a[0]), String(b[0]))).map(([k, x]) => [k, ordered(x)]));
  const keys = Object.keys(v).sort(compareKeys);
  return new Map(keys.map((k) => [k, ordered((v as Record<string, unknown>)[k])]));
}
