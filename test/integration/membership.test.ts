// Issue 4 on a real nats-server: 2 orgs x 2 peers as separate processes discover each other (short timings
// through the environment); a peer killed with SIGKILL is seen as dead by the rest.
import { test } from '../helpers/test.ts';
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
const env = {
  CORE_PEER_GOSSIP_ALIVETIMEINTERVAL: '300ms',
  CORE_PEER_GOSSIP_ALIVEEXPIRATIONTIMEOUT: '1500ms',
  CORE_PEER_GOSSIP_RECONNECTINTERVAL: '1s',
  CORE_PEER_GOSSIP_PULLINTERVAL: '1s',
};

test.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-membership-'));
});
test.after(() => {
  if (run && run.child.exitCode === null) run.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function members(): Promise<Map<string, string[]>> {
  const r = await cli(['status', '--data', dir, '--json', '--timeout', '500ms']);
  const rows: StatusRow[] = r.code === 0 ? JSON.parse(r.out) : [];
  return new Map(rows.map((x) => [x.id, x.members ?? []]));
}

async function waitMembers(want: Record<string, string[]>, ms: number, what: string): Promise<void> {
  let last = new Map<string, string[]>();
  await withDeadline(
    (async () => {
      for (;;) {
        last = await members();
        if (Object.entries(want).every(([id, m]) => JSON.stringify(last.get(id)) === JSON.stringify(m))) return;
      }
    })(),
    ms,
    `${what}; last seen ${JSON.stringify([...last])}`,
  );
}

test('2 orgs x 2 peer processes discover each other; SIGKILL is detected as dead', async () => {
  run = runCli(['up', '--orgs', '2', '--peers', '2', '--data', dir], env);
  await until(() => /network\.json/.test(run!.output()) || run!.child.exitCode !== null, 20_000, 'up started', 50);
  assert.is(run.child.exitCode, null, run.output());
  // peer0 of each org is its anchor with an external endpoint; peer1s are internal-only.
  await waitMembers(
    {
      'peer0.org1': ['peer0.org2', 'peer1.org1'],
      'peer1.org1': ['peer0.org1'],
      'peer0.org2': ['peer0.org1', 'peer1.org2'],
      'peer1.org2': ['peer0.org2'],
    },
    30_000,
    'full views',
  );
  const net = JSON.parse(readFileSync(join(dir, 'network.json'), 'utf8')) as NetworkFile;
  process.kill(net.peers.find((p) => p.id === 'peer1.org2')!.pid!, 'SIGKILL');
  await waitMembers({ 'peer0.org2': ['peer0.org1'], 'peer0.org1': ['peer0.org2', 'peer1.org1'] }, 15_000, 'peer1.org2 seen dead');
  run.child.kill('SIGINT');
  assert.is(await withDeadline(run.exited, 20_000, 'up exit'), 0);
});

test('fabric integration/MembershipAfterStopRestart', async () => {
  // Stopped peers disappear from discovery (the anchor peer is kept, as dead); restarted peers come back,
  // same-org and cross-org. Short timings: alive 300 ms, expiration 1.5 s, factor 2.
  run = runCli(['up', '--orgs', '2', '--peers', '2', '--data', dir, '--no-load'], { ...env, CORE_PEER_GOSSIP_MSGEXPIRATIONFACTOR: '2' });
  await until(() => /network\.json/.test(run!.output()) || run!.child.exitCode !== null, 20_000, 'up started', 50);
  const full = {
    'peer0.org1': ['peer0.org2', 'peer1.org1'],
    'peer1.org1': ['peer0.org1'],
    'peer0.org2': ['peer0.org1', 'peer1.org2'],
    'peer1.org2': ['peer0.org2'],
  };
  await waitMembers(full, 30_000, 'full views');
  const net = JSON.parse(readFileSync(join(dir, 'network.json'), 'utf8')) as NetworkFile;
  const pid = (id: string) => net.peers.find((p) => p.id === id)!.pid!;
  process.kill(pid('peer0.org2'), 'SIGTERM');
  process.kill(pid('peer1.org1'), 'SIGTERM');
  await waitMembers({ 'peer0.org1': [], 'peer1.org2': [] }, 15_000, 'stopped peers gone from the views');
  // Restart both from their own core.yaml: they come back in every view.
  const again = ['peer0.org2', 'peer1.org1'].map((id) => runCli(['peer', 'start', '--config', join(dir, 'peers', id, 'core.yaml')], env));
  try {
    await waitMembers(full, 30_000, 'restarted peers back in every view');
  } finally {
    for (const r of again) r.child.kill('SIGTERM');
    await Promise.all(again.map((r) => withDeadline(r.exited, 10_000, 'restarted peer exit')));
  }
  run.child.kill('SIGINT');
  assert.is(await withDeadline(run.exited, 20_000, 'up exit'), 0);
});

test.run();
