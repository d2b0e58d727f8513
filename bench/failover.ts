// Leader failover: kill the leader of an org → the first block a new leader of that org commits from the
// ordering service. Not part of `npm test`. `measureFailover` is also what `npm run bench` (bench/run.ts) calls.
//
//   timings 'fast'   real nats-server, the orderer and every peer as their own `murmur` processes, 20 blocks/s
//                    (1 tx per block). leaderAliveThreshold 400 ms, leaderElectionDuration 200 ms, membership and
//                    StateInfo timers shortened to match (FAST_TIMINGS). Per trial: wait until the network is
//                    settled (one leader per org, everyone follows it, heights together), wait a random phase in
//                    [0, leaderAliveThreshold), kill -9 the leader of the next org (round robin), and time until
//                    the first block a new leader committed from the orderer is seen on the bus. Observable: a
//                    wildcard subscription on every peer's inbox sees each block a peer sends (DataMsg, push or
//                    tree) or announces (tree `ihave`); a block numbered past every block seen before the kill can
//                    only come from a new leader's commit from the orderer, so the first such message from a peer
//                    of that org is the commit plus at most one flush (maxPropagationBurstLatency, 10 ms) and one
//                    NATS hop. A status request then checks that the new leader leads. The killed peer is
//                    restarted (same ledger) before the next trial.
//   timings 'fabric' Fabric's default timings (leaderAliveThreshold 10 s, leaderElectionDuration 5 s, …) in
//                    simulated time (runtime/sim/harness.ts: whole peers, in-memory bus and ordering service),
//                    one fresh seeded network per trial; the crash happens after a 2 s warm-up plus a random phase
//                    in [0, leaderAliveThreshold); the end is read exactly from the other peers' delivered$
//                    (blocks committed from the ordering service). simulated: true.
//
// Usage: npm run bench:failover [-- --trials N --timings fast|fabric --profile murmur|fabric --orgs N --peers N
//        --rate BLOCKS_PER_S --json]   (without --timings both run)
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { connect, createInbox, type NatsConnection } from 'nats';
import { startNatsServer, type NatsServer } from '../runtime/nats-server.ts';
import { channelNames, generateMaterial, parseOrgs, signerOf, writeMaterial } from '../runtime/crypto/material.ts';
import { nodeEd25519 } from '../runtime/crypto/ed25519.ts';
import { OrdererClient } from '../runtime/orderer/client.ts';
import { LoadGenerator } from '../runtime/orderer/load-generator.ts';
import { peek } from '../runtime/sim/kinds.ts';
import { toHex } from '../runtime/util/bytes.ts';
import { percentile } from '../actors/block-stats.ts';
import { decodeStatusRows, type StatusRow } from '../actors/status-row.ts';
import { DEFAULT_TIMINGS, Harness } from '../runtime/sim/harness.ts';
import { PRESETS } from '../config/presets.ts';
import { ordererDir, ordererYaml, peerCore, peerDir, spawnMurmur, writeYaml, type NetworkLayout } from '../runtime/cli/network-writer.ts';

export interface FailoverOptions {
  trials: number;
  timings: 'fast' | 'fabric';
  profile?: 'murmur' | 'fabric';
  orgs?: number;
  peersPerOrg?: number;
  log?: (line: string) => void;
  /** Blocks per second the orderer cuts during the run (1 transaction per block); default 20. */
  blocksPerSecond?: number;
}

export interface FailoverResult {
  p50_ms: number | null;
  p99_ms: number | null;
  samples_ms: number[];
  simulated: boolean;
  config: Record<string, unknown>;
}

const CHANNEL = 'channel1';
const PREFIX = 'murmur';

