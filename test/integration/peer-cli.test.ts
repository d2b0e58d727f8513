// A peer started by the CLI against a real nats-server answers `murmur status --json`, and stops cleanly.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startNatsServer, type NatsServer } from '../../runtime/nats-server.ts';
import { STATUS_FIELDS, type StatusRow } from '../../actors/status-row.ts';
import { cli, runCli, type CliRun } from '../helpers/cli.ts';
import { withDeadline } from '../helpers/deadline.ts';

let server: NatsServer | undefined;
let dir = '';
const peers: CliRun[] = [];

test.before(async () => {
  server = await startNatsServer({ port: 0 });
  dir = mkdtempSync(join(tmpdir(), 'murmur-peer-cli-'));
});

test.after(async () => {
  for (const p of peers) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function statusRows(): Promise<StatusRow[]> {
  const { code, out } = await cli(['status', '--nats', server!.url, '--json', '--timeout', '700ms']);
  return code === 0 ? (JSON.parse(out) as StatusRow[]) : [];
}

test('crypto generate, peer start, status --json, SIGTERM', async () => {
  const gen = await cli(['crypto', 'generate', '--orgs', '2', '--peers', '1', '--channels', '2', '--out', join(dir, 'crypto')]);
  assert.is(gen.code, 0, gen.out);
  const none = await cli(['status', '--nats', server!.url, '--json', '--timeout', '300ms']);
  assert.is(none.code, 1, 'no peer answered yet');

  const cfg = {
    peer: {
      id: 'peer0.org1',
      localMspId: 'Org1MSP',
      mspConfigPath: 'crypto/peerOrganizations/Org1MSP/peers/peer0.org1/msp',
      fileSystemPath: 'ledger/peer0.org1',
      channels: [
        { name: 'channel1', genesisBlock: 'crypto/channels/channel1.genesis.block' },
        { name: 'channel2', genesisBlock: 'crypto/channels/channel2.genesis.block' },
      ],
      nats: { servers: [server!.url] },
      gossip: { useLeaderElection: false, orgLeader: true },
    },
  };
  writeFileSync(join(dir, 'core.yaml'), stringify(cfg));
  const p = runCli(['peer', 'start', '--config', join(dir, 'core.yaml')], { CORE_PEER_GOSSIP_STATE_ENABLED: 'false' });
  peers.push(p);

  let rows: StatusRow[] = [];
  await withDeadline(
    (async () => {
      while (rows.length < 2) {
        if (p.child.exitCode !== null) throw new Error(`peer exited: ${p.output()}`);
        rows = await statusRows();
      }
    })(),
    20_000,
    'the peer answering status',
  );
  assert.equal(rows.map((r) => r.channel), ['channel1', 'channel2']);
  const r = rows[0]!;
  assert.equal(Object.keys(r).sort(), [...STATUS_FIELDS].sort());
  assert.is(r.id, 'peer0.org1');
  assert.is(r.org, 'Org1MSP');
  assert.is(r.pid, p.child.pid);
  assert.is(r.role, 'leader', 'static orgLeader');
  assert.is(r.leaderId, 'peer0.org1');
  assert.is(r.height, 1, 'genesis only');
  assert.match(r.tipHash!, /^[0-9a-f]{64}$/);
  assert.is(r.state, 'disabled', 'state transfer turned off through the environment');
  assert.equal(r.members, [], 'a lone peer knows nobody');
  assert.is(r.natsConnected, true);
  assert.equal(r.counters.rejected, {});

  p.child.kill('SIGTERM');
  const code = await withDeadline(p.exited, 10_000, 'peer exit after SIGTERM');
  assert.is(code, 0, p.output());
  assert.match(p.output(), /stopped/);
});

test('a bad config is refused with a clear message and exit code 2', async () => {
  writeFileSync(join(dir, 'bad.yaml'), stringify({ peer: { gossip: { useLeaderElection: true, orgLeader: true } } }));
  const { code, out } = await cli(['peer', 'start', '--config', join(dir, 'bad.yaml')]);
  assert.is(code, 2);
  assert.match(out, /useLeaderElection/);
  assert.match(out, /orgLeader/);
});

test.run();
