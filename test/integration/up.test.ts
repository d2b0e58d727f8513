// `murmur up` as a new user meets it (issues 3, 5, 9): 2 orgs x 2 peers reach one leader per org and heights
// above 10; every peer's /metrics parses as Prometheus text and /healthz is healthy; SIGINT stops everything
// and exits 0; a second `up` on the same --data continues the same chain.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, alive, cli, type CliRun } from '../helpers/cli.ts';
import { until, withDeadline } from '../helpers/deadline.ts';
import { parsePrometheus } from '../helpers/prometheus.ts';
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

async function rows(): Promise<StatusRow[]> {
  const r = await cli(['status', '--data', dir, '--json', '--timeout', '700ms']);
  return r.code === 0 ? JSON.parse(r.out) : [];
}

async function startUp(): Promise<NetworkFile> {
  run = runCli(['up', '--orgs', '2', '--peers', '2', '--data', dir]);
  await until(() => /network\.json/.test(run!.output()) || run!.child.exitCode !== null, 20_000, 'up writing network.json', 50);
  assert.is(run.child.exitCode, null, run.output());
  return JSON.parse(readFileSync(join(dir, 'network.json'), 'utf8')) as NetworkFile;
}

async function stopUp(net: NetworkFile): Promise<void> {
  run!.child.kill('SIGINT');
  const code = await withDeadline(run!.exited, 20_000, 'up exiting after SIGINT');
  assert.is(code, 0, run!.output());
  for (const p of net.peers) assert.not.ok(alive(p.pid!), `peer ${p.id} still alive`);
  assert.not.ok(alive(net.natsPid!), 'nats-server still alive');
  assert.not.ok(alive(net.orderer!.pid), 'orderer still alive');
}

let lastHeight = 0;

test('up: one leader per org, heights above 10, /metrics and /healthz, clean SIGINT', async () => {
  const net = await startUp();
  assert.match(run!.output(), /nats: nats:\/\/127\.0\.0\.1:\d+/);
  assert.equal(net.peers.map((p) => p.id), ['peer0.org1', 'peer1.org1', 'peer0.org2', 'peer1.org2']);
  assert.ok(net.orderer && alive(net.orderer.pid), 'the orderer runs as its own process');
  assert.ok(net.peers.every((p) => /^http:\/\/127\.0\.0\.1:\d+$/.test(p.opsUrl ?? '')), 'every peer has an ops URL');

  let rs: StatusRow[] = [];
  await withDeadline(
    (async () => {
      for (;;) {
        rs = await rows();
        const leaders = rs.filter((r) => r.role === 'leader');
        if (rs.length === 4 && leaders.length === 2 && new Set(leaders.map((l) => l.org)).size === 2 && rs.every((r) => r.height! > 10)) return;
      }
    })(),
    60_000,
    'one leader per org and heights above 10',
  );
  for (const p of net.peers) {
    const text = await (await fetch(`${p.opsUrl}/metrics`)).text();
    const samples = parsePrometheus(text);
    const height = samples.find((s) => s.name === 'gossip_state_height' && s.labels.channel === 'channel1');
    assert.ok(height && height.value > 10, `${p.id} gossip_state_height`);
    assert.ok(samples.some((s) => s.name === 'gossip_comm_messages_sent' && s.labels.kind === 'alive'), `${p.id} counts alive messages sent`);
    const health = await fetch(`${p.opsUrl}/healthz`);
    assert.is(health.status, 200, `${p.id} healthy`);
    assert.is(((await health.json()) as { status: string }).status, 'OK');
  }
  lastHeight = Math.max(...rs.map((r) => r.height!));
  await stopUp(net);
  assert.match(run!.output(), /load: accepted=\d+ rejected=0/);
});

test('a second up on the same --data continues the same chain', async () => {
  const net = await startUp();
  assert.match(run!.output(), /reusing crypto material/);
  let rs: StatusRow[] = [];
  await withDeadline(
    (async () => {
      for (;;) {
        rs = await rows();
        if (rs.length === 4 && rs.every((r) => r.height! > lastHeight + 2)) return;
      }
    })(),
    60_000,
    `heights beyond the first run's ${lastHeight}`,
  );
  // The chain continued: no ledger refused a block for a broken link or a wrong number.
  for (const r of rs) {
    assert.is(r.counters.rejected['bad-previous-hash'] ?? 0, 0, `${r.id}: ${JSON.stringify(r.counters.rejected)}`);
    assert.is(r.counters.rejected['bad-number'] ?? 0, 0);
  }
  await stopUp(net);
});

test.run();