/** The 'fast' gossip timings (core.yaml keys), over `murmur up`'s local preset. */
export const FAST_TIMINGS: Readonly<Record<string, string>> = Object.freeze({
  'peer.gossip.election.leaderAliveThreshold': '400ms',
  'peer.gossip.election.leaderElectionDuration': '200ms',
  'peer.gossip.election.startupGracePeriod': '1s',
  'peer.gossip.election.membershipSampleInterval': '100ms',
  'peer.gossip.aliveTimeInterval': '300ms',
  'peer.gossip.aliveExpirationTimeout': '1500ms',
  'peer.gossip.reconnectInterval': '1s',
  'peer.gossip.publishStateInfoInterval': '300ms',
  'peer.gossip.requestStateInfoInterval': '300ms',
});

const round1 = (x: number) => Math.round(x * 10) / 10;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function measureFailover(opts: FailoverOptions): Promise<FailoverResult> {
  if (!(opts.trials >= 1)) throw new Error(`trials must be at least 1 (got ${opts.trials})`);
  const o = {
    trials: Math.floor(opts.trials),
    timings: opts.timings,
    profile: opts.profile ?? 'murmur',
    orgs: opts.orgs ?? 2,
    peersPerOrg: opts.peersPerOrg ?? 3,
    blocksPerSecond: opts.blocksPerSecond ?? 20,
    log: opts.log ?? (() => {}),
  };
  if (o.peersPerOrg < 2) throw new Error('failover needs at least 2 peers per org');
  const r = o.timings === 'fast' ? await fast(o) : await simulated(o);
  const sortedSamples = [...r.samples].sort((a, b) => a - b);
  return { p50_ms: percentile(sortedSamples, 0.5), p99_ms: percentile(sortedSamples, 0.99), samples_ms: r.samples, simulated: o.timings === 'fabric', config: r.config };
}

type Resolved = Required<Omit<FailoverOptions, 'log'>> & { log: (line: string) => void };

// ---------------------------------------------------------------------------------------------------------
// Fabric's timings in simulated time.

