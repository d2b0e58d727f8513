// Nothing `murmur up` starts outlives it (issue 23): kill -9 of `up` (no handler runs) takes the embedded
// nats-server, the orderer and every peer with it and leaves the data directory usable (a second `up`
// continues the chain); SIGTERM to the `npx` process that launched `up` (npm's `sh -c` forwards nothing) stops
// everything; SIGHUP stops `up` as cleanly as SIGINT.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { until, withDeadline } from '../helpers/deadline.ts';
import { descendants, stillRunning, type Proc } from '../helpers/process-tree.ts';
import { checkRestartContinues, rowsWhen, startUp } from '../helpers/up-run.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dirs: string[] = [];
const leftovers: Proc[] = [];
const fresh = () => {
  const d = mkdtempSync(join(tmpdir(), 'murmur-life-'));
  dirs.push(d);
  return d;
};

test.after(() => {
  for (const p of stillRunning(leftovers)) process.kill(p.pid, 'SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Waits (≤ 10 s, the issue's bound) until none of `procs` runs; fails naming the survivors. */
async function allGone(procs: Proc[], what: string): Promise<number> {
  const t0 = Date.now();
  await until(() => stillRunning(procs).length === 0, 10_000, what, 50).catch(() => {
    throw new Error(`${what}: still running after 10 s: ${stillRunning(procs).map((p) => `${p.comm}(${p.pid})`).join(', ')}`);
  });
  return Date.now() - t0;
}

const names = (ps: Proc[]) => ps.map((p) => p.comm).join(' ');

test('kill -9 of up: nats-server, orderer and peers stop within 10 s; a second up continues the chain', async () => {
  const dir = fresh();
  const args = ['--orgs', '1', '--peers', '2'];
  const { run } = await startUp(dir, args);
  const rs = await rowsWhen(dir, (rs) => rs.length === 2 && rs.every((r) => (r.height ?? 0) > 3), 60_000, 'heights above 3');
  const tree = descendants(run.child.pid!);
  leftovers.push(...tree);
  assert.ok(tree.some((p) => p.comm === 'nats-server'), `up started a nats-server: ${names(tree)}`);
  assert.ok(tree.length >= 4, `nats-server, orderer and two peers: ${names(tree)}`);
  // The orderer and the peers run with two malloc arenas (network-writer.ts childEnv), this test's env has none.
  const murmurs = tree.filter((p) => p.comm === 'node');
  assert.is(murmurs.length, 3, `orderer and two peers: ${names(tree)}`);
  for (const p of murmurs) assert.ok(readFileSync(`/proc/${p.pid}/environ`, 'latin1').split('\0').includes('MALLOC_ARENA_MAX=2'), `${p.pid} runs with MALLOC_ARENA_MAX=2`);
  run.child.kill('SIGKILL');
  const ms = await allGone(tree, 'children of a SIGKILLed up');
  console.log(`  [up-lifecycle] kill -9 of up: all ${tree.length} children gone in ${ms} ms`);
  await checkRestartContinues(dir, args, Math.max(...rs.map((r) => r.height!)), 2);
});

test('SIGTERM to the npx process that launched up stops everything', async () => {
  const dir = fresh();
  const npx = spawn('npx', ['murmur', 'up', '--orgs', '1', '--peers', '2', '--no-load', '--data', dir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  npx.stdout!.on('data', (d) => (out += d));
  npx.stderr!.on('data', (d) => (out += d));
  await until(() => /network\.json/.test(out) || npx.exitCode !== null, 60_000, 'npx murmur up writing network.json', 50);
  assert.is(npx.exitCode, null, out);
  const tree = descendants(npx.pid!);
  leftovers.push(...tree);
  assert.ok(tree.some((p) => p.comm === 'nats-server'), `a nats-server under npx: ${names(tree)}`);
  npx.kill('SIGTERM');
  const ms = await allGone(tree, 'processes under a SIGTERMed npx');
  console.log(`  [up-lifecycle] SIGTERM to npx: all ${tree.length} processes gone in ${ms} ms`);
});

test('SIGHUP stops up cleanly (exit 0, nothing left)', async () => {
  const dir = fresh();
  const { run } = await startUp(dir, ['--orgs', '1', '--peers', '2', '--no-load']);
  const tree = descendants(run.child.pid!);
  leftovers.push(...tree);
  run.child.kill('SIGHUP');
  assert.is(await withDeadline(run.exited, 20_000, 'up exiting after SIGHUP'), 0, run.output());
  assert.match(run.output(), /stopped/);
  await allGone(tree, 'children of up after SIGHUP');
});

test.run();
