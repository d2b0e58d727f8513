// `murmur up` as a new user meets it (issues 3, 5, 9): 2 orgs x 2 peers reach one leader per org and heights
// above 10; every peer's and the orderer's /metrics parse as Prometheus text and /healthz is healthy; SIGINT
// stops everything and exits 0; a second `up` on the same --data continues the same chain.
// up-inprocess.test.ts runs the same with every peer inside the `up` process.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alive, type CliRun } from '../helpers/cli.ts';
import { checkOrdererOps, checkPeerOps, checkRestartContinues, oneLeaderPerOrg, rowsWhen, startUp, stopUp } from '../helpers/up-run.ts';

let dir = '';
let run: CliRun | undefined;

test.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-up-'));
});
test.after(() => {
  if (run && run.child.exitCode === null) run.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

let lastHeight = 0;

test('up: one leader per org, heights above 10, /metrics and /healthz, clean SIGINT', async () => {
  const started = await startUp(dir, ['--orgs', '2', '--peers', '2']);
  const net = started.net;
  run = started.run;
  assert.match(run.output(), /nats: nats:\/\/127\.0\.0\.1:\d+/);
  assert.match(run.output(), /orderer +pid \d+ +opsUrl: http:\/\/127\.0\.0\.1:\d+/);
  assert.equal(net.peers.map((p) => p.id), ['peer0.org1', 'peer1.org1', 'peer0.org2', 'peer1.org2']);
  assert.ok(net.orderer && alive(net.orderer.pid), 'the orderer runs as its own process');
  assert.ok(net.peers.every((p) => /^http:\/\/127\.0\.0\.1:\d+$/.test(p.opsUrl ?? '')), 'every peer has an ops URL');
  assert.is(new Set(net.peers.map((p) => p.pid)).size, 4, 'one process per peer');

  const rs = await rowsWhen(dir, (rs) => oneLeaderPerOrg(rs, 4, 2) && rs.every((r) => r.height! > 10), 60_000, 'one leader per org and heights above 10');
  await checkPeerOps(net, 10);
  await checkOrdererOps(net, 10);
  lastHeight = Math.max(...rs.map((r) => r.height!));
  await stopUp(run, net);
  assert.match(run.output(), /load: accepted=\d+ rejected=0/);
});

test('a second up on the same --data continues the same chain', async () => {
  run = await checkRestartContinues(dir, ['--orgs', '2', '--peers', '2'], lastHeight, 4);
});

test.run();
