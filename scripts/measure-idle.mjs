#!/usr/bin/env node
// Idle cost of issue 25: CPU per second of `murmur up --in-process --no-load` (every peer in one process, no
// blocks moving), read from /proc/<pid>/stat over a window after a settle, for each peer count and timing preset.
// Usage: node scripts/measure-idle.mjs [--orgs 3] [--peers 8,16] [--timings local,fabric] [--settle 60]
//        [--window 60] [--cpu-prof DIR]   (peers = per org; the org count stays)
// A minute of each: V8's memory reducer runs a few full collections about 30 s after start (the process looks
// idle after its start-up burst), and a 20 s window from 30 s caught them in some runs only (fabric timings:
// 16-33 ms/s for one build); over a minute from a minute the same build reads within a few percent.
// Prints one JSON line per run: {peers, timings, cpuMsPerS, perPeerMsPerS}.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values: a } = parseArgs({
  options: {
    bin: { type: 'string', default: 'bin/murmur.js' },
    orgs: { type: 'string', default: '3' },
    peers: { type: 'string', default: '8' },
    timings: { type: 'string', default: 'local,fabric' },
    settle: { type: 'string', default: '60' },
    window: { type: 'string', default: '60' },
    'cpu-prof': { type: 'string' },
  },
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ticks = Number(process.env.CLK_TCK ?? 100);
/** utime + stime of `pid`, ms. */
const cpuMs = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / ticks;
};

for (const timings of a.timings.split(',')) {
  for (const peers of a.peers.split(',').map(Number)) {
    const data = mkdtempSync(join(tmpdir(), 'murmur-idle-'));
    const nodeArgs = a['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${a['cpu-prof']}`] : [];
    const args = [...nodeArgs, resolve(a.bin), 'up', '--in-process', '--no-load', '--orgs', a.orgs, '--peers', String(peers), '--timings', timings, '--data', data];
    const up = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    up.stdout.on('data', (d) => (out += d));
    const exited = new Promise((r) => up.once('exit', r));
    try {
      for (let i = 0; !/network\.json/.test(out); i++) {
        if (i > 1200 || up.exitCode !== null) throw new Error(`up did not start:\n${out}`);
        await sleep(100);
      }
      await sleep(Number(a.settle) * 1000);
      const c0 = cpuMs(up.pid);
      const t0 = performance.now();
      await sleep(Number(a.window) * 1000);
      const cpu = ((cpuMs(up.pid) - c0) * 1000) / (performance.now() - t0);
      const total = peers * Number(a.orgs);
      console.log(JSON.stringify({ peers: total, timings, cpuMsPerS: Math.round(cpu), perPeerMsPerS: Math.round((cpu / total) * 10) / 10 }));
    } finally {
      if (up.exitCode === null) up.kill('SIGINT');
      await exited;
      rmSync(data, { recursive: true, force: true });
    }
  }
}
