// The deterministic simulator (runtime/sim/simulator.ts): a handful of seeds per fault set on small networks,
// the determinism self-check, a planted violation the checker must catch, and the CLI's exit codes.
// `npm run sim:soak -- --seeds 500` runs many more.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { simulate, simulateTwice, type SimOptions } from '../../runtime/sim/simulator.ts';
import { main } from '../../runtime/sim/cli.ts';

const base = { orgs: 2, peers: 3, blocks: 5 } as const;

const runs: [SimOptions['faults'], SimOptions['profile'], string][] = [
  ['none', 'murmur', '1'],
  ['none', 'fabric', '2'],
  ['default', 'murmur', '3'],
  ['default', 'fabric', '4'],
  ['heavy', 'murmur', '5'],
  ['heavy', 'fabric', '6'],
  ['byzantine', 'murmur', '7'],
  ['byzantine', 'fabric', '8'],
];

for (const [faults, profile, seed] of runs) {
  test(`${faults}/${profile} seed ${seed}: every invariant holds and the network converges`, async () => {
    const r = await simulate({ ...base, seed, faults, profile });
    assert.is(r.violation, null, `${r.violation?.name}: ${r.violation?.detail}\n${r.replay}`);
    const s = r.summary;
    assert.is(s.blocks.ordered.channel1, 5);
    assert.ok(s.convergedAtMs !== null && s.convergedAtMs >= s.safetyEndMs);
    assert.ok(s.invariantChecks > 500);
    if (faults !== 'none') assert.ok(Object.keys(s.faultsInjected).length > 0 || s.skew, 'faults were injected');
    if (faults === 'byzantine') {
      assert.ok(s.attacks && (s.attacks.flood ?? 0) > 0, 'the byzantine peer attacked');
      assert.ok((s.rejections['bad-signature'] ?? 0) + (s.rejections['signer-mismatch'] ?? 0) > 0, 'its forgeries were refused');
    }
  });
}

test('determinism: the same seed twice gives the same trace digest; another seed another one', async () => {
  const o: SimOptions = { orgs: 2, peers: 2, blocks: 3, seed: 'det', faults: 'heavy', profile: 'murmur', safetyMs: 30_000 };
  const twice = await simulateTwice(o);
  assert.is(twice.violation, null, twice.violation?.detail);
  assert.is(twice.deterministic, true);
  const other = await simulate({ ...o, seed: 'det2' });
  assert.is.not(other.summary.traceDigest, twice.summary.traceDigest);
});

test('a planted violation (a block the orderer key signed but the ordering service never produced) is caught', async () => {
  const r = await simulate({ ...base, seed: '9', faults: 'none', profile: 'murmur', plant: 'ledger-fork' });
  assert.ok(r.violation && /^ledger-/.test(r.violation.name), JSON.stringify(r.violation));
  assert.is(r.violation!.phase, 'safety');
  assert.match(r.replay, '--seed 9 --faults none --profile murmur --plant ledger-fork');
});

async function cli(args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const log = console.log;
  const err = process.stderr.write;
  console.log = (...a: unknown[]) => void lines.push(a.join(' '));
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    return { code: await main(args), out: lines.join('\n') };
  } finally {
    console.log = log;
    process.stderr.write = err;
  }
}

test('CLI: exit 0 with a JSON report, 1 on a violation with its replay command, 2 on bad usage', async () => {
  const ok = await cli(['--orgs', '1', '--peers', '2', '--blocks', '2', '--seed', '5', '--faults', 'none', '--safety', '20', '--json']);
  assert.is(ok.code, 0, ok.out);
  const report = JSON.parse(ok.out);
  assert.is(report.ok, true);
  assert.is(report.summary.blocks.ordered.channel1, 2);
  assert.is(report.replay, 'npm run sim -- --orgs 1 --peers 2 --blocks 2 --seed 5 --faults none --profile murmur --safety 20');
  const bad = await cli(['--orgs', '1', '--peers', '2', '--blocks', '2', '--seed', '5', '--plant', 'ledger-fork']);
  assert.is(bad.code, 1);
  assert.match(bad.out, /VIOLATION ledger-[a-z-]+ at [\d.]+ s simulated \(safety phase\)/);
  assert.match(bad.out, 'replay: npm run sim -- --orgs 1 --peers 2 --blocks 2 --seed 5 --faults default --profile murmur --plant ledger-fork');
  assert.is((await cli(['--orgs', '0', '--peers', '2', '--blocks', '2', '--seed', '5'])).code, 2);
  assert.is((await cli(['--orgs', '1', '--peers', '2', '--blocks', '2'])).code, 2, 'no seed');
  assert.is((await cli(['--orgs', '1', '--peers', '2', '--blocks', '2', '--seed', '1', '--faults', 'lots'])).code, 2);
  assert.is((await cli(['soak', '--seeds', '0'])).code, 2);
});

test.run();
