#!/usr/bin/env node
// Per-process figures of issue 24, measured the same way before and after a change:
//   RSS   idle RSS (VmRSS) of every process of `murmur up --no-load` (2 orgs x 3 peers), read after it settled;
//   start process start → "nats connected" of one peer process started alone: one of up's peers is stopped
//         and its core.yaml started again N times in a row (t0: just before spawn; t1: that log line's time).
// Usage: node scripts/measure-peers.mjs [--bin bin/murmur.js] [--runs 10] [--settle 20] [--node-arg X]...
// Needs nats-server on PATH. Prints one JSON object; read the medians.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values: a } = parseArgs({
  options: {
    bin: { type: 'string', default: 'bin/murmur.js' },
    runs: { type: 'string', default: '10' },
    settle: { type: 'string', default: '20' },
    'node-arg': { type: 'string', multiple: true, default: [] },
  },
});
const bin = resolve(a.bin);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const rssMb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;

const data = mkdtempSync(join(tmpdir(), 'murmur-measure-'));
const up = spawn(process.execPath, [...a['node-arg'], bin, 'up', '--no-load', '--data', data], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
let upOut = '';
up.stdout.on('data', (d) => (upOut += d));
const exited = new Promise((r) => up.once('exit', r));
try {
  for (let i = 0; !/network\.json/.test(upOut); i++) {
    if (i > 600 || up.exitCode !== null) throw new Error(`up did not start:\n${upOut}`);
    await sleep(100);
  }
  const net = JSON.parse(readFileSync(join(data, 'network.json'), 'utf8'));
  await sleep(Number(a.settle) * 1000);
  const rss = { up: rssMb(up.pid), orderer: rssMb(net.orderer.pid), peers: net.peers.map((p) => Math.round(rssMb(p.pid) * 10) / 10) };

  // Stop the last peer and start its config alone, again and again.
  const last = net.peers.at(-1);
  process.kill(last.pid, 'SIGTERM');
  while (existsPid(last.pid)) await sleep(50);
  const config = join(data, 'peers', last.id, 'core.yaml');
  const startMs = [];
  for (let i = 0; i < Number(a.runs); i++) {
    const t0 = Date.now();
    const child = spawn(process.execPath, [...a['node-arg'], bin, 'peer', 'start', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const t1 = await new Promise((res, rej) => {
      child.stdout.on('data', (d) => {
        out += d;
        for (const line of out.split('\n')) if (line.includes('"nats connected')) return res(Date.parse(JSON.parse(line).time));
      });
      child.once('exit', (code) => rej(new Error(`peer exited ${code}: ${out}`)));
    });
    startMs.push(t1 - t0);
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
  }
  const round = (x) => Math.round(x * 10) / 10;
  console.log(
    JSON.stringify({ bin: a.bin, nodeArgs: a['node-arg'], rssMb: { ...rss, up: round(rss.up), orderer: round(rss.orderer), peerMedian: median(rss.peers) }, startToNatsConnectedMs: { median: median(startMs), all: startMs } }, null, 1),
  );
} finally {
  if (up.exitCode === null) up.kill('SIGINT');
  await exited;
  rmSync(data, { recursive: true, force: true });
}

function existsPid(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
