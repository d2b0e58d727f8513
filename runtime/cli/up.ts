// `murmur up`: a whole local network on one machine. Starts an embedded nats-server (unless --nats),
// generates crypto material once under --data, starts the ordering service as its own process (orderer.yaml
// under --data/orderer), writes one core.yaml per peer (with the chosen timing preset), starts each peer as its
// own process (or, with --in-process, inside this one: in-process.ts), writes network.json, runs a light transaction load (--load-rate, 0 = none) and shows a live
// status table. SIGINT/SIGTERM/SIGHUP (or the launcher going away) stop the load, every child it started and the embedded server, then exit 0.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { channelNames, generateMaterial, parseOrgs, writeMaterial, type Manifest } from '../crypto/material.ts';
import { freePort, startNatsServer } from '../nats-server.ts';
import { startNatsCluster, type NatsCluster } from '../nats-cluster.ts';
import { PRESETS } from '../../config/presets.ts';
import { writeNetworkFile, type NetworkFile } from './network-file.ts';
import { formatStatusTable, queryStatus } from './status.ts';
import { OrdererClient } from '../orderer/client.ts';
import { LoadGenerator } from '../orderer/load-generator.ts';
import type { Dashboard } from '../dashboard/server.ts';
import { InProcessPeers } from './in-process.ts';
import { watchParent } from '../die-with-parent.ts';
import { prepareUpAuth } from './nats-credentials.ts';
import { ordererDir, ordererYaml, peerCore, peerDir, spawnMurmur, writeYaml, type NetworkLayout } from './network-writer.ts';

export interface UpOptions {
  orgs: string;
  peers: number;
  channels: number;
  nats?: string;
  data: string;
  fresh: boolean;
  timings: 'local' | 'fabric';
  /** Which of orgs/peers/channels the user gave explicitly (they must match existing material). */
  explicit: Set<string>;
  prefix: string;
  /** Transactions per second on each channel; 0: no load. */
  loadRate: number;
  /** Serve the browser dashboard on this loopback port (0: a free one); undefined: no dashboard. */
  dashboard?: number;
  /** Start every peer with an inspector relay and print each relay's URL. */
  inspect?: boolean;
  /** --join: the channels a named peer joins (peers not named join every channel). */
  joins?: Record<string, string[]>;
  /** Start a local cluster of this many nats-servers instead of one embedded server. */
  natsCluster?: number;
  /** Run every peer inside this process (in-process.ts) instead of one child process per peer. */
  inProcess?: boolean;
  /** NATS authorization (nats-credentials.ts): undefined = on for the server(s) up starts, off with --nats. */
  auth?: boolean;
}

/** Prints a peer's inspector relay URL when the peer logs it. */
function watchInspector(child: ChildProcess, id: string, say: (s: string) => void): void {
  let buf = '';
  const onData = (d: Buffer) => {
    buf = (buf + d.toString()).slice(-4096);
    const m = /inspector: (ws:\/\/[0-9.:]+)/.exec(buf);
    if (m) {
      say(`${id.padEnd(14)} inspector: ${m[1]}  (https://stately.ai/inspect?server=${m[1]})`);
      child.stdout!.off('data', onData);
    }
  };
  child.stdout!.on('data', onData);
}

/** Bytes per transaction of `up`'s load. */
const LOAD_TX_BYTES = 256;

function loadOrCreateCrypto(o: UpOptions, dir: string, say: (s: string) => void): Manifest {
  const manifestPath = join(dir, 'crypto.json');
  const wanted = { orgs: parseOrgs(o.orgs), peers: o.peers, channels: channelNames(o.channels) };
  if (existsSync(manifestPath)) {
    const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
    const have = { orgs: m.orgs.map((x) => x.name), peers: m.orgs[0]?.peers.length ?? 0, channels: m.channels.map((c) => c.name) };
    const clash = (['orgs', 'peers', 'channels'] as const).filter((k) => o.explicit.has(k) && JSON.stringify(have[k]) !== JSON.stringify(wanted[k]));
    if (clash.length)
      throw new Error(`${o.data} already holds a network with ${JSON.stringify(have)}; --${clash.join(', --')} differ. Use --fresh to start over or another --data.`);
    say(`reusing crypto material in ${dir}`);
    return m;
  }
  say(`generating crypto material for ${wanted.orgs.length} orgs x ${wanted.peers} peers, ${wanted.channels.length} channel(s) in ${dir}`);
  return writeMaterial(generateMaterial(wanted), dir);
}

