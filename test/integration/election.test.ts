// Election on a real nats-server with peer processes and short timings: one leader per org; kill -9 the
// leader and another takes over. And the inspector relay: a WebSocket client sees election transitions.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { runCli, cli, type CliRun } from '../helpers/cli.ts';
import { until, withDeadline } from '../helpers/deadline.ts';
import type { NetworkFile } from '../../runtime/cli/network-file.ts';
import type { StatusRow } from '../../actors/status-row.ts';
import { SHORT_TIMINGS_ENV } from '../helpers/short-timings.ts';

let dir = '';
let run: CliRun | undefined;
const env = SHORT_TIMINGS_ENV;

test.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-election-'));
});
test.after(() => {
  if (run && run.child.exitCode === null) run.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function rows(): Promise<StatusRow[]> {
  const r = await cli(['status', '--data', dir, '--json', '--timeout', '400ms']);
  return r.code === 0 ? JSON.parse(r.out) : [];
}
const leadersOf = (rs: StatusRow[]) => rs.filter((r) => r.role === 'leader').map((r) => r.id).sort();

test('one leader per org on NATS; kill -9 of the leader: another peer consumes the ordering service, ledgers identical', async () => {
  run = runCli(['up', '--orgs', '2', '--peers', '2', '--data', dir, '--load-rate', '20'], env);
  await until(() => /network\.json/.test(run!.output()) || run!.child.exitCode !== null, 20_000, 'up started', 50);
  assert.is(run.child.exitCode, null, run.output());
  let rs: StatusRow[] = [];
  await withDeadline(
    (async () => {
      for (;;) {
        rs = await rows();
        const l = leadersOf(rs);
        const following = rs.filter((r) => r.role === 'follower' && r.leaderId && l.includes(r.leaderId));
        if (rs.length === 4 && l.length === 2 && new Set(l.map((id) => id.split('.')[1])).size === 2 && following.length === 2) return;
      }
    })(),
    40_000,
    'one leader per org, followers following it',
  );
  const leader1 = leadersOf(rs).find((id) => id.endsWith('org1'))!;
  const net = JSON.parse(readFileSync(join(dir, 'network.json'), 'utf8')) as NetworkFile;
  process.kill(net.peers.find((p) => p.id === leader1)!.pid!, 'SIGKILL');
  const other = leader1 === 'peer0.org1' ? 'peer1.org1' : 'peer0.org1';
  await withDeadline(
    (async () => {
      for (;;) {
        rs = await rows();
        const r = rs.find((x) => x.id === other);
        // The new leader is consuming the ordering service: it commits blocks from the orderer.
        if (r?.role === 'leader' && (r.counters.blocksFromOrderer ?? 0) > 0) return;
      }
    })(),
    15_000,
    `${other} taking over and consuming the ordering service`,
  );
  // Ledgers identical: at some moment every live peer reports the same height and tip.
  await withDeadline(
    (async () => {
      for (;;) {
        rs = await rows();
        if (rs.length === 3 && new Set(rs.map((r) => `${r.height}:${r.tipHash}`)).size === 1 && rs[0]!.height! > 2) return;
      }
    })(),
    20_000,
    'identical ledgers on every live peer',
  );
  run.child.kill('SIGINT');
  assert.is(await withDeadline(run.exited, 20_000, 'up exit'), 0);
});

test('peer start --inspect: a WebSocket client on loopback sees the whole channel tree and the election machine move', async () => {
  const gen = await cli(['crypto', 'generate', '--orgs', '1', '--peers', '1', '--channels', '1', '--out', join(dir, 'crypto2')]);
  assert.is(gen.code, 0, gen.out);
  const { writeFileSync } = await import('node:fs');
  const { stringify } = await import('yaml');
  const { startNatsServer } = await import('../../runtime/nats-server.ts');
  const server = await startNatsServer({ port: 0 });
  const cfg = join(dir, 'inspect.yaml');
  writeFileSync(
    cfg,
    stringify({
      peer: {
        id: 'peer0.org1',
        localMspId: 'Org1MSP',
        mspConfigPath: 'crypto2/peerOrganizations/Org1MSP/peers/peer0.org1/msp',
        fileSystemPath: 'ledger-inspect',
        channels: [{ name: 'channel1', genesisBlock: 'crypto2/channels/channel1.genesis.block' }],
        nats: { servers: [server.url] },
      },
    }),
  );
  const peer = runCli(['peer', 'start', '--config', cfg, '--inspect'], env);
  const ws: { sock?: WebSocket } = {};
  try {
    await until(() => /inspector: ws:\/\/127\.0\.0\.1:\d+/.test(peer.output()) || peer.child.exitCode !== null, 20_000, 'relay url', 50);
    const url = /inspector: (ws:\/\/127\.0\.0\.1:\d+)/.exec(peer.output())![1]!;
    const seen: string[] = [];
    const actors = new Map<string, { name: string; parentId?: string }>();
    ws.sock = new WebSocket(url);
    ws.sock.on('message', (d) => {
      const ev = JSON.parse(String(d));
      if (ev.type === '@xstate.actor') actors.set(ev.sessionId, { name: ev.name, parentId: ev.parentId });
      if (ev.type === '@xstate.snapshot' && ev.snapshot?.value?.dynamic) seen.push(JSON.stringify(ev.snapshot.value.dynamic));
    });
    // A lone peer: startup → electing → leading.
    await until(() => seen.some((v) => v.includes('leading')), 15_000, 'election reaching leading over the relay', 50);
    assert.ok(seen.some((v) => v.includes('electing')), `saw ${seen.join(' ')}`);
    // The channel's whole tree is visible: its machines and every port, as children of the channel actor.
    const channel = [...actors].find(([, a]) => a.name === 'channel:channel1');
    assert.ok(channel, `actors: ${[...actors.values()].map((a) => a.name).join(' ')}`);
    const children = [...actors.values()].filter((a) => a.parentId === channel[0]).map((a) => a.name).sort();
    assert.equal(children, ['commit', 'deliver', 'dissemination', 'election', 'electionLink', 'pull', 'stateServer', 'stateTransfer', 'stateTransferLink']);
    peer.child.kill('SIGTERM');
    assert.is(await withDeadline(peer.exited, 10_000, 'peer exit with relay open'), 0, peer.output());
  } finally {
    ws.sock?.terminate();
    if (peer.child.exitCode === null) peer.child.kill('SIGKILL');
    await server.stop();
  }
});

test.run();
