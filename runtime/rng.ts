// Seeded randomness: every random choice in murmur (peer sampling, jitter, nonces, network faults) draws from
// an injected `Rng`, and each consumer gets its own stream with `fork(name)`, so adding a draw in one place
// does not shift the draws of another. One seed replays a whole simulation.
//
// Generator: sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, 128-bit state, passes PractRand).
// Seeding: the seed's UTF-8 bytes through four MurmurHash3 (x86, 32-bit) lanes, then 16 warm-up rounds.
// Numbers and strings are both keyed by their text: rngFromSeed(42) and rngFromSeed('42') are the same stream.
import { randomBytes } from 'node:crypto';

/** A source of uniform 32-bit unsigned integers. */
interface Source {
  next32(): number;
  fork(name: string): Source;
  /** The textual key this stream was derived from; null for the crypto source. */
  readonly seed: string | null;
}

const TWO32 = 0x1_0000_0000;
const TWO53 = 2 ** 53;

function murmur3(bytes: Uint8Array, seed: number): number {
  let h = seed >>> 0;
  const n = bytes.length;
  const tail = n & ~3;
  for (let i = 0; i < tail; i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = n & 3;
  if (rest > 0) {
    let k = 0;
    if (rest === 3) k ^= bytes[tail + 2]! << 16;
    if (rest >= 2) k ^= bytes[tail + 1]! << 8;
    k ^= bytes[tail]!;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= n;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

class Sfc32 implements Source {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(readonly seed: string) {
    const key = new TextEncoder().encode(seed);
    this.a = murmur3(key, 0x9e3779b9);
    this.b = murmur3(key, 0x243f6a88);
    this.c = murmur3(key, 0xb7e15162);
    this.d = murmur3(key, 0x6a09e667);
    for (let i = 0; i < 16; i++) this.next32();
  }

  next32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  fork(name: string): Source {
    return new Sfc32(`${this.seed}\u0000${name}`);
  }
}

class CryptoSource implements Source {
  readonly seed = null;
  private buf = Buffer.alloc(0);
  private off = 0;

  next32(): number {
    if (this.off + 4 > this.buf.length) {
      this.buf = randomBytes(1024);
      this.off = 0;
    }
    const v = this.buf.readUInt32LE(this.off);
    this.off += 4;
    return v;
  }

  fork(): Source {
    return new CryptoSource();
  }
}

export class Rng {
  constructor(private readonly source: Source) {}

  /** The seed text this stream derives from (forks append their names); null for `cryptoRng()`. */
  get seed(): string | null {
    return this.source.seed;
  }

  /** Uniform float in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.source.next32() >>> 5; // 27 bits
    const lo = this.source.next32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / TWO53;
  }

  /** Uniform integer in [0, n), unbiased (rejection sampling). n: integer in [1, 2^53]. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO53) throw new RangeError(`Rng.int: n must be an integer in [1, 2^53], got ${n}`);
    if (n <= TWO32) {
      const limit = TWO32 - (TWO32 % n);
      for (;;) {
        const x = this.source.next32();
        if (x < limit) return x % n;
      }
    }
    const limit = TWO53 - (TWO53 % n);
    for (;;) {
      const x = (this.source.next32() >>> 11) * TWO32 + this.source.next32();
      if (x < limit) return x % n;
    }
  }

  /** Uniform float in [min, max). */
  range(min: number, max: number): number {
    if (!(max >= min)) throw new RangeError(`Rng.range: max (${max}) < min (${min})`);
    return min + this.next() * (max - min);
  }

  /** True with probability p. Always consumes exactly one draw, whatever p is. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new RangeError('Rng.pick: empty array');
    return xs[this.int(xs.length)]!;
  }

  /** A shuffled copy (Fisher–Yates); the input is not touched. */
  shuffle<T>(xs: readonly T[]): T[] {
    const out = xs.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }

  /** k distinct elements in random order; k is clamped to [0, xs.length]. */
  sample<T>(xs: readonly T[], k: number): T[] {
    const out = xs.slice();
    const m = Math.max(0, Math.min(Math.floor(k), out.length));
    for (let i = 0; i < m; i++) {
      const j = i + this.int(out.length - i);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out.slice(0, m);
  }

  /** Uniform integer in [1, 2^53): a positive safe integer, never 0. */
  nonce(): number {
    return 1 + this.int(TWO53 - 1);
  }

  bytes(n: number): Uint8Array {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`Rng.bytes: n must be a non-negative integer, got ${n}`);
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      let w = this.source.next32();
      for (let j = i; j < Math.min(i + 4, n); j++) {
        out[j] = w & 0xff;
        w >>>= 8;
      }
    }
    return out;
  }

  /**
   * An independent stream derived from this stream's seed and `name`. Deterministic (the same name gives the
   * same stream, however far this one has advanced) and does not advance this stream.
   */
  fork(name: string): Rng {
    return new Rng(this.source.fork(name));
  }
}

export function rngFromSeed(seed: number | string): Rng {
  if (typeof seed === 'number' && !Number.isFinite(seed)) throw new RangeError(`rngFromSeed: seed must be finite, got ${seed}`);
  return new Rng(new Sfc32(String(seed)));
}

/** Production randomness (nonces, jitter) from node:crypto; `fork` returns another crypto stream. */
export function cryptoRng(): Rng {
  return new Rng(new CryptoSource());
}
