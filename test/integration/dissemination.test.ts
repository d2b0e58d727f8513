// Dissemination and state transfer on a real nats-server with peer processes (`murmur up`, local timings, a
// load of 20 tx/s): followers get every block by gossip; a follower killed with -9 and restarted catches up.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, cli, type CliRun } from '../helpers/cli.ts';
import { until, withDeadline } from '../helpers/deadline.ts';
import type { NetworkFile } from '../../runtime/cli/network-file.ts';
import type { StatusRow } from '../../actors/status-row.ts';

let dir = '';
let run: CliRun | undefined;
let restarted: CliRun | undefined;

test.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-dissemination-'));
});
test.after(() => {
  for (const r of [restarted, run]) if (r && r.child.exitCode === null) r.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function rows(): Promise<StatusRow[]> {
  const r = await cli(['status', '--data', dir, '--json', '--timeout', '400ms']);
  return r.code === 0 ? JSON.parse(r.out) : [];
}
const same = (rs: StatusRow[]) => new Set(rs.map((r) => `${r.height}:${r.tipHash}`)).size === 1;

test('2 orgs x 2 peers on NATS under load: ledgers identical; a follower killed -9 and restarted catches up', async () => {
  run = runCli(['up', '--orgs', '2', '--peers', '2', '--data', dir, '--load-rate', '20']);
  await until(() => /network\.json/.test(run!.output()) || run!.child.exitCode !== null, 20_000, 'up started', 50);
  assert.is(run.child.exitCode, null, run.output());
  let rs: StatusRow[] = [];
  // Followers hold blocks they never read from the orderer.
  await withDeadline(
    (async () => {
      for (;;) {
        rs = await rows();
        const followers = rs.filter((r) => r.role === 'follower');
        if (rs.length === 4 && followers.length === 2 && followers.every((r) => (r.counters.blocksByPush ?? 0) + (r.counters.blocksByPull ?? 0) > 3)) return;
      }
    })(),
    40_000,
    'followers receiving blocks by gossip',
  );
  const victim = rs.find((r) => r.role === 'follower')!;
  const net = JSON.parse(readFileSync(join(dir, 'network.json'), 'utf8')) as NetworkFile;
  process.kill(net.peers.find((p) => p.id === victim.id)!.pid!, 'SIGKILL');
  // The load goes on without it for a while (BatchTimeout 1 s with the local timings: about a block a second).
  await new Promise((r) => setTimeout(r, 4000));
  restarted = runCli(['peer', 'start', '--config', join(dir, 'peers', victim.id, 'core.yaml')]);
  await withDeadline(
    (async () => {
      for (;;) {
        rs = await rows();
        const v = rs.find((r) => r.id === victim.id);
        if (rs.length === 4 && v && v.height! > victim.height! + 3 && same(rs)) return;
      }
    })(),
    30_000,
    `${victim.id} caught up after its restart`,
  );
  for (const r of rs) {
    assert.equal(Object.keys(r.counters.rejected).filter((k) => /^(block-|ledger-refused|pull-bad|state-bad)/.test(k)), [], `${r.id}: ${JSON.stringify(r.counters.rejected)}`);
    assert.ok(r.state === 'synced' || r.state === 'syncing', `${r.id} state ${r.state}`);
  }
  restarted.child.kill('SIGTERM');
  run.child.kill('SIGINT');
  assert.is(await withDeadline(run.exited, 20_000, 'up exit'), 0);
  await withDeadline(restarted.exited, 20_000, 'restarted peer exit');
});

test.run();
