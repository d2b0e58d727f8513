#!/usr/bin/env node
// Idle cost of two builds side by side (issue 25): runs `murmur up --in-process --no-load` from two checkouts at
// the same time and reads both processes' CPU from /proc over the same window, round after round. On a shared
// VM the idle figure of one build moves by ±15–30 % between runs minutes apart; two builds measured at the same
// moment see the same machine, so their ratio is the figure to trust. Each process needs well under a core.
// Usage: node scripts/compare-idle.mjs DIR_A DIR_B [--timings local] [--rounds 3] [--settle 25] [--window 30]
//        [--orgs 3] [--peers 8]   (DIR: a checkout with its dist/ built: `npm run build`)
// Prints one line per round and the medians: {timings, a, b, ratio}.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values: o, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    timings: { type: 'string', default: 'local' },
    rounds: { type: 'string', default: '3' },
    settle: { type: 'string', default: '25' },
    window: { type: 'string', default: '30' },
    orgs: { type: 'string', default: '3' },
    peers: { type: 'string', default: '8' },
  },
});
if (positionals.length !== 2) {
  console.error('usage: node scripts/compare-idle.mjs DIR_A DIR_B [--timings local|fabric] [--rounds 3] [--settle 25] [--window 30]');
  process.exit(2);
}
const dirs = positionals.map((d) => resolve(d));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ticks = Number(process.env.CLK_TCK ?? 100);
/** utime + stime of `pid`, ms. */
const cpuMs = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / ticks;
};
const up = (dir) => {
  const data = mkdtempSync(join(tmpdir(), 'murmur-compare-'));
  const args = [join(dir, 'bin/murmur.js'), 'up', '--in-process', '--no-load', '--orgs', o.orgs, '--peers', o.peers, '--timings', o.timings, '--data', data];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const exited = new Promise((r) => child.once('exit', r));
  return { child, data, exited, ready: () => /network\.json/.test(out) };
};
const median = (xs) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)];

const a = [];
const b = [];
for (let round = 1; round <= Number(o.rounds); round++) {
  const runs = dirs.map(up);
  try {
    for (let i = 0; !runs.every((r) => r.ready()); i++) {
      if (i > 600 || runs.some((r) => r.child.exitCode !== null)) throw new Error('up did not start');
      await sleep(200);
    }
    await sleep(Number(o.settle) * 1000);
    const c0 = runs.map((r) => cpuMs(r.child.pid));
    const t0 = performance.now();
    await sleep(Number(o.window) * 1000);
    const dt = performance.now() - t0;
    const [ca, cb] = runs.map((r, i) => Math.round(((cpuMs(r.child.pid) - c0[i]) * 1000) / dt));
    a.push(ca);
    b.push(cb);
    console.log(JSON.stringify({ round, timings: o.timings, a: ca, b: cb }));
  } finally {
    for (const r of runs) if (r.child.exitCode === null) r.child.kill('SIGINT');
    await Promise.all(runs.map((r) => r.exited));
    for (const r of runs) rmSync(r.data, { recursive: true, force: true });
  }
}
const [ma, mb] = [median(a), median(b)];
console.log(JSON.stringify({ timings: o.timings, a: ma, b: mb, ratio: Math.round((mb / ma) * 100) / 100, dirs }));
