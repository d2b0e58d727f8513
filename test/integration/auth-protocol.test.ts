// Issue 13, least privilege: the whole protocol works under the generated permissions. A real nats-server runs
// with the auth.conf of `crypto generate`; 2 orgs x 2 peers (the real peer assembly, startPeerProcess, in this
// process), the orderer, a transaction load and a status monitor each log in as their own user. Then: one leader
// per org, heights rising on every peer of both orgs, membership and StateInfo across orgs through the anchor
// peers' external endpoints, status answered, `tx --wait` served — and no party hit a permission refusal: none
// in any client's asynchronous errors, none in the server's log (whose detection is itself checked at the end
// with one deliberate refusal). The refusals themselves are test/integration/nats-auth.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { get } from 'node:http';
import { connect, type NatsConnection } from 'nats';
import { stringify as toYaml } from 'yaml';
import { generateMaterial, writeMaterial, type Manifest, type NatsCredentials } from '../../runtime/crypto/material.ts';
import { startNatsServer, type NatsServer } from '../../runtime/nats-server.ts';
import { loadPeerConfig } from '../../config/load.ts';
import { loadOrdererConfig } from '../../config/orderer-schema.ts';
import { startPeerProcess, type RunningPeer } from '../../runtime/peer.ts';
import { startOrdererProcess, type RunningOrderer } from '../../runtime/orderer/process.ts';
import { OrdererClient } from '../../runtime/orderer/client.ts';
import { LoadGenerator } from '../../runtime/orderer/load-generator.ts';
import { queryStatus } from '../../runtime/cli/status.ts';
import type { StatusRow } from '../../actors/status-row.ts';
import { SHORT_TIMINGS_ENV } from '../helpers/short-timings.ts';
import { withDeadline } from '../helpers/deadline.ts';

const CHANNEL = 'channel1';
let dir = '';
let server: NatsServer | undefined;
let manifest: Manifest;
let creds: NatsCredentials;
let orderer: RunningOrderer | undefined;
let client: OrdererClient | undefined;
let load: LoadGenerator | undefined;
const peers = new Map<string, RunningPeer>();
/** Every line each party logged or each connection reported asynchronously (permission errors arrive there). */
const said = new Map<string, string[]>();

const note = (who: string) => (line: string) => void (said.get(who) ?? said.set(who, []).get(who)!).push(line);
const refusal = /permission|violation/i;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function watchErrors(who: string, nc: NatsConnection): void {
  void (async () => {
    for await (const s of nc.status()) if (s.type === 'error') note(who)(`nats error: ${String(s.data)}`);
  })().catch(() => {});
}

function getJson(url: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body));
        } catch (e) {
          reject(e);
        }
      });
    }).on('error', reject);
  });
}

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-auth-protocol-'));
  manifest = writeMaterial(generateMaterial({ orgs: ['Org1', 'Org2'], peers: 2, channels: [CHANNEL] }), join(dir, 'crypto'));
  creds = JSON.parse(readFileSync(manifest.nats!.users, 'utf8'));
  const conf = join(dir, 'server.conf');
  writeFileSync(conf, `include ${JSON.stringify(relative(dir, manifest.nats!.authConf))}\n`);
  server = await startNatsServer({ port: 0, jetstream: true, logFile: join(dir, 'nats.log'), extraArgs: ['-c', conf] });
});