async function simulated(o: Resolved): Promise<{ samples: number[]; config: Record<string, unknown> }> {
  const T = DEFAULT_TIMINGS;
  const samples: number[] = [];
  const failed: string[] = [];
  const started = performance.now();
  for (let t = 0; t < o.trials; t++) {
    const seed = `failover-${o.profile}-${t}`;
    const h = await Harness.create({ orgs: o.orgs, peers: o.peersPerOrg, seed, signer: 'sim', peerOptions: { profile: o.profile }, orderer: { maxMessageCount: 1 } });
    let producing = true;
    try {
      const orgs = [...new Set([...h.peers.values()].map((p) => p.org))];
      const leadersOf = (org: string) => h.running().filter((p) => p.org === org && p.peer!.elections.get(CHANNEL)?.role() === 'leader');
      if (!(await h.until(() => orgs.every((g) => leadersOf(g).length === 1), 120_000, 250))) {
        failed.push(`${seed}: no leader per org`);
        continue;
      }
      // The orderer cuts blocks continuously from here on.
      let n = 0;
      const produce = () => {
        if (!producing) return;
        h.submit(CHANNEL, new TextEncoder().encode(`${seed}-${n++}`));
        h.clock.setTimeout(produce, 1000 / o.blocksPerSecond);
      };
      produce();
      await h.advance(2000 + h.rng.fork('failover-phase').int(T.leaderAliveThreshold));
      const org = orgs[t % orgs.length]!;
      const old = leadersOf(org)[0]!.id;
      let at: number | null = null;
      let by = '';
      const subs = h
        .running()
        .filter((p) => p.org === org && p.id !== old)
        .map((p) =>
          p.peer!.delivered$.subscribe(() => {
            if (at !== null) return;
            at = h.clock.now();
            by = p.id;
          }),
        );
      await h.crash(old);
      const t0 = h.clock.now();
      const ok = await h.until(() => at !== null, 120_000, 100);
      for (const s of subs) s.unsubscribe();
      if (!ok) {
        failed.push(`${seed}: no block from the orderer under a new leader within 120 s`);
        o.log(`trial ${t + 1}/${o.trials}: no new leader committed within 120 s (simulated)`);
        continue;
      }
      samples.push(at! - t0);
      o.log(`trial ${t + 1}/${o.trials}: ${old} crashed, ${by} committed a block from the orderer after ${at! - t0} ms (simulated)`);
    } finally {
      producing = false;
      await h.stop();
    }
  }
  return {
    samples,
    config: {
      timings: 'fabric',
      profile: o.profile,
      orgs: o.orgs,
      peersPerOrg: o.peersPerOrg,
      trials: o.trials,
      failedTrials: failed,
      blocksPerSecond: o.blocksPerSecond,
      clock: 'simulated (runtime/sim/harness.ts, in-memory bus and ordering service, seeds failover-<profile>-<trial>)',
      gossip: {
        leaderAliveThreshold: T.leaderAliveThreshold,
        leaderElectionDuration: T.leaderElectionDuration,
        startupGracePeriod: T.startupGracePeriod,
        aliveTimeInterval: T.aliveTimeInterval,
        aliveExpirationTimeout: T.aliveExpirationTimeout,
        publishStateInfoInterval: T.publishStateInfoInterval,
      },
      measured: 'crash of the leader of org (trial mod orgs), after a 2 s warm-up + a random phase in [0, leaderAliveThreshold) → first block another peer of that org commits from the ordering service (delivered$)',
      wallMs: Math.round(performance.now() - started),
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Short timings on a real nats-server with peer processes.

interface PeerProc {
  id: string;
  org: string;
  mspId: string;
  pkiIdHex: string;
  config: string;
  log: string;
  child: ChildProcess | null;
}

async function fast(o: Resolved): Promise<{ samples: number[]; config: Record<string, unknown> }> {
  const dir = mkdtempSync(join(tmpdir(), 'murmur-failover-'));
  const started = performance.now();
  const load0 = loadavg();
  let server: NatsServer | null = null;
  let orderer: ChildProcess | null = null;
  let nc: NatsConnection | null = null;
  let client: OrdererClient | null = null;
  let load: LoadGenerator | null = null;
  const peers: PeerProc[] = [];
  const samples: number[] = [];
  const failed: string[] = [];
  let blocks0 = 0;
  let blocks1 = 0;
  try {
    server = await startNatsServer({ port: 0, jetstream: true, storeDir: join(dir, 'nats') });
    const ed = nodeEd25519();
    const material = generateMaterial({ orgs: parseOrgs(o.orgs), peers: o.peersPerOrg, channels: channelNames(1), ed });
    const manifest = writeMaterial(material, join(dir, 'crypto'), PREFIX);

    // The orderer: one transaction per block, so the block rate is the load's rate. No operations listeners:
    // their default ports may be taken by another network on the machine.
    const net: NetworkLayout = { manifest, dir, natsUrls: [server.url], prefix: PREFIX };
    const ordDir = ordererDir(net);
    const ordererConfig = writeYaml(join(ordDir, 'orderer.yaml'), ordererYaml(net, { opsListen: '', extra: { BatchTimeout: '1s', BatchSize: { MaxMessageCount: 1 } } }));
    orderer = spawnMurmur(['orderer', 'start', '--config', ordererConfig], join(ordDir, 'orderer.log'));

    const settings = { ...PRESETS.local, ...FAST_TIMINGS, ...(o.profile === 'fabric' ? { 'peer.gossip.murmur.profile': 'fabric' } : {}) };
    for (const org of material.orgs) {
      const orgManifest = manifest.orgs.find((g) => g.mspId === org.mspId)!;
      for (const [i, p] of org.peers.entries()) {
        const config = writeYaml(join(peerDir(net, p.id), 'core.yaml'), peerCore(net, orgManifest, i, { opsListen: '', settings }));
        peers.push({ id: p.id, org: org.name, mspId: org.mspId, pkiIdHex: signerOf(p, ed).identity.pkiIdHex, config, log: join(peerDir(net, p.id), 'peer.log'), child: null });
      }
    }
    for (const p of peers) p.child = spawnMurmur(['peer', 'start', '--config', p.config], p.log);

    nc = await connect({ servers: server.url, name: 'murmur failover bench' });
    client = await OrdererClient.connect(server.url, PREFIX);
    const deadline = Date.now() + 30_000;
    while ((await client.height(CHANNEL).catch(() => null)) === null) {
      if (Date.now() > deadline || orderer.exitCode !== null) throw new Error(`the orderer did not create its stream; see ${join(ordDir, 'orderer.log')}`);
      await sleep(100);
    }
    load = new LoadGenerator(client, { channels: [CHANNEL], rate: o.blocksPerSecond, size: 256 });
    blocks0 = (await client.height(CHANNEL)) ?? 0;

    // The spy: every point-to-point gossip message that carries or announces a block.
    const byPki = new Map(peers.map((p) => [p.pkiIdHex, p]));
    let maxSeqSeen = 0;
    let watch: { org: string; killed: string; after: number; hit: ((p: PeerProc, seq: number, at: number, kind: string) => void) | null } | null = null;
    nc.subscribe(`${PREFIX}.inbox.>`, {
      callback: (err, msg) => {
        if (err) return;
        const now = performance.now();
        const data = blocksOf(msg.data);
        if (!data) return;
        const from = byPki.get(data.signer);
        // What the killed leader sent before it died may be read only now: it is never "past the kill". Any copy
        // or announcement of such a block by another peer reaches this subscription after the leader's own.
        if (watch && from?.id === watch.killed && data.seq > watch.after) watch.after = data.seq;
        if (watch?.hit && from && from.org === watch.org && from.id !== watch.killed && data.seq > watch.after) {
          const hit = watch.hit;
          watch.hit = null;
          hit(from, data.seq, now, data.kind);
        }
        if (data.seq > maxSeqSeen) maxSeqSeen = data.seq;
      },
    });

    const orgs = [...new Set(peers.map((p) => p.org))];
    const rate = o.blocksPerSecond;
    const threshold = 400; // FAST_TIMINGS' leaderAliveThreshold
    for (let t = 0; t < o.trials; t++) {
      const rows = await settled(nc, peers, orgs, rate, o.log);
      const org = orgs[t % orgs.length]!;
      const leaderId = rows.find((r) => r.org === peers.find((p) => p.org === org)!.mspId && r.role === 'leader')!.id;
      const leader = peers.find((p) => p.id === leaderId)!;
      await sleep(Math.random() * threshold);
      let t1 = 0;
      let by: PeerProc | null = null;
      let seq = 0;
      let kind = '';
      const hit = new Promise<void>((resolve) => {
        watch = {
          org,
          killed: leader.id,
          after: maxSeqSeen,
          hit: (p, s, at, k) => {
            t1 = at;
            kind = k;
            by = p;
            seq = s;
            resolve();
          },
        };
      });
      const t0 = performance.now();
      process.kill(leader.child!.pid!, 'SIGKILL');
      const ok = await Promise.race([hit.then(() => true), sleep(30_000).then(() => false)]);
      watch = null;
      await exited(leader.child!);
      if (!ok) {
        failed.push(`trial ${t + 1}: no new leader of ${org} originated a block within 30 s`);
        o.log(`trial ${t + 1}/${o.trials}: ${leader.id} killed; no block from a new leader within 30 s`);
      } else {
        const ms = round1(t1 - t0);
        samples.push(ms);
        // Who leads the org now, by status (not part of the timing).
        const check = await status(nc, peers.length - 1, 500);
        const row = check.find((r) => r.org === leader.mspId && r.role === 'leader');
        const note = row ? `${row.id} leads, ${row.counters.blocksFromOrderer} blocks from the orderer so far` : 'no leader in status yet';
        o.log(`trial ${t + 1}/${o.trials}: killed ${leader.id}; block ${seq} from the orderer seen after ${ms} ms (${kind} from ${by!.id}; ${note})`);
      }
      leader.child = spawnMurmur(['peer', 'start', '--config', leader.config], leader.log);
    }
    blocks1 = (await client.height(CHANNEL).catch(() => null)) ?? blocks0;
  } finally {
    if (load) await load.stop();
    await client?.close().catch(() => {});
    await nc?.close().catch(() => {});
    await Promise.all([...peers.map((p) => p.child), orderer].map((c) => (c ? stop(c) : Promise.resolve())));
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const wallMs = performance.now() - started;
  return {
    samples,
    config: {
      timings: 'fast',
      profile: o.profile,
      orgs: o.orgs,
      peersPerOrg: o.peersPerOrg,
      trials: o.trials,
      failedTrials: failed,
      blocksPerSecond: o.blocksPerSecond,
      blocksPerSecondMeasured: round1(((blocks1 - blocks0) * 1000) / wallMs),
      clock: 'real: nats-server, orderer and one process per peer (murmur orderer start / peer start)',
      gossip: { ...PRESETS.local, ...FAST_TIMINGS },
      measured:
        'kill -9 of the leader of org (trial mod orgs), after the network settled + a random phase in [0, leaderAliveThreshold) → the first block numbered past every block seen before the kill, sent (data) or announced (ihave) by another peer of that org, seen on a wildcard inbox subscription (includes ≤ maxPropagationBurstLatency 10 ms of batching and one NATS hop)',
      dissemination: o.profile === 'fabric' ? 'push (the fabric profile)' : 'the schema default (peer.gossip.murmur.dissemination)',
      machine: { cores: cpus().length, loadavgAtStart: load0.map(round1), loadavgAtEnd: loadavg().map(round1) },
      wallMs: Math.round(wallMs),
    },
  };
}

/**
 * The highest block number a message sends (DataMsg) or announces (tree `ihave`), with its signer, or null for
 * anything else. Measurement only: nothing is verified.
 */
function blocksOf(bytes: Uint8Array): { signer: string; seq: number; kind: string } | null {
  const m = peek(bytes);
  if (!m) return null;
  const p = m.payload;
  const signer = toHex(m.signer);
  if (p?.t === 'data') return { signer, seq: p.seq, kind: 'data' };
  if (p?.t === 'ihave' && Array.isArray(p.blocks) && p.blocks.length) return { signer, seq: Math.max(...p.blocks.map((b) => b.seq)), kind: 'ihave' };
  return null;
}

/** Status rows of up to `expected` peers (stops at that many replies or after `timeoutMs`). */
function status(nc: NatsConnection, expected: number, timeoutMs: number): Promise<StatusRow[]> {
  return new Promise((resolve) => {
    const rows: StatusRow[] = [];
    let replies = 0;
    const inbox = createInbox();
    const done = () => {
      clearTimeout(timer);
      sub.unsubscribe();
      resolve(rows);
    };
    const sub = nc.subscribe(inbox, {
      callback: (err, m) => {
        if (err) return;
        const r = decodeStatusRows(m.data);
        if (!r) return;
        rows.push(...r);
        if (++replies >= expected) done();
      },
    });
    const timer = setTimeout(done, timeoutMs);
    nc.publish(`${PREFIX}.status`, new Uint8Array(0), { reply: inbox });
  });
}

/**
 * Waits until every peer answers, each org has exactly one leader that all its peers follow, and every height is
 * within half a second of blocks of the highest; twice in a row, 1 s apart. Returns the last rows.
 */
async function settled(nc: NatsConnection, peers: PeerProc[], orgs: string[], rate: number, log: (l: string) => void): Promise<StatusRow[]> {
  const deadline = Date.now() + 120_000;
  let since: { at: number; leaders: string } | null = null;
  let last = '';
  for (;;) {
    const rows = await status(nc, peers.length, 1000);
    const why = unsettled(rows, peers, orgs, rate);
    if (!why) {
      const leaders = rows.filter((r) => r.role === 'leader').map((r) => r.id).sort().join(',');
      if (since && since.leaders === leaders && Date.now() - since.at >= 1000) return rows;
      if (!since || since.leaders !== leaders) since = { at: Date.now(), leaders };
    } else {
      since = null;
      last = why;
    }
    if (Date.now() > deadline) throw new Error(`the network did not settle within 120 s: ${last}`);
    for (const p of peers) if (p.child && p.child.exitCode !== null) log(`warning: ${p.id} exited (${p.child.exitCode}); see ${p.log}`);
    await sleep(200);
  }
}

function unsettled(rows: StatusRow[], peers: PeerProc[], orgs: string[], rate: number): string | null {
  const ids = new Set(rows.map((r) => r.id));
  const missing = peers.filter((p) => !ids.has(p.id)).map((p) => p.id);
  if (missing.length) return `no answer from ${missing.join(', ')}`;
  for (const org of orgs) {
    const mspId = peers.find((p) => p.org === org)!.mspId;
    const mine = rows.filter((r) => r.org === mspId);
    const leaders = mine.filter((r) => r.role === 'leader');
    if (leaders.length !== 1) return `${org} has ${leaders.length} leaders`;
    const strays = mine.filter((r) => r.leaderId !== leaders[0]!.id);
    if (strays.length) return `${strays.map((r) => r.id).join(', ')} not following ${leaders[0]!.id}`;
  }
  const hs = rows.map((r) => r.height ?? -1);
  if (Math.min(...hs) < 2) return 'no block committed yet';
  if (Math.max(...hs) - Math.min(...hs) > Math.max(5, rate / 2)) return `heights apart: ${rows.map((r) => `${r.id}@${r.height}`).join(' ')}`;
  return null;
}

function exited(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => c.once('exit', () => resolve()));
}

async function stop(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const done = exited(c);
  c.kill('SIGTERM');
  const t = setTimeout(() => c.kill('SIGKILL'), 5000);
  await done;
  clearTimeout(t);
}

// ---------------------------------------------------------------------------------------------------------
// CLI

async function main(argv: string[]): Promise<void> {
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const num = (name: string): number | undefined => (arg(name) === undefined ? undefined : Number(arg(name)));
  const timings = arg('timings');
  const profile = arg('profile') ?? 'murmur';
  if (timings !== undefined && timings !== 'fast' && timings !== 'fabric') throw new Error('--timings is fast or fabric');
  if (profile !== 'murmur' && profile !== 'fabric') throw new Error('--profile is murmur or fabric');
  const runs: ('fast' | 'fabric')[] = timings ? [timings] : ['fast', 'fabric'];
  const json = argv.includes('--json');
  const results: (FailoverResult & { timings: string })[] = [];
  for (const tm of runs) {
    const r = await measureFailover({
      trials: num('trials') ?? 20,
      timings: tm,
      profile,
      orgs: num('orgs'),
      peersPerOrg: num('peers'),
      blocksPerSecond: num('rate'),
      log: (l) => console.error(`[${tm}] ${l}`),
    });
    results.push({ ...r, timings: tm });
  }
  const ms = (x: number | null) => (x === null ? 'n/a' : `${x} ms`);
  const rows = results.map((r) => ({
    timings: r.timings === 'fast' ? 'fast (400/200 ms, real NATS)' : 'fabric defaults (simulated)',
    profile,
    trials: `${r.samples_ms.length}/${r.config.trials}`,
    p50: ms(r.p50_ms),
    p99: ms(r.p99_ms),
    min: ms(r.samples_ms.length ? Math.min(...r.samples_ms) : null),
    max: ms(r.samples_ms.length ? Math.max(...r.samples_ms) : null),
  }));
  console.table(rows);
  const fastRun = results.find((r) => r.timings === 'fast');
  if (fastRun) console.log(`machine: ${JSON.stringify(fastRun.config.machine)}`);
  if (json) console.log(JSON.stringify(results));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (e) => {
      console.error(`bench:failover: ${(e as Error).message}`);
      process.exit(1);
    },
  );
}
