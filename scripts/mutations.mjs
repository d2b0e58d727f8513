#!/usr/bin/env node
// `npm run test:mutations [-- FILTER]`: every Fabric scenario port must fail when the rule it names breaks.
// test/fabric-mutations.json lists, per scenario, a deliberate break (file, exact text to find once, its
// replacement; `and` lists further edits of the same break, where murmur guards a rule twice). For each: the
// scenario's test runs alone (MURMUR_TEST, test/helpers/test.ts) and must pass;
// then the break is applied, the test runs alone again and must fail; the file is restored (also on Ctrl-C).
// Ends with `mutations: C caught of T`; exit 1 when a mutation survived or an entry is stale. Results go to
// test/results/mutations.json (read by scripts/scenarios.mjs for the README table). Outside `npm test`.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filter = process.argv[2] ?? '';
const entries = JSON.parse(readFileSync(join(root, 'test', 'fabric-mutations.json'), 'utf8')).filter((e) => e.scenario.includes(filter));

const files = (dir) => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : f.endsWith('.test.ts') ? [join(dir, f)] : []));
const testFileOf = new Map();
for (const f of files(join(root, 'test'))) for (const m of readFileSync(f, 'utf8').matchAll(/test\(\s*['"`]fabric ([a-z]+\/[A-Za-z_]+)['"`]/g)) testFileOf.set(m[1], f);

/** How long one run of a scenario's test may take (unmutated, the slowest takes about 20 s). */
const RUN_LIMIT_MS = 120_000;

/** Runs one scenario's test alone: 'pass', 'fail', or 'missing' (no test of that name ran). */
function run(scenario) {
  const file = testFileOf.get(scenario);
  if (!file) return { verdict: 'missing', ms: 0 };
  const t0 = Date.now();
  // A mutated rule can make a simulation run away (a livelock at one instant); past the limit it counts as failed.
  const r = spawnSync(process.execPath, ['--max-old-space-size=1536', '--import', 'tsx', file], { cwd: root, env: { ...process.env, MURMUR_TEST: `fabric ${scenario}`, FORCE_COLOR: '0' }, encoding: 'utf8', timeout: RUN_LIMIT_MS, killSignal: 'SIGKILL' });
  if (r.error && /ETIMEDOUT/.test(String(r.error))) return { verdict: 'fail', ms: Date.now() - t0, timedOut: true };
  const out = `${r.stdout}${r.stderr}`;
  const total = Number(/Total:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const passed = Number(/Passed:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const verdict = total === 0 && r.status === 0 ? 'missing' : r.status === 0 && passed === total ? 'pass' : 'fail';
  return { verdict, ms: Date.now() - t0 };
}

let restore = null;
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { restore?.(); process.exit(130); });

const results = [];
let caught = 0;
for (const e of entries) {
  const edits = [e, ...(e.and ?? [])];
  const originals = new Map(edits.map((x) => [join(root, x.file), readFileSync(join(root, x.file), 'utf8')]));
  const stale = edits.map((x) => ({ x, at: originals.get(join(root, x.file)).split(x.find).length - 1 })).find((s) => s.at !== 1);
  const base = run(e.scenario);
  let outcome;
  if (stale) outcome = `stale: the text occurs ${stale.at} times in ${stale.x.file}`;
  else if (base.verdict !== 'pass') outcome = `baseline ${base.verdict}: the port does not pass unmutated`;
  else {
    restore = () => {
      for (const [path, text] of originals) writeFileSync(path, text);
    };
    const mutatedText = new Map(originals);
    for (const x of edits) mutatedText.set(join(root, x.file), mutatedText.get(join(root, x.file)).replace(x.find, x.replace));
    for (const [path, text] of mutatedText) writeFileSync(path, text);
    let mutated;
    try {
      mutated = run(e.scenario);
    } finally {
      restore();
      restore = null;
    }
    outcome = mutated.verdict === 'fail' ? 'caught' : 'SURVIVED';
    if (mutated.timedOut) console.log(`         (${e.scenario}: the mutated run passed the ${RUN_LIMIT_MS / 1000} s limit and was killed: counted as failed)`);
  }
  if (outcome === 'caught') caught++;
  results.push({ scenario: e.scenario, file: e.file, why: e.why, outcome, test: testFileOf.has(e.scenario) ? relative(root, testFileOf.get(e.scenario)) : null });
  console.log(`${outcome === 'caught' ? 'caught  ' : 'NOT     '} ${e.scenario.padEnd(44)} ${e.why}${outcome === 'caught' ? '' : `  (${outcome})`}`);
}
mkdirSync(join(root, 'test', 'results'), { recursive: true });
if (!filter) writeFileSync(join(root, 'test', 'results', 'mutations.json'), JSON.stringify({ date: new Date().toISOString(), caught, total: entries.length, results }, null, 2) + '\n');
console.log(`mutations: ${caught} caught of ${entries.length}`);
process.exit(caught === entries.length ? 0 : 1);
