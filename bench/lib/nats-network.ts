// A whole murmur network in ONE process, for the benchmarks: N orgs x M peers, each the real peer actor tree
// (actors/peer.actor.ts) with its own bus connection, codec and ledger, plus the real ordering service
// (runtime/orderer/orderer.ts), in this process or (NATS only) in a process of its own (orderer-process.ts), so
// the offered load does not depend on how busy the peers keep this event loop. The bus is a real nats-server
// (one NatsTransport connection per peer, JetStream for the orderer's stream and the leaders' deliver feeds)
// or, for the scale comparison, the in-memory network on the real clock.
//
// Peers are configured like `murmur peer start` configures them: the loaded config (config/load.ts) with
// BENCH_SETTINGS and the scenario's overrides, mapped to createPeer's options the way runtime/peer.ts maps them.
// Bench-only instrumentation, per peer, with no hook in the peer itself:
//   - a counting decorator on the Ed25519 port its codec and ledger verify with: verifications with the
//     orderer's public key are block signature checks (that key signs nothing else), the rest are messages
//   - a second subscriber on its transport's inbound$: block payload copies received, by kind
//     (data = push or tree, update = pull, stateRes = state transfer), and tree announcements
//   - delivered$: blocks it got from the ordering service while leading
//   - ledger commits$: the process clock (performance.now) at each commit, for latencies; the orderer's appends
//     on the same clock (an orderer process's mapped by a measured offset)
import { mkdirSync, rmSync } from 'node:fs';
import type { EventLoopUtilization } from 'node:perf_hooks';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import type { Subscription } from 'rxjs';
import { createPeer, type Peer } from '../../actors/peer.actor.ts';
import { peerOptionsFrom } from '../../runtime/peer-options.ts';
import { loadPeerConfig } from '../../config/load.ts';
import type { PeerConfig } from '../../config/schema.ts';
import { realClock } from '../../runtime/clock.ts';
import { cryptoRng } from '../../runtime/rng.ts';
import { generateMaterial, parseOrgs, signerOf, type NetworkMaterial, type PeerMaterial } from '../../runtime/crypto/material.ts';
import { nodeEd25519, nobleEd25519, type Ed25519 } from '../../runtime/crypto/ed25519.ts';
import { TrustStore } from '../../runtime/crypto/msp.ts';
import { WireCodec } from '../../runtime/wire/codec.ts';
import { openGenesis, type Genesis } from '../../runtime/ledger/channel-config.ts';
import { encodeBlock, type Block } from '../../runtime/ledger/block.ts';
import type { Ledger, LedgerStore } from '../../runtime/ledger/ledger.ts';
import { MemoryLedgerStore } from '../../runtime/ledger/memory.ledger.ts';
import { LmdbLedgerStore } from '../../runtime/ledger/lmdb.ledger.ts';
import { NatsTransport } from '../../runtime/transport/nats.transport.ts';
import { MemoryNetwork } from '../../runtime/transport/memory.transport.ts';
import type { Transport } from '../../runtime/transport/transport.ts';
import { Orderer } from '../../runtime/orderer/orderer.ts';
import { JetStreamBlockLog } from '../../runtime/orderer/jetstream.log.ts';
import { DeliverFeed } from '../../runtime/orderer/deliver.feed.ts';
import { inboxTokenFor } from '../../runtime/transport/subjects.ts';
import { DeliverService } from '../../runtime/orderer/deliver.service.ts';
import { MemoryOrderingService } from '../../runtime/orderer/memory.ordering.ts';
import type { AppendResult, BlockLog } from '../../runtime/orderer/block-log.ts';
import type { OrderingFeed } from '../../runtime/orderer/feed.ts';
import { bytesEqual } from '../../runtime/util/bytes.ts';
import { readHead } from '../../runtime/wire/cbor-scan.ts';
import type { Payload } from '../../runtime/wire/messages.ts';
import { paced, sleep, tx, until } from './stats.ts';
import { OrdererProcess, type OrdererLoadResult } from './orderer-process.ts';
import { PeerThreads, type RemotePeer, type ThreadTarget } from './peer-threads.ts';
import type { ThreadNetworkOptions } from './peer-thread-protocol.ts';

export { sleep, until };

export const CHANNEL = 'channel1';

export type LoopMark = { main: EventLoopUtilization } | { threads: { idle: number; active: number }[] };

