// Pure parts of the simulator: the ledger-prefix check, the skewed clock, percentiles, fault knobs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkLedgerPrefix, type ChainView } from '../../runtime/sim/invariants.ts';
import { SkewedClock, drawLink, drawSkew, FAULT_PROFILES } from '../../runtime/sim/faults.ts';
import { percentiles } from '../../runtime/sim/summary.ts';
import { livenessBoundMs, replayCommand } from '../../runtime/sim/simulator.ts';
import { classify } from '../../runtime/sim/kinds.ts';
import { SimClock } from '../../runtime/clock.ts';
import { rngFromSeed } from '../../runtime/rng.ts';

const chain = (hashes: number[]): ChainView => ({ height: () => hashes.length, hash: (n) => (n < hashes.length ? new Uint8Array([hashes[n]!]) : null) });

test('checkLedgerPrefix: a prefix passes and is verified incrementally; a fork or an overlong ledger fails', () => {
  const orderer = chain([0, 1, 2, 3]);
  assert.equal(checkLedgerPrefix(orderer, chain([0, 1]), 0), { verified: 2, violation: null });
  assert.equal(checkLedgerPrefix(orderer, chain([0, 1, 2, 3]), 2), { verified: 4, violation: null });
  const fork = checkLedgerPrefix(orderer, chain([0, 1, 9]), 0);
  assert.is(fork.violation?.name, 'ledger-not-from-orderer');
  assert.is(fork.verified, 2);
  assert.is(checkLedgerPrefix(orderer, chain([0, 1, 2, 3, 4]), 0).violation?.name, 'ledger-beyond-orderer');
  // Blocks already verified are not looked at again (ledgers never shrink).
  assert.equal(checkLedgerPrefix(orderer, chain([7, 7, 2]), 2), { verified: 3, violation: null });
});

test('SkewedClock: offset and rate apply to now() and to timers, in whole milliseconds, on the shared clock', () => {
  const base = new SimClock(1_000_000);
  const c = new SkewedClock(base, -5000, 1.25);
  assert.is(c.now(), 995_000);
  let fired = -1;
  c.setTimeout(() => (fired = base.now()), 1000);
  base.advance(799);
  assert.is(fired, -1);
  base.advance(1);
  assert.is(fired, 1_000_800, 'a fast clock fires its 1 s timer after 800 ms of shared time');
  assert.is(c.now(), 1_000_000 + 1000 - 5000);
  const id = c.setTimeout(() => assert.unreachable('cleared'), 10);
  c.clearTimeout(id);
  base.advance(100);
});

test('percentiles and fault knobs', () => {
  assert.is(percentiles([]), null);
  assert.equal(percentiles([5, 1, 3, 2, 4]), { count: 5, p50: 3, p90: 5, p99: 5, max: 5 });
  const none = drawLink(FAULT_PROFILES.none, rngFromSeed(1));
  assert.equal([none.loss, none.duplicate, none.reorder], [0, 0, 0]);
  const heavy = drawLink(FAULT_PROFILES.heavy, rngFromSeed(1));
  assert.ok(heavy.loss >= 0.05 && heavy.loss <= 0.2);
  assert.is(drawSkew(FAULT_PROFILES.none, rngFromSeed(1), ['a']), null);
  const s = drawSkew(FAULT_PROFILES.default, rngFromSeed(1), ['a', 'b'])!;
  assert.ok(Math.abs(s.offsetMs) <= 20_000 && Math.abs(s.rate - 1) <= 0.01);
  assert.equal(drawSkew(FAULT_PROFILES.default, rngFromSeed(1), ['a', 'b']), s, 'drawn from the seed');
  assert.ok(livenessBoundMs() > 100_000 && livenessBoundMs() < 400_000, `${livenessBoundMs()}`);
});

test('replay command names every option that changes the run', () => {
  assert.is(
    replayCommand({ orgs: 2, peers: 3, blocks: 5, seed: '42', faults: 'heavy', profile: 'fabric' }),
    'npm run sim -- --orgs 2 --peers 3 --blocks 5 --seed 42 --faults heavy --profile fabric',
  );
  assert.match(replayCommand({ orgs: 1, peers: 2, blocks: 0, seed: 'x', faults: 'byzantine', profile: 'murmur', channels: 2, signer: 'sim', safetyMs: 30_000 }), '--channels 2 --signer sim --safety 30');
});

test('classify: junk is kind null; non-envelopes never throw', () => {
  assert.equal(classify(new Uint8Array([1, 2, 3])), { kind: null, blocks: 0, embedded: [] });
  assert.is(classify(new Uint8Array()).kind, null);
});

test.run();
