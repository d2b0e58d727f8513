// Issue 13 on a real 3-server NATS cluster: 2 orgs x 3 peers spread over the servers with a load running;
// one server is killed: every peer reconnects, heights keep rising, and the ledgers end identical.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, cli, alive, type CliRun } from '../helpers/cli.ts';
import { until, withDeadline } from '../helpers/deadline.ts';
import type { NetworkFile } from '../../runtime/cli/network-file.ts';
import type { StatusRow } from '../../actors/status-row.ts';

let dir = '';
let run: CliRun | undefined;

test.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-cluster-up-'));
});
test.after(() => {
  if (run && run.child.exitCode === null) run.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** The end of the log of every peer that did not answer (why a start failed shows there). */
function silentLogs(net: NetworkFile, rs: StatusRow[]): string {
  const answered = new Set(rs.map((r) => r.id));
  return net.peers
    .filter((p) => !answered.has(p.id))
    .map((p) => {
      let log = '';
      try {
        log = readFileSync(join(dir, 'peers', p.id, 'peer.log'), 'utf8').slice(-3000);
      } catch (e) {
        log = String(e);
      }
      return `${p.id} (pid ${p.pid}):\n${log}`;
    })
    .join('\n');
}

async function rows(): Promise<StatusRow[]> {
  const r = await cli(['status', '--data', dir, '--json', '--timeout', '800ms']);
  return r.code === 0 ? JSON.parse(r.out) : [];
}

test('a server of three dies under load: peers reconnect, heights rise, ledgers identical', async () => {
  run = runCli(['up', '--orgs', '2', '--peers', '3', '--nats-cluster', '3', '--data', dir, '--load-rate', '50']);
  await until(() => /network\.json/.test(run!.output()) || run!.child.exitCode !== null, 60_000, 'up started', 100);
  assert.is(run.child.exitCode, null, run.output());
  const net = JSON.parse(readFileSync(join(dir, 'network.json'), 'utf8')) as NetworkFile;
  assert.is(net.natsUrl.split(',').length, 3);
  assert.is(net.natsPids!.length, 3);
  let rs: StatusRow[] = [];
  await withDeadline(
    (async () => {
      for (;;) {
        rs = await rows();
        if (rs.length === 6 && rs.every((r) => r.height! > 3)) return;
      }
    })(),
    120_000,
    'six peers with blocks',
  ).catch((e) => {
    throw new Error(`${(e as Error).message}\n--- silent peers' logs ---\n${silentLogs(net, rs)}\n--- up output ---\n${run!.output().slice(0, 2000)}\n…\n${run!.output().slice(-2000)}`);
  });
  const before = Math.max(...rs.map((r) => r.height!));
  process.kill(net.natsPids![0]!, 'SIGKILL');
  await withDeadline(
    (async () => {
      for (;;) {
        rs = await rows();
        if (rs.length === 6 && rs.every((r) => r.natsConnected && r.height! > before + 5)) return;
      }
    })(),
    120_000,
    'every peer reconnected and still committing',
  );
  // Pause the orderer so the chain stops growing, then every ledger must reach the same height and tip.
  process.kill(net.orderer!.pid, 'SIGSTOP');
  await withDeadline(
    (async () => {
      for (;;) {
        rs = await rows();
        if (rs.length === 6 && new Set(rs.map((r) => `${r.height}:${r.tipHash}`)).size === 1) return;
      }
    })(),
    60_000,
    'identical ledgers',
  ).finally(() => process.kill(net.orderer!.pid, 'SIGCONT'));
  for (const r of rs) assert.equal(Object.keys(r.counters.rejected).filter((k) => k.startsWith('bad-')), [], `${r.id} refused blocks: ${JSON.stringify(r.counters.rejected)}`);
  run.child.kill('SIGINT');
  assert.is(await withDeadline(run.exited, 30_000, 'up exit'), 0, run.output().slice(-2000));
  for (const pid of net.natsPids!) assert.not.ok(alive(pid), 'cluster servers stopped');
});

test.run();