/**
 * Timings of every bench network, on top of the schema's (Fabric's) defaults: membership and election are
 * shortened (as in `murmur up`'s local preset) so a network is up in seconds; everything that moves blocks
 * (push, pull every 4 s, state transfer every 10 s, its batch and buffer sizes) keeps Fabric's defaults.
 */
export const BENCH_SETTINGS: Readonly<Record<string, string | number | boolean>> = Object.freeze({
  'peer.gossip.aliveTimeInterval': '1s',
  'peer.gossip.aliveExpirationTimeout': '5s',
  'peer.gossip.reconnectInterval': '5s',
  'peer.gossip.publishCertPeriod': '3s',
  'peer.gossip.election.startupGracePeriod': '3s',
  'peer.gossip.election.membershipSampleInterval': '200ms',
  'peer.gossip.election.leaderAliveThreshold': '2s',
  'peer.gossip.election.leaderElectionDuration': '1s',
  'peer.gossip.requestStateInfoInterval': '1s',
  'peer.gossip.publishStateInfoInterval': '1s',
});

export type Bus = { kind: 'nats'; url: string } | { kind: 'memory' };

export interface BenchNetworkOptions {
  bus: Bus;
  /** Subject prefix (and so stream names): several networks can share one server. Default a fresh one; a
   * network that reuses the prefix (and material) of a stopped one continues its orderer stream. */
  prefix?: string;
  /** Identities and genesis (default: generated for this network). */
  material?: NetworkMaterial;
  orgs: number;
  peersPerOrg: number;
  profile: 'murmur' | 'fabric';
  /** Config overrides by dotted path, above BENCH_SETTINGS and the profile. */
  settings?: Record<string, string | number | boolean>;
  /** 'dynamic' election (default) or peer0 of each org a static leader and the rest standby. */
  leaders?: 'dynamic' | 'static';
  /** Peer ledgers: in memory (default) or lmdb under `dir`. */
  ledger?: 'memory' | 'lmdb';
  dir?: string;
  /** Verifying ed25519 of the peers: node:crypto (default, murmur's) or noble. */
  signer?: 'node' | 'noble';
  /** Encoded size of the scenario's blocks: inbound messages of an unknown kind this large count as copies. */
  blockBytes?: number;
  /** Peers not started by `start()` (started later with `startPeer`). */
  deferred?: (id: string) => boolean;
  /** Where the orderer runs (default this process; 'process' needs NATS; 'none': elsewhere, for a peer thread).
   * It cuts one transaction per block. */
  orderer?: 'in-process' | 'process' | 'none';
  /** Spread the peers over this many peer threads of this process (bench/lib/peer-threads.ts; NATS and memory
   * ledgers only); 0 or absent: every peer on this thread. */
  threads?: number;
  /** A chain to start from, built with the network's orderer key over its genesis block: appended to the
   * orderer's log (unless the log holds it already), and committed to the ledgers of `peers` before they start. */
  preload?: { build: (sign: (msg: Uint8Array) => Uint8Array, genesis: Block) => readonly Block[]; peers: (id: string) => boolean };
}

/** Cumulative per-peer instrumentation (survives restarts of the peer). */
export interface PeerCounts {
  /** Verifications with the orderer's key: block signatures (gossip intake, ledger commit, deliver). */
  blockVerifies: number;
  /** Every other signature verification (envelopes, secrets). */
  messageVerifies: number;
  /** messageVerifies by what was signed: the payload kind, 'secret' (an envelope's internal endpoint) or 'other'. */
  messageVerifiesByKind: Record<string, number>;
  /** Block payload copies received, by how they came. */
  copies: { push: number; pull: number; state: number; orderer: number; other: number };
  /** Tree announcements (ihave entries) received: not payload, reported apart. */
  announcements: number;
  /** Inbound gossip messages and bytes, all kinds. */
  messages: number;
  bytes: number;
}

export interface BenchPeer {
  id: string;
  mspId: string;
  /** Index inside its org (peer0 is the anchor). */
  index: number;
  material: PeerMaterial;
  peer: Peer | null;
  transport: Transport | null;
  counts: PeerCounts;
  /** Stays across restarts (in-memory ledgers) so a restarted peer continues its chain. */
  store: LedgerStore;
  /** Called with (block number, process-clock ms) for every block this peer commits. */
  onCommit: ((n: number, at: number) => void) | null;
  subs: Subscription[];
  /** Set when the peer runs on a peer thread: what its reports say (peer and transport are then null). */
  remote: RemotePeer | null;
}

