import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cryptoRng, Rng, rngFromSeed } from '../../runtime/rng.ts';

const draw = (r: Rng, n = 20) => Array.from({ length: n }, () => r.next());

test('same seed → same sequence; numbers and their text are one seed', () => {
  assert.equal(draw(rngFromSeed(42)), draw(rngFromSeed(42)));
  assert.equal(draw(rngFromSeed(42)), draw(rngFromSeed('42')));
  assert.not.equal(draw(rngFromSeed(42)), draw(rngFromSeed(43)));
  assert.not.equal(draw(rngFromSeed('a')), draw(rngFromSeed('b')));
  assert.is(rngFromSeed(7).seed, '7');
});

test('next() is in [0, 1)', () => {
  const r = rngFromSeed('range');
  for (let i = 0; i < 10_000; i++) {
    const x = r.next();
    assert.ok(x >= 0 && x < 1);
  }
});

test('forks: deterministic, independent, and do not advance the parent', () => {
  const parent = rngFromSeed('sim');
  const before = draw(rngFromSeed('sim'), 5);
  const f1 = parent.fork('peer1');
  const f1again = parent.fork('peer1');
  const f2 = parent.fork('peer2');
  assert.equal(draw(parent, 5), before, 'forking leaves the parent stream untouched');
  const a = draw(f1);
  assert.equal(a, draw(f1again));
  assert.not.equal(a, draw(f2));
  assert.not.equal(a, draw(rngFromSeed('sim'), 20));
  // A fork depends on the seed, not on how far the parent advanced.
  const advanced = rngFromSeed('sim');
  draw(advanced, 100);
  assert.equal(draw(advanced.fork('peer1')), a);
  assert.equal(draw(rngFromSeed('sim').fork('peer1').fork('net')), draw(rngFromSeed('sim').fork('peer1').fork('net')));
});

test('int(n) stays in [0, n) and hits every value', () => {
  const r = rngFromSeed(1);
  for (const n of [1, 2, 3, 7, 10, 1000, 2 ** 32, 2 ** 40, 2 ** 53]) {
    for (let i = 0; i < 500; i++) {
      const x = r.int(n);
      assert.ok(Number.isInteger(x) && x >= 0 && x < n, `int(${n}) gave ${x}`);
    }
  }
  const seen = new Set(Array.from({ length: 500 }, () => r.int(7)));
  assert.is(seen.size, 7);
  for (const bad of [0, -1, 1.5, NaN, 2 ** 53 + 2]) assert.throws(() => r.int(bad), RangeError);
});

test('int(n) distribution: chi-square over 10 buckets', () => {
  const r = rngFromSeed('chi');
  const k = 10;
  const n = 100_000;
  const counts = new Array<number>(k).fill(0);
  for (let i = 0; i < n; i++) counts[r.int(k)]!++;
  const expected = n / k;
  const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
  // 9 degrees of freedom: p = 0.001 at 27.9.
  assert.ok(chi2 < 27.9, `chi2 ${chi2.toFixed(2)} counts ${counts}`);
});

test('next() distribution: mean and buckets', () => {
  const r = rngFromSeed('mean');
  const n = 100_000;
  let sum = 0;
  const counts = new Array<number>(20).fill(0);
  for (let i = 0; i < n; i++) {
    const x = r.next();
    sum += x;
    counts[Math.floor(x * 20)]!++;
  }
  assert.ok(Math.abs(sum / n - 0.5) < 0.01);
  const expected = n / 20;
  const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
  assert.ok(chi2 < 43.8, `chi2 ${chi2}`); // 19 dof, p = 0.001
});

test('range, chance, pick, shuffle, sample', () => {
  const r = rngFromSeed('helpers');
  for (let i = 0; i < 1000; i++) {
    const x = r.range(5, 10);
    assert.ok(x >= 5 && x < 10);
  }
  assert.throws(() => r.range(2, 1), RangeError);
  let hits = 0;
  for (let i = 0; i < 10_000; i++) if (r.chance(0.3)) hits++;
  assert.ok(Math.abs(hits - 3000) < 200, `hits ${hits}`);
  assert.is(r.chance(0), false);
  assert.is(r.chance(1), true);

  const xs = [1, 2, 3, 4, 5, 6, 7, 8];
  assert.ok(xs.includes(r.pick(xs)));
  assert.throws(() => r.pick([]), RangeError);
  const sh = r.shuffle(xs);
  assert.equal(xs, [1, 2, 3, 4, 5, 6, 7, 8], 'input untouched');
  assert.equal([...sh].sort(), xs);
  const s = r.sample(xs, 3);
  assert.is(s.length, 3);
  assert.is(new Set(s).size, 3);
  assert.ok(s.every((v) => xs.includes(v)));
  assert.is(r.sample(xs, 20).length, 8);
  assert.equal(r.sample(xs, 0), []);
  // Every element is sampled over many draws.
  const seen = new Set<number>();
  for (let i = 0; i < 200; i++) for (const v of r.sample(xs, 2)) seen.add(v);
  assert.is(seen.size, 8);
});

test('nonce: positive safe integer, never 0, spread over 53 bits', () => {
  const r = rngFromSeed('nonce');
  let big = 0;
  const seen = new Set<number>();
  for (let i = 0; i < 10_000; i++) {
    const x = r.nonce();
    assert.ok(Number.isSafeInteger(x) && x > 0 && x < 2 ** 53);
    if (x > 2 ** 52) big++;
    seen.add(x);
  }
  assert.is(seen.size, 10_000);
  assert.ok(big > 4500 && big < 5500, `big ${big}`);
});

test('bytes(n)', () => {
  const r = rngFromSeed('bytes');
  for (const n of [0, 1, 3, 4, 5, 33]) assert.is(r.bytes(n).length, n);
  assert.equal(rngFromSeed('b').bytes(17), rngFromSeed('b').bytes(17));
  const big = r.bytes(100_000);
  const mean = big.reduce((s, b) => s + b, 0) / big.length;
  assert.ok(Math.abs(mean - 127.5) < 2);
});

test('cryptoRng has the same interface and is not reproducible', () => {
  const a = cryptoRng();
  const b = cryptoRng();
  assert.not.equal(draw(a), draw(b));
  assert.is(a.seed, null);
  const x = a.nonce();
  assert.ok(x > 0 && Number.isSafeInteger(x));
  assert.is(a.fork('x').bytes(8).length, 8);
  assert.ok(a.int(10) < 10);
});

test('pinned values: the generator does not change silently', () => {
  const r = rngFromSeed(12345);
  const pinned = [r.int(1000), r.int(1000), r.int(1000)];
  // If this fails, every recorded simulation seed replays differently: bump it deliberately.
  assert.equal(pinned, PINNED);
});

const PINNED = [866, 532, 589];

test.run();
