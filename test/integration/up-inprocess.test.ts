// `murmur up --in-process` (issue 9): every peer inside the `up` process, each with its own NATS connection,
// ledger, ops server and metrics registry. 2 orgs x 2 peers reach one leader per org and heights above 10;
// each peer's /metrics holds only its own series and /healthz is healthy, as is the orderer's (still its own
// process); SIGINT leaves no process behind; a second run on the same --data continues the same chain.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alive, cli, type CliRun } from '../helpers/cli.ts';
import { checkOrdererOps, checkPeerOps, checkRestartContinues, oneLeaderPerOrg, rowsWhen, startUp, stopUp } from '../helpers/up-run.ts';

let dir = '';
let run: CliRun | undefined;

test.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-up-inproc-'));
});
test.after(() => {
  if (run && run.child.exitCode === null) run.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const args = ['--in-process', '--orgs', '2', '--peers', '2'];
let lastHeight = 0;

test('up --in-process: one process for every peer, leaders, heights, /metrics and /healthz, clean SIGINT', async () => {
  const started = await startUp(dir, args);
  const net = started.net;
  run = started.run;
  const pid = run.child.pid!;
  assert.equal(net.peers.map((p) => p.id), ['peer0.org1', 'peer1.org1', 'peer0.org2', 'peer1.org2']);
  assert.ok(net.peers.every((p) => p.pid === pid), `every peer runs in up's process ${pid}: ${JSON.stringify(net.peers)}`);
  assert.ok(net.orderer && net.orderer.pid !== pid && alive(net.orderer.pid), 'the orderer runs as its own process');
  assert.is(new Set(net.peers.map((p) => p.opsUrl)).size, 4, 'one ops server per peer');
  assert.match(run.output(), /peer0\.org1 +in-process \(pid \d+\)/);

  const rs = await rowsWhen(dir, (rs) => oneLeaderPerOrg(rs, 4, 2) && rs.every((r) => r.height! > 10), 60_000, 'one leader per org and heights above 10');
  assert.ok(rs.every((r) => r.pid === pid && r.natsConnected), 'status reports the shared pid');
  await checkPeerOps(net, 10);
  await checkOrdererOps(net, 10);
  // Each peer logs to its own file.
  const log = readFileSync(join(dir, 'peers', 'peer1.org2', 'peer.log'), 'utf8');
  assert.match(log, /"self":"peer1\.org2".*running on/);
  assert.not.match(log, /"self":"peer0/);
  lastHeight = Math.max(...rs.map((r) => r.height!));
  await stopUp(run, net);
  assert.match(run.output(), /load: accepted=\d+ rejected=0/);
});

test('a second up --in-process on the same --data continues the same chain', async () => {
  run = await checkRestartContinues(dir, args, lastHeight, 4);
});

test('up --join: a peer joins only the channels named for it (status rows, network.json, heights); an unknown peer or channel is refused naming --join', async () => {
  const bad = await cli(['up', ...args, '--channels', '2', '--data', join(dir, 'bad'), '--join', 'peer7.org1=channel1']);
  assert.is.not(bad.code, 0);
  assert.match(bad.out, /--join peer7\.org1=.*no peer peer7\.org1/);
  const badCh = await cli(['up', ...args, '--channels', '2', '--data', join(dir, 'bad'), '--join', 'peer1.org1=channel9']);
  assert.match(badCh.out, /--join peer1\.org1=channel9: no channel channel9/);
  const malformed = await cli(['up', ...args, '--data', join(dir, 'bad'), '--join', 'peer1.org1']);
  assert.match(malformed.out, /expected peer=channel/);

  const joinDir = join(dir, 'join');
  const started = await startUp(joinDir, [...args, '--channels', '2', '--join', 'peer1.org2=channel2', '--join', 'peer1.org1=channel1']);
  run = started.run;
  const want: Record<string, string[]> = { 'peer0.org1': ['channel1', 'channel2'], 'peer1.org1': ['channel1'], 'peer0.org2': ['channel1', 'channel2'], 'peer1.org2': ['channel2'] };
  assert.equal(Object.fromEntries(started.net.peers.map((p) => [p.id, p.channels])), want, 'network.json records each peer\'s channels');
  const key = (r: { id: string; channel: string }) => `${r.id}/${r.channel}`;
  const expected = Object.entries(want).flatMap(([id, chs]) => chs.map((channel) => key({ id, channel }))).sort();
  const rs = await rowsWhen(joinDir, (rs) => rs.length === expected.length && rs.every((r) => r.height! > 3), 60_000, 'a row per joined channel, heights above 3');
  assert.equal(rs.map(key).sort(), expected);
  await stopUp(run, started.net);
});

test.run();