const zeroCounts = (): PeerCounts => ({ blockVerifies: 0, messageVerifies: 0, messageVerifiesByKind: {}, copies: { push: 0, pull: 0, state: 0, orderer: 0, other: 0 }, announcements: 0, messages: 0, bytes: 0 });

/** Counting decorator of the signature port (bench only): splits verifications by the key they use. */
export function countingEd(inner: Ed25519, ordererKey: Uint8Array, counts: PeerCounts): Ed25519 {
  return {
    name: inner.name,
    publicKey: (s) => inner.publicKey(s),
    sign: (s, m) => inner.sign(s, m),
    verify(pk, msg, sig) {
      if (bytesEqual(pk, ordererKey)) counts.blockVerifies++;
      else {
        counts.messageVerifies++;
        const kind = signedKind(msg);
        counts.messageVerifiesByKind[kind] = (counts.messageVerifiesByKind[kind] ?? 0) + 1;
      }
      return inner.verify(pk, msg, sig);
    },
  };
}

/**
 * What a verified message is, read from its first map keys without decoding it (a payload's canonical map
 * starts with its one-letter keys, `t` among them): the payload kind, 'secret' for an envelope's signed internal
 * endpoint, 'other' for anything else.
 */
export function signedKind(msg: Uint8Array): string {
  const map = readHead(msg, 0, false);
  if (!map || map.major !== 5) return 'other';
  let i = map.next;
  for (let k = 0; k < Math.min(map.value, 3); k++) {
    const key = readHead(msg, i, false);
    if (!key || key.major !== 3) return 'other';
    const name = Buffer.from(msg.buffer, msg.byteOffset + key.next, key.value).toString();
    const val = readHead(msg, key.next + key.value, false);
    if (!val) return 'other';
    if (name === 'internalEndpoint') return 'secret';
    if (name === 't') return val.major === 3 ? Buffer.from(msg.buffer, msg.byteOffset + val.next, val.value).toString() : 'other';
    if (val.major !== 3 && val.major !== 2 && val.major !== 0) return 'other';
    i = val.next + (val.major === 0 ? 0 : val.value);
  }
  return 'other';
}

let prefixSeq = 0;

export class BenchNetwork {
  readonly material: NetworkMaterial;
  readonly genesis: Genesis;
  readonly peers: BenchPeer[] = [];
  readonly config: PeerConfig;
  readonly prefix: string;
  private inproc: Orderer | null = null;
  private deliverService: DeliverService | null = null;
  /** The orderer's own process, when it runs in one. */
  ordererProcess: OrdererProcess | null = null;
  private readonly ed = nodeEd25519();
  private readonly trust: TrustStore;
  private ordererConn: NatsConnection | null = null;
  private memNet: MemoryNetwork | null = null;
  private memOrdering: MemoryOrderingService | null = null;
  private peerThreads: PeerThreads | null = null;
  private readonly appendListeners = new Set<(n: number, at: number) => void>();
  private txSeq = 0;

  private constructor(readonly o: BenchNetworkOptions) {
    this.prefix = o.prefix ?? `bench${process.pid}n${++prefixSeq}`;
    this.material = o.material ?? generateMaterial({ orgs: parseOrgs(o.orgs), peers: o.peersPerOrg, channels: [CHANNEL], ed: this.ed });
    this.genesis = openGenesis(this.material.channels[0]!.genesis, this.ed, CHANNEL);
    this.trust = new TrustStore(this.ed);
    for (const org of this.material.orgs) this.trust.addOrg(org.mspId, org.ca.cert.bytes);
    this.config = loadPeerConfig({
      env: {},
      overrides: { ...BENCH_SETTINGS, 'peer.gossip.murmur.profile': o.profile, ...(o.leaders === 'static' ? { 'peer.gossip.useLeaderElection': false } : {}), ...o.settings },
    }).config;
    for (const org of this.material.orgs)
      org.peers.forEach((p, index) => {
        const counts = zeroCounts();
        const ed = countingEd(this.verifier(), this.genesis.ordererPublicKey, counts);
        const store = o.ledger === 'lmdb' ? new LmdbLedgerStore(this.ledgerDir(p.id), ed) : new MemoryLedgerStore(ed);
        this.peers.push({ id: p.id, mspId: org.mspId, index, material: p, peer: null, transport: null, counts, store, onCommit: null, subs: [], remote: null });
      });
  }

