#!/usr/bin/env node
// Prints the README table of Fabric's gossip test scenarios (../shared/protocol/fabric-scenarios.md) and the
// murmur test that ports each one (a test named exactly `fabric <area>/<Name>`), or why it is not ported.
// The mutation column comes from the last full `npm run test:mutations` (test/results/mutations.json): caught =
// that port failed when the rule it names was broken (test/fabric-mutations.json).
// Usage: node scripts/scenarios.mjs [--check]   (--check: exit 1 when a listed scenario has neither)
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const list = readFileSync(join(root, '..', 'shared', 'protocol', 'fabric-scenarios.md'), 'utf8');
const scenarios = [...list.matchAll(/^- `([a-z]+\/[A-Za-z_]+)`(?: \((n\/a: [^)]*)\))?/gm)].map((m) => ({ name: m[1], na: m[2] ?? null }));

/** Why a scenario has no murmur test yet (or ever). Keep short and honest. */
const NOT_PORTED = {
};

function files(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.test.ts') ? [p] : [];
  });
}
const ported = new Map();
for (const f of files(join(root, 'test'))) {
  for (const m of readFileSync(f, 'utf8').matchAll(/test\(\s*['"`]fabric ([a-z]+\/[A-Za-z_]+)['"`]/g)) ported.set(m[1], relative(root, f));
}

let mutations = new Map();
try {
  const r = JSON.parse(readFileSync(join(root, 'test', 'results', 'mutations.json'), 'utf8'));
  mutations = new Map(r.results.map((x) => [x.scenario, x]));
} catch {
  // no run yet
}
const mutation = (name) => {
  const m = mutations.get(name);
  return m ? `${m.outcome}: ${m.why}` : 'none listed yet';
};
const rows = scenarios.map((s) => {
  // "passes alone": the mutation run ran it by itself, unmutated, and it passed; "passes in npm test": the suite
  // (CI) runs it, and no mutation entry has run it alone yet.
  if (ported.has(s.name)) return `| \`${s.name}\` | \`${ported.get(s.name)}\` | ${mutations.has(s.name) ? 'passes alone' : 'passes in npm test'} | ${mutation(s.name)} |`;
  if (s.na) return `| \`${s.name}\` | — | ${s.na} | — |`;
  return `| \`${s.name}\` | — | not ported: ${NOT_PORTED[s.name] ?? 'pending'} | — |`;
});
const caught = scenarios.filter((s) => ported.has(s.name) && mutations.get(s.name)?.outcome === 'caught').length;
const count = scenarios.filter((s) => ported.has(s.name)).length;
const applicable = scenarios.filter((s) => !s.na).length;
console.log(`${count} of ${applicable} applicable scenarios ported (${scenarios.length - applicable} n/a); ${caught} of the ports caught their listed mutation (\`npm run test:mutations\`).\n`);
console.log('| scenario | murmur test | status | mutation (rule broken on purpose) |\n|---|---|---|---|');
console.log(rows.join('\n'));
if (process.argv.includes('--check') && scenarios.some((s) => !ported.has(s.name) && !s.na && !NOT_PORTED[s.name])) process.exit(1);