test.after(async () => {
  await load?.stop().catch(() => {});
  await client?.close().catch(() => {});
  await Promise.all([...peers.values()].map((p) => p.stop().catch(() => {})));
  await orderer?.stop().catch(() => {});
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function startOrderer(): Promise<void> {
  const file = join(dir, 'orderer.yaml');
  const c = creds.orderer;
  const yaml = {
    BatchTimeout: '250ms',
    General: { LocalMSPDir: manifest.orderer.mspDir, LocalMSPID: manifest.orderer.mspId, Channels: manifest.channels.map((ch) => ({ name: ch.name, genesisBlock: ch.genesisBlock })) },
    NATS: { Servers: [server!.url], User: c.user, Pass: c.pass },
    Operations: { ListenAddress: '' },
  };
  writeFileSync(file, toYaml(yaml), { mode: 0o600 });
  const { config } = loadOrdererConfig({ file, env: {} });
  orderer = await startOrdererProcess(config, note('orderer'));
  watchErrors('orderer', orderer.nc);
}

async function startPeer(org: Manifest['orgs'][number], i: number): Promise<void> {
  const p = org.peers[i]!;
  const c = creds.peers[p.id]!;
  const ledger = join(dir, 'peers', p.id);
  mkdirSync(ledger, { recursive: true });
  const { config } = loadPeerConfig({
    preset: 'local',
    env: SHORT_TIMINGS_ENV,
    overrides: {
      'peer.id': p.id,
      'peer.localMspId': org.mspId,
      'peer.fileSystemPath': ledger,
      'peer.mspConfigPath': p.mspDir,
      'peer.channels': manifest.channels.map((ch) => ({ name: ch.name, genesisBlock: ch.genesisBlock })),
      'peer.nats.servers': [server!.url],
      'peer.nats.user': c.user,
      'peer.nats.pass': c.pass,
      // As `murmur up`: the first peer of an org is its anchor (external endpoint); the peers bootstrap each other.
      'peer.gossip.bootstrap': [org.peers[i === 0 ? 1 : 0]!.id],
      'peer.gossip.externalEndpoint': i === 0 ? p.id : '',
      'operations.listenAddress': '',
    },
  });
  peers.set(p.id, await startPeerProcess(config, null, note(p.id)));
}

async function rows(): Promise<StatusRow[]> {
  const m = creds.monitor!;
  return queryStatus({ natsUrl: server!.url, timeoutMs: 700, login: { user: m.user, pass: m.pass } }).catch(() => []);
}

/** Polls status until `pred` holds; the last rows go into the failure message. */
async function waitRows(pred: (rs: StatusRow[]) => boolean, ms: number, what: string): Promise<StatusRow[]> {
  let rs: StatusRow[] = [];
  await withDeadline(
    (async () => {
      for (;;) {
        rs = await rows();
        if (pred(rs)) return;
        await sleep(200);
      }
    })(),
    ms,
    what,
  ).catch((e) => {
    throw new Error(`${(e as Error).message}\nlast status: ${JSON.stringify(rs.map((r) => [r.id, r.role, r.leaderId, r.height, r.members]))}\nlogged: ${JSON.stringify([...said])}`);
  });
  return rs;
}

test('the whole protocol works under permissions, and nobody is refused', async () => {
  await startOrderer();
  for (const org of manifest.orgs) for (const i of org.peers.keys()) await startPeer(org, i);
  const ids = [...peers.keys()];
  assert.equal(ids, ['peer0.org1', 'peer1.org1', 'peer0.org2', 'peer1.org2']);

  const cl = creds.client;
  client = await OrdererClient.connect(server!.url, 'murmur', 5000, { user: cl.user, pass: cl.pass });
  watchErrors('client', client.nc);
  load = new LoadGenerator(client, { channels: [CHANNEL], rate: 20, size: 256 });

  // One leader per org, every peer committing, full views: anchors see each other across orgs.
  const views: Record<string, string[]> = {
    'peer0.org1': ['peer0.org2', 'peer1.org1'],
    'peer1.org1': ['peer0.org1'],
    'peer0.org2': ['peer0.org1', 'peer1.org2'],
    'peer1.org2': ['peer0.org2'],
  };
  const leaders = (rs: StatusRow[], mspId: string) => rs.filter((r) => r.org === mspId && r.role === 'leader');
  const settled = (rs: StatusRow[]) =>
    rs.length === 4 &&
    ['Org1MSP', 'Org2MSP'].every((o) => leaders(rs, o).length === 1 && rs.filter((r) => r.org === o).every((r) => r.leaderId === leaders(rs, o)[0]!.id)) &&
    rs.every((r) => (r.height ?? 0) > 3 && JSON.stringify(r.members) === JSON.stringify(views[r.id]));
  const first = await waitRows(settled, 60_000, 'one leader per org, heights above 3, full views');

  // Heights keep rising on every peer of both orgs.
  const h0 = new Map(first.map((r) => [r.id, r.height!]));
  const later = await waitRows((rs) => rs.length === 4 && rs.every((r) => r.height! >= h0.get(r.id)! + 5), 30_000, 'heights rising on every peer');
  assert.ok(later.every((r) => r.natsConnected));

  // StateInfo travels where the protocol sends it: within each org, and across orgs between the anchors.
  for (const [id, p] of peers) {
    const seen = p.peer.stateInfo.get(CHANNEL)!.channelPeers();
    assert.equal(seen.map((x) => x.id).sort(), views[id], `${id} has StateInfo of every member`);
    assert.ok(seen.every((x) => x.height >= 1), `${id}: heights advertised`);
  }

  // A client's `tx --wait` and height request work under the client's permissions (no JetStream API needed).
  const waited = await client.submitAndWait(CHANNEL, new TextEncoder().encode('under permissions'), 15_000);
  assert.ok(waited.ok && waited.block !== undefined && waited.block >= 1, JSON.stringify(waited));
  assert.ok(((await client.height(CHANNEL)) ?? 0) > waited.block!, 'the orderer\'s height is past the waited block');

  // Every party is connected as its own user.
  const connz = (await getJson(`${server!.monitorUrl}/connz?auth=true&limit=1000`)) as { connections: { name?: string; authorized_user?: string }[] };
  const userOf = new Map(connz.connections.map((c) => [c.name, c.authorized_user]));
  for (const id of ids) assert.is(userOf.get(`murmur ${id}`), id, `${id} logs in as itself`);
  assert.is(userOf.get('murmur orderer'), 'orderer');
  assert.is(userOf.get('murmur client'), 'client');

  const stats = await load.stop();
  load = undefined;
  assert.ok(stats.accepted > 20 && stats.rejected === 0, JSON.stringify(stats));

  // No refusal anywhere: not in the clients' asynchronous errors, not in the server's log.
  for (const [who, lines] of said) assert.equal(lines.filter((l) => refusal.test(l)), [], `${who} was refused`);
  const serverLog = () => readFileSync(join(dir, 'nats.log'), 'utf8');
  assert.equal(serverLog().split('\n').filter((l) => refusal.test(l)), [], 'the server refused legitimate traffic');

  // The server's log does show a refusal when one happens (so the check above has teeth).
  const p = creds.peers['peer1.org1']!;
  const probe = await connect({ servers: server!.url, user: p.user, pass: p.pass });
  probe.publish(`murmur.org.Org2MSP.${CHANNEL}`, new Uint8Array([1]));
  await probe.flush();
  await probe.close();
  await withDeadline(
    (async () => {
      while (!serverLog().split('\n').some((l) => refusal.test(l) && l.includes('Org2MSP'))) await sleep(50);
    })(),
    5000,
    'the deliberate refusal in the server log',
  );
});

test.run();