  /** Creates the network: the ordering service (its stream, on NATS) and every peer not deferred. */
  static async start(o: BenchNetworkOptions): Promise<BenchNetwork> {
    const n = new BenchNetwork(o);
    if (o.orderer === 'none') {
      await Promise.all(n.peers.filter((p) => !o.deferred?.(p.id)).map((p) => n.startPeer(p.id)));
      return n;
    }
    let log: BlockLog;
    if (o.bus.kind === 'nats') {
      n.ordererConn = await connect({ servers: o.bus.url, name: `bench orderer ${n.prefix}`, noEcho: true });
      log = new JetStreamBlockLog(n.ordererConn, { prefix: n.prefix });
    } else {
      n.memNet = new MemoryNetwork({ clock: realClock, rng: cryptoRng(), prefix: n.prefix, latency: { minMs: 0, maxMs: 0 } });
      n.memOrdering = new MemoryOrderingService({ clock: realClock });
      log = n.memOrdering;
    }
    if (o.preload) await n.preload(log, o.preload);
    const appended = (num: number, at: number) => {
      for (const l of n.appendListeners) l(num, at);
    };
    if (o.orderer === 'process') {
      if (o.bus.kind !== 'nats') throw new Error('bench: an orderer process needs NATS');
      await log.ensure(n.genesis);
      n.ordererProcess = await OrdererProcess.start({ url: o.bus.url, prefix: n.prefix, genesis: n.genesis.bytes, secret: n.material.orderer.secret });
      n.ordererProcess.onAppended = appended;
    } else {
      n.inproc = await Orderer.start({
        channels: [n.genesis],
        log,
        sign: (m) => n.ed.sign(n.material.orderer.secret, m),
        clock: realClock,
        batchSize: { maxMessageCount: 1, preferredMaxBytes: 1 << 19, absoluteMaxBytes: 1 << 19 },
        batchTimeoutMs: 1000,
        maxPendingBatches: 1_000_000,
      });
      n.inproc.blocks$.subscribe(({ block }) => appended(block.number, performance.now()));
      if (n.ordererConn) n.deliverService = new DeliverService(n.ordererConn, { prefix: n.prefix, channels: () => [n.genesis.config.channel] }).start();
    }
    if (o.threads) await n.startThreads(o.threads);
    else await Promise.all(n.peers.filter((p) => !o.deferred?.(p.id)).map((p) => n.startPeer(p.id)));
    return n;
  }

  private async startThreads(threads: number): Promise<void> {
    const o = this.o;
    if (o.bus.kind !== 'nats' || o.ledger === 'lmdb' || o.deferred || o.preload) throw new Error('bench: peer threads need NATS, memory ledgers, and every peer started at once');
    const { deferred: _d, preload: _p, orderer: _o, threads: _t, ...rest } = o;
    const options: ThreadNetworkOptions = { ...rest, prefix: this.prefix, material: this.material };
    const targets = new Map<string, ThreadTarget>(this.peers.map((p) => [p.id, p]));
    const order = new Map(this.peers.map((p) => [p.id, p.index]));
    this.peerThreads = await PeerThreads.start(threads, options, targets, (id) => order.get(id)!);
  }

  /** The peer threads the peers run on (null: all on this thread). */
  get threads(): PeerThreads | null {
    return this.peerThreads;
  }

  /** Brings what the peer threads report (roles, members, drops, rejections) up to now; no-op on one thread. */
  async refresh(): Promise<void> {
    await this.peerThreads?.refresh();
  }

  /** The peer's transport drops by reason, and its rejected messages by reason (as of the last refresh). */
  dropped(p: BenchPeer): Record<string, number> {
    return p.remote ? (p.remote.status?.dropped ?? {}) : { ...(p.transport?.stats.dropped ?? {}) };
  }

  rejected(p: BenchPeer): Record<string, number> {
    return p.remote ? (p.remote.status?.rejected ?? {}) : { ...(p.peer?.status()[0]?.counters.rejected ?? {}) };
  }

  /** A mark of the event loop(s) the peers run on, for `loopUtilization`. */
  loopMark(): LoopMark {
    return this.peerThreads ? { threads: this.peerThreads.threadUsage().map((u) => u.loop) } : { main: performance.eventLoopUtilization() };
  }

