// `murmur up` on a fresh data folder: peers come up and answer status; SIGINT leaves no process behind.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, alive, cli, type CliRun } from '../helpers/cli.ts';
import { until, withDeadline } from '../helpers/deadline.ts';
import type { NetworkFile } from '../../runtime/cli/network-file.ts';
import type { StatusRow } from '../../actors/status.ts';

let dir = '';
let run: CliRun | undefined;

test.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-up-'));
});
test.after(() => {
  if (run && run.child.exitCode === null) run.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

test('murmur up: 2 orgs x 1 peer answer status, leaders commit the load\'s blocks; SIGINT stops everything and exits 0', async () => {
  run = runCli(['up', '--orgs', '2', '--peers', '1', '--data', dir]);
  await until(() => /network\.json/.test(run!.output()) || run!.child.exitCode !== null, 20_000, 'up writing network.json', 50);
  assert.is(run.child.exitCode, null, run.output());
  assert.match(run.output(), /nats: nats:\/\/127\.0\.0\.1:\d+/);
  const net = JSON.parse(readFileSync(join(dir, 'network.json'), 'utf8')) as NetworkFile;
  assert.equal(net.peers.map((p) => p.id), ['peer0.org1', 'peer0.org2']);
  assert.ok(net.orderer && alive(net.orderer.pid), 'the orderer runs as its own process');
  assert.is(net.orderer!.opsUrl, null);

  let rows: StatusRow[] = [];
  await withDeadline(
    (async () => {
      // Each peer is alone in its org: it elects itself and pulls the blocks the default load makes.
      while (rows.length < 2 || !rows.every((r) => r.height! > 1)) {
        const r = await cli(['status', '--data', dir, '--json', '--timeout', '700ms']);
        rows = r.code === 0 ? JSON.parse(r.out) : [];
      }
    })(),
    40_000,
    'both peers answering with blocks from the orderer',
  );
  assert.equal(rows.map((r) => r.id).sort(), ['peer0.org1', 'peer0.org2']);
  assert.ok(rows.every((r) => r.natsConnected && r.counters.blocksFromOrderer! > 0), JSON.stringify(rows));

  const pids = net.peers.map((p) => p.pid!);
  const natsPid = net.natsPid!;
  const ordererPid = net.orderer!.pid;
  assert.ok(alive(natsPid), 'embedded nats-server running');
  run.child.kill('SIGINT');
  const code = await withDeadline(run.exited, 20_000, 'up exiting after SIGINT');
  assert.is(code, 0, run.output());
  for (const pid of pids) assert.not.ok(alive(pid), `peer pid ${pid} still alive`);
  assert.not.ok(alive(natsPid), 'nats-server still alive');
  assert.not.ok(alive(ordererPid), 'orderer still alive');
  assert.match(run.output(), /load: accepted=\d+ rejected=0/);
});

test.run();