/** Checks --join against the network: every named peer and channel must exist. */
export function checkJoins(joins: Record<string, string[]>, m: Manifest): void {
  const peers = m.orgs.flatMap((g) => g.peers.map((p) => p.id));
  const channels = m.channels.map((c) => c.name);
  for (const [id, chs] of Object.entries(joins)) {
    if (!peers.includes(id)) throw new Error(`--join ${id}=…: no peer ${id} in this network (peers: ${peers.join(', ')})`);
    const unknown = chs.filter((c) => !channels.includes(c));
    if (unknown.length) throw new Error(`--join ${id}=${chs.join(',')}: no channel ${unknown.join(', ')} in this network (channels: ${channels.join(', ')})`);
  }
}

export async function up(o: UpOptions): Promise<void> {
  const say = (s: string) => console.log(s);
  const data = resolve(o.data);
  if (o.fresh) rmSync(data, { recursive: true, force: true });
  mkdirSync(data, { recursive: true });
  const manifest = loadOrCreateCrypto(o, join(data, 'crypto'), say);
  checkJoins(o.joins ?? {}, manifest);
  const joined = (id: string) => o.joins?.[id] ?? manifest.channels.map((c) => c.name);
  const auth = await prepareUpAuth({ auth: o.auth, nats: o.nats, data, cryptoDir: join(data, 'crypto'), manifest, prefix: o.prefix, say });
  // Config files holding a password are readable by their owner only.
  const secret = !!auth;

  const children = new Map<string, ChildProcess>();
  let server: Awaited<ReturnType<typeof startNatsServer>> | null = null;
  let cluster: NatsCluster | null = null;
  let stopping = false;
  let ticker: NodeJS.Timeout | undefined;
  let load: LoadGenerator | null = null;
  let client: OrdererClient | null = null;
  /** Reads the orderer's heights for the LAG column (the load's client when there is one). */
  let heightClient: OrdererClient | null = null;
  let dash: Dashboard | null = null;
  const inProcess = o.inProcess ? new InProcessPeers({ env: process.env, inspect: o.inspect, say }) : null;
  const network: NetworkFile = { natsUrl: '', natsPid: null, natsUsers: auth?.users ?? null, prefix: o.prefix, orderer: null, peers: [] };

  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    clearTimeout(ticker);
    say('\nstopping…');
    await dash?.close().catch(() => {});
    if (load) {
      const s = await load.stop();
      say(`load: accepted=${s.accepted} rejected=${s.rejected}`);
    }
    await client?.close();
    if (heightClient !== client) await heightClient?.close();
    await inProcess?.stop();
    await Promise.all(
      [...children.entries()].map(
        ([id, c]) =>
          new Promise<void>((done) => {
            if (c.exitCode !== null || c.signalCode !== null) return done();
            const kill = setTimeout(() => c.kill('SIGKILL'), 5000);
            c.once('exit', () => {
              clearTimeout(kill);
              done();
            });
            if (!c.kill('SIGTERM')) {
              clearTimeout(kill);
              done();
            }
            void id;
          }),
      ),
    );
    if (server) await server.stop();
    if (cluster) await cluster.stop();
    network.peers = network.peers.map((p) => ({ ...p, pid: null }));
    network.orderer = null;
    network.natsPid = null;
    writeNetworkFile(data, network);
    say('stopped');
    process.exit(code);
  };
  // SIGHUP too (terminal closed, supervisor), and the launcher vanishing (npx's sh -c forwards no signal).
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(sig, () => void shutdown(0));
  watchParent(() => {
    say('\nthe process that started murmur up is gone');
    void shutdown(0);
  });

  try {
    if (o.nats && o.natsCluster) throw new Error('--nats and --nats-cluster exclude each other');
    if (o.nats) {
      network.natsUrl = o.nats;
    } else if (o.natsCluster) {
      cluster = await startNatsCluster({ size: o.natsCluster, dir: join(data, 'nats-cluster'), extraArgs: auth?.serverArgs });
      network.natsUrl = cluster.urls.join(',');
      network.natsPids = cluster.servers.map((x) => x!.pid);
      say(`nats cluster: ${o.natsCluster} servers, routes on loopback, JetStream replicated`);
    } else {
      mkdirSync(join(data, 'nats'), { recursive: true });
      server = await startNatsServer({ port: 0, jetstream: true, storeDir: join(data, 'nats', 'jetstream'), logFile: join(data, 'nats', 'nats-server.log'), extraArgs: auth?.serverArgs });
      network.natsUrl = server.url;
      network.natsPid = server.pid;
    }
    say(`nats: ${network.natsUrl}`);

    // The ordering service first: it creates each channel's stream (block 0 = genesis) that leaders read.
    const net: NetworkLayout = { manifest, dir: data, natsUrls: network.natsUrl.split(','), prefix: o.prefix };
    const ordDir = ordererDir(net);
    // A fixed free loopback port, so the orderer's opsUrl is known before it starts (as for peers).
    const ordererOpsUrl = `http://127.0.0.1:${await freePort()}`;
    const ordererConfig = writeYaml(
      join(ordDir, 'orderer.yaml'),
      ordererYaml(net, {
        opsListen: ordererOpsUrl.slice('http://'.length),
        replicas: Math.min(3, o.natsCluster ?? 1),
        login: auth?.orderer,
        extra: o.timings === 'local' ? { BatchTimeout: '1s' } : {},
      }),
      { header: 'Written by murmur up; override with ORDERER_* variables.', secret },
    );
    const ord = spawnMurmur(['orderer', 'start', '--config', ordererConfig], join(ordDir, 'orderer.log'), { detached: true, pipe: true });
    // The orderer says "orderer running" once it serves transactions (its streams exist before that).
    let tail = '';
    const serving = new Promise<void>((resolve) => {
      const onData = (d: Buffer) => {
        tail = (tail + d.toString()).slice(-4096);
        if (!tail.includes('orderer running on')) return;
        ord.stdout!.off('data', onData);
        resolve();
      };
      ord.stdout!.on('data', onData);
    });
    ord.on('exit', (code, signal) => {
      if (!stopping) say(`orderer exited (${signal ?? `code ${code}`}); see ${join(ordDir, 'orderer.log')}`);
    });
    children.set('orderer', ord);
    network.orderer = { pid: ord.pid!, opsUrl: ordererOpsUrl };
    say(`${'orderer'.padEnd(14)} pid ${ord.pid}  opsUrl: ${ordererOpsUrl}  log: ${join(ordDir, 'orderer.log')}`);

    for (const org of manifest.orgs) {
      for (const [i, p] of org.peers.entries()) {
        const dir = peerDir(net, p.id);
        // A fixed free loopback port per peer, so opsUrl is known before the peer starts.
        const opsPort = await freePort();
        const opsUrl = `http://127.0.0.1:${opsPort}`;
        const core = peerCore(net, org, i, { opsListen: `127.0.0.1:${opsPort}`, login: auth?.peer(p.id), settings: o.timings === 'local' ? PRESETS.local : {}, channels: o.joins?.[p.id] });
        const configFile = writeYaml(join(dir, 'core.yaml'), core, { header: 'Written by murmur up; edit and restart, or override with CORE_PEER_GOSSIP_* variables.', secret });
        if (inProcess) {
          const logFile = join(dir, 'peer.log');
          const r = await inProcess.start({ id: p.id, configFile, logFile });
          network.peers.push({ id: p.id, org: org.mspId, pid: process.pid, opsUrl: r.opsUrl, channels: joined(p.id) });
          say(`${p.id.padEnd(14)} in-process (pid ${process.pid})  opsUrl: ${r.opsUrl}  log: ${logFile}`);
          if (r.inspectorUrl) say(`${p.id.padEnd(14)} inspector: ${r.inspectorUrl}  (https://stately.ai/inspect?server=${r.inspectorUrl})`);
          continue;
        }
        // Own process group: a terminal's Ctrl-C reaches only `up`, which stops peers in order. The IPC channel
        // lets a peer notice when `up` itself dies (even by SIGKILL) and stop instead of lingering.
        const child = spawnMurmur(['peer', 'start', '--config', configFile, ...(o.inspect ? ['--inspect'] : [])], join(dir, 'peer.log'), { detached: true, pipe: true });
        if (o.inspect) watchInspector(child, p.id, say);
        child.on('exit', (code, signal) => {
          if (!stopping) say(`peer ${p.id} exited (${signal ?? `code ${code}`}); see ${join(dir, 'peer.log')}`);
        });
        children.set(p.id, child);
        network.peers.push({ id: p.id, org: org.mspId, pid: child.pid ?? null, opsUrl, channels: joined(p.id) });
        say(`${p.id.padEnd(14)} pid ${child.pid}  opsUrl: ${opsUrl}  log: ${join(dir, 'peer.log')}`);
      }
    }
    writeNetworkFile(data, network);
    say(`network.json: ${join(data, 'network.json')}   (Ctrl-C stops everything)`);
    if (o.dashboard !== undefined) {
      const { startDashboard } = await import('../dashboard/server.ts');
      dash = await startDashboard({ natsUrl: network.natsUrl, prefix: o.prefix, port: o.dashboard, expected: () => network.peers.map((p) => ({ id: p.id, org: p.org, pid: p.pid })), login: auth?.monitor });
      say(`dashboard: ${dash.url}`);
    }

    if (o.loadRate > 0) {
      client = await OrdererClient.connect(network.natsUrl, o.prefix, undefined, auth?.client);
      // Wait (bounded) for the orderer to have created every stream, so the load does not start with refusals.
      const channels = manifest.channels.map((c) => c.name);
      // A fresh cluster may time out JetStream requests while it elects its meta leader: that is "not yet".
      const until = Date.now() + (o.natsCluster ? 60_000 : 15_000);
      const height = (ch: string) => client!.height(ch).catch(() => null);
      for (const ch of channels) while ((await height(ch)) === null && Date.now() < until && ord.exitCode === null) await new Promise((r) => setTimeout(r, 100));
      await Promise.race([serving, new Promise((r) => setTimeout(r, Math.max(0, until - Date.now())))]);
      load = new LoadGenerator(client, { channels, rate: o.loadRate, size: LOAD_TX_BYTES });
      say(`load: ${o.loadRate} tx/s of ${LOAD_TX_BYTES} bytes on ${channels.join(', ')} (--no-load turns it off)`);
    }
  } catch (e) {
    console.error(`murmur up: ${(e as Error).message}`);
    await shutdown(1);
    return;
  }

  const tty = process.stdout.isTTY === true;
  const total = manifest.orgs.reduce((n, g) => n + g.peers.length, 0);
  // Live columns: lag behind the orderer's height, and blocks/s from the previous sample of each peer.
  const channelNames = manifest.channels.map((c) => c.name);
  heightClient = client ?? (await OrdererClient.connect(network.natsUrl, o.prefix, undefined, auth?.client).catch(() => null));
  const previous = new Map<string, { height: number; at: number }>();
  const refresh = async () => {
    if (stopping) return;
    // In-process peers are read directly: a round trip through NATS would wait on this same busy event loop.
    const rows = inProcess ? inProcess.status() : await queryStatus({ natsUrl: network.natsUrl, prefix: o.prefix, timeoutMs: 700, login: auth?.monitor }).catch(() => []);
    if (stopping) return;
    const ordererHeight = new Map<string, number>();
    for (const ch of channelNames) {
      const h = await heightClient?.height(ch).catch(() => null);
      if (typeof h === 'number') ordererHeight.set(ch, h);
    }
    const rates = new Map<string, number>();
    const now = Date.now();
    for (const r of rows) {
      if (r.height === null) continue;
      const key = `${r.id}/${r.channel}`;
      const p = previous.get(key);
      if (p && now > p.at) rates.set(key, ((r.height - p.height) * 1000) / (now - p.at));
      previous.set(key, { height: r.height, at: now });
    }
    const table = formatStatusTable(rows, { ordererHeight, rates });
    const answered = new Set(rows.map((r) => r.id)).size;
    const ls = load?.stats;
    const head = `${new Date().toISOString()}  ${answered}/${total} peers answering  nats ${network.natsUrl}${dash ? `  dashboard ${dash.url}` : ''}${ls ? `  load accepted=${ls.accepted} rejected=${ls.rejected}` : ''}`;
    if (tty) process.stdout.write(`\x1b[H\x1b[2J${head}\n\n${table}\n\nCtrl-C stops everything\n`);
    else say(`${head}\n${table}`);
    return statusRefreshMs(tty, answered, total);
  };
  // A terminal's table is redrawn every second; a log gets one every 5 s once every peer answers (every second
  // until then): status is not gathered when nobody reads it (issue 25).
  const schedule = (ms: number) => {
    ticker = setTimeout(() => void refresh().then((next) => !stopping && schedule(next ?? 1000), () => !stopping && schedule(1000)), ms);
  };
  schedule(1000);
}

/** When `up` gathers its status table next (ms): every second on a terminal and while a peer has not answered
 * yet; every 5 s for a log once all answer (nobody reads a table in between). */
export function statusRefreshMs(tty: boolean, answered: number, total: number): number {
  return tty || answered < total ? 1000 : 5000;
}