  /** Share of the time since `mark` the peers' event loop was busy; with peer threads, the busiest one's. */
  loopUtilization(mark: LoopMark): number {
    if ('main' in mark) return performance.eventLoopUtilization(mark.main).utilization;
    const now = this.peerThreads!.threadUsage();
    return Math.max(
      0,
      ...mark.threads.map((l0, i) => {
        const active = now[i]!.loop.active - l0.active;
        const idle = now[i]!.loop.idle - l0.idle;
        return active + idle > 0 ? active / (active + idle) : 0;
      }),
    );
  }

  private role(p: BenchPeer): { role: string | null; leaderId: string | null } | null {
    if (p.remote) return p.remote.status;
    return p.peer?.status()[0] ?? null;
  }

  private aliveIds(p: BenchPeer): string[] {
    if (p.remote) return p.remote.status?.alive ?? [];
    return p.peer!.discovery.aliveMembers().map((m) => m.id);
  }

  /** Appends the blocks to the log (pipelined: one connection keeps them in order, each append is still
   * conditional on the log's length) and commits them to the chosen peers' ledgers. */
  private async preload(log: BlockLog, pre: NonNullable<BenchNetworkOptions['preload']>): Promise<void> {
    await log.ensure(this.genesis);
    const blocks = pre.build((m) => this.ed.sign(this.material.orderer.secret, m), this.genesis.block);
    const WINDOW = 256;
    const held = (await log.tip(CHANNEL)).number;
    if (held !== 0 && held !== blocks.length) throw new Error(`bench: the orderer log holds ${held} blocks, not 0 or the ${blocks.length} to preload`);
    for (let i = held; i < blocks.length; i += WINDOW) {
      const part = blocks.slice(i, i + WINDOW).map((block) => ({ block, encoded: encodeBlock(block) }));
      // The stream's append reads its own head, so only a run it pipelines itself can be concurrent.
      const r = log instanceof JetStreamBlockLog ? await log.appendRun(CHANNEL, part) : await appendInOrder(log, part);
      if (!r.ok) throw new Error('bench: preloading the orderer log conflicted');
    }
    for (const p of this.peers.filter((q) => pre.peers(q.id))) {
      const l = await p.store.open(this.genesis);
      for (let i = 0; i < blocks.length; i += 500) {
        const r = await l.commit(blocks.slice(i, i + 500));
        if (r.rejected) throw new Error(`bench: preloading ${p.id}: ${JSON.stringify(r.rejected)}`);
      }
    }
  }

  /** The dissemination mode the peers were configured with (the fabric profile implies push). */
  get dissemination(): string {
    return this.config.peer.gossip.murmur.dissemination;
  }

  /** Every block the orderer appends: its number and when JetStream acknowledged it, on this process's clock. */
  onAppend(fn: (n: number, at: number) => void): () => void {
    this.appendListeners.add(fn);
    return () => this.appendListeners.delete(fn);
  }

  /**
   * One `txBytes` transaction per block at `rate` blocks/s for `ms`, cut by the orderer wherever it runs: how
   * many were submitted, how many blocks the orderer appended meanwhile (counted where it runs) and its height.
   */
  async load(rate: number, ms: number, txBytes: number): Promise<OrdererLoadResult> {
    if (this.ordererProcess) return this.ordererProcess.load(rate, ms, txBytes);
    const o = this.inproc!;
    const h0 = this.ordererHeight();
    const sent = await paced(rate, ms, () => void o.submit(CHANNEL, tx(this.txSeq++, txBytes)));
    return { sent, appended: this.ordererHeight() - h0, height: this.ordererHeight() };
  }

  /** Ledger height of the orderer's chain (blocks appended, genesis included). */
  ordererHeight(): number {
    return this.ordererProcess ? this.ordererProcess.height : (this.inproc!.height(CHANNEL) ?? 0);
  }

  /** No accepted transaction waits to be appended. */
  ordererIdle(): boolean {
    return this.ordererProcess ? this.ordererProcess.pending === 0 : this.inproc!.stats.txs >= this.inproc!.stats.accepted;
  }

  get(id: string): BenchPeer {
    const p = this.peers.find((q) => q.id === id);
    if (!p) throw new Error(`no peer ${id}`);
    return p;
  }

  running(): BenchPeer[] {
    return this.peers.filter((p) => p.peer || p.remote);
  }

  ledger(p: BenchPeer): Ledger | null {
    return p.peer?.ledgers.get(CHANNEL) ?? null;
  }

  height(p: BenchPeer): number {
    return p.remote ? p.remote.height : (this.ledger(p)?.height() ?? 0);
  }

  /** Ids of the peers that lead the channel now. */
  leaders(): string[] {
    return this.running()
      .filter((p) => this.role(p)?.role === 'leader')
      .map((p) => p.id);
  }

  /** Every running peer sees every running peer it should (its org; other orgs' anchors if it is one). */
  membershipComplete(): boolean {
    const run = this.running();
    return run.every((p) => {
      const seen = new Set(this.aliveIds(p));
      return run.every((q) => q === p || !this.visible(p, q) || seen.has(q.id));
    });
  }

  /** One leader per org among running peers, every running peer of the org following it (elected leaders). */
  leadersSettled(): boolean {
    const run = this.running();
    const orgs = new Set(run.map((p) => p.mspId));
    for (const org of orgs) {
      const ps = run.filter((p) => p.mspId === org);
      const rows = ps.map((p) => this.role(p));
      if (rows.some((r) => !r)) return false;
      const leaders = rows.filter((r) => r!.role === 'leader');
      if (leaders.length !== 1) return false;
      // Standby peers of static leaders follow nobody (leaderId null).
      if (this.o.leaders !== 'static' && !rows.every((r) => r!.leaderId === ps[rows.indexOf(leaders[0]!)]!.id)) return false;
    }
    return true;
  }

  /** Every running peer holds the orderer's whole chain. */
  synced(): boolean {
    const h = this.ordererHeight();
    return this.running().every((p) => this.height(p) === h);
  }

  private visible(p: BenchPeer, q: BenchPeer): boolean {
    return p.mspId === q.mspId || (p.index === 0 && q.index === 0);
  }

  private verifier(): Ed25519 {
    return this.o.signer === 'noble' ? nobleEd25519 : nodeEd25519(this.config.peer.gossip.murmur.verifyCacheSize);
  }

  private ledgerDir(id: string): string {
    const d = join(this.o.dir ?? '.', this.prefix, id);
    mkdirSync(d, { recursive: true });
    return d;
  }

  /** Starts (or restarts) a peer: a fresh transport, codec and actor tree over its kept ledger store. */
  async startPeer(id: string): Promise<void> {
    const bp = this.get(id);
    if (bp.peer || bp.remote) throw new Error(`${id} runs already`);
    const g = this.config.peer.gossip;
    const ed = countingEd(this.verifier(), this.genesis.ordererPublicKey, bp.counts);
    const codec = new WireCodec({
      trust: this.trust,
      ed,
      now: () => realClock.now(),
      maxBytes: this.config.peer.maxRecvMsgSize,
      verifyCacheSize: g.murmur.verifyCacheSize,
      ownOrg: { mspId: bp.mspId, prefix: this.prefix },
    });
    let transport: Transport;
    let feed: OrderingFeed;
    if (this.o.bus.kind === 'nats') {
      const nats = new NatsTransport({ servers: [this.o.bus.url], endpoint: id, prefix: this.prefix, decoder: codec, name: `bench ${id}` });
      transport = nats;
      feed = new DeliverFeed(() => nats.connection, { prefix: this.prefix, token: inboxTokenFor(id) });
    } else {
      transport = this.memNet!.transport({ endpoint: id, decoder: codec });
      feed = this.memOrdering!;
    }
    const org = this.material.orgs.find((o) => o.mspId === bp.mspId)!;
    const anchor = bp.index === 0;
    const staticLeaders = this.o.leaders === 'static';
    // As `murmur up`: bootstrap with the org's first peer (the first peer with the second); static leaders are
    // the orgs' first peers.
    const options = peerOptionsFrom(this.config, {
      peerId: id,
      mspId: bp.mspId,
      prefix: this.prefix,
      channels: [{ name: CHANNEL, genesis: this.genesis }],
      bootstrap: org.peers.length > 1 ? [org.peers[anchor ? 1 : 0]!.id] : [],
      externalEndpoint: anchor ? id : '',
      internalEndpoint: id,
      pid: process.pid,
    });
    options.useLeaderElection = !staticLeaders;
    options.orgLeader = staticLeaders && anchor;
    const peer = createPeer(options, { transport, codec, signer: signerOf(bp.material, ed), clock: realClock, rng: cryptoRng(), ledgers: bp.store, feed });
    bp.subs.push(
      transport.inbound$.subscribe((i) => this.countInbound(bp, i.msg.payload, i.msg.bytes.byteLength)),
      peer.delivered$.subscribe(() => bp.counts.copies.orderer++),
    );
    bp.peer = peer;
    bp.transport = transport;
    await peer.start();
    const l = peer.ledgers.get(CHANNEL)!;
    bp.subs.push(
      l.commits$.subscribe((c) => {
        const at = performance.now();
        if (bp.onCommit) for (const b of c.blocks) bp.onCommit(b.number, at);
      }),
    );
  }

  /** Stops a peer (cleanly: actors stopped, connection drained); its ledger store stays. */
  async stopPeer(id: string): Promise<void> {
    const bp = this.get(id);
    if (bp.remote) throw new Error(`bench: ${id} runs on a peer thread`);
    const p = bp.peer;
    if (!p) return;
    bp.peer = null;
    bp.transport = null;
    await p.stop();
    for (const s of bp.subs.splice(0)) s.unsubscribe();
  }

  private countInbound(bp: BenchPeer, payload: Payload, bytes: number): void {
    const c = bp.counts;
    c.messages++;
    c.bytes += bytes;
    switch (payload.t) {
      case 'data':
        c.copies.push++;
        return;
      case 'update':
        if (payload.kind === 'block') c.copies.pull += payload.items.length;
        return;
      case 'stateRes':
        c.copies.state += payload.blocks.length;
        return;
      case 'ihave':
        c.announcements += payload.blocks.length;
        return;
      default: {
        const size = this.o.blockBytes ?? 4096;
        if (bytes >= size) c.copies.other += Math.floor(bytes / size);
      }
    }
  }

  async stop(): Promise<void> {
    await this.peerThreads?.stop();
    await Promise.all(this.peers.filter((p) => !p.remote).map((p) => this.stopPeer(p.id)));
    await this.ordererProcess?.stop();
    this.deliverService?.stop();
    await this.inproc?.stop(2000).catch(() => undefined);
    for (const p of this.peers) await p.store.close().catch(() => undefined);
    await this.ordererConn?.close();
    if (this.o.ledger === 'lmdb') rmSync(join(this.o.dir ?? '.', this.prefix), { recursive: true, force: true });
  }
}

/** Sum of every peer's counts (or of the given peers). */
export function totalCounts(peers: readonly BenchPeer[]): PeerCounts {
  const t = zeroCounts();
  for (const p of peers) {
    const c = p.counts;
    t.blockVerifies += c.blockVerifies;
    t.messageVerifies += c.messageVerifies;
    for (const [k, v] of Object.entries(c.messageVerifiesByKind)) t.messageVerifiesByKind[k] = (t.messageVerifiesByKind[k] ?? 0) + v;
    t.announcements += c.announcements;
    t.messages += c.messages;
    t.bytes += c.bytes;
    for (const k of Object.keys(t.copies) as (keyof PeerCounts['copies'])[]) t.copies[k] += c.copies[k];
  }
  return t;
}

/** b − a, field by field. */
export function diffCounts(b: PeerCounts, a: PeerCounts): PeerCounts {
  const d = zeroCounts();
  for (const k of ['blockVerifies', 'messageVerifies', 'announcements', 'messages', 'bytes'] as const) d[k] = b[k] - a[k];
  for (const k of Object.keys(d.copies) as (keyof PeerCounts['copies'])[]) d.copies[k] = b.copies[k] - a.copies[k];
  for (const [k, v] of Object.entries(b.messageVerifiesByKind)) d.messageVerifiesByKind[k] = v - (a.messageVerifiesByKind[k] ?? 0);
  return d;
}

export function cloneCounts(c: PeerCounts): PeerCounts {
  return { ...c, copies: { ...c.copies }, messageVerifiesByKind: { ...c.messageVerifiesByKind } };
}

async function appendInOrder(log: BlockLog, part: { block: Block; encoded: Uint8Array }[]): Promise<AppendResult> {
  for (const { block, encoded } of part) {
    const r = await log.append(CHANNEL, block, encoded);
    if (!r.ok) return r;
  }
  return { ok: true };
}
