// Simulation harness core: N orgs x M peers, each the real peer actor tree, on the in-memory network with
// one simulated clock and one seed. Everything random (keys, start jitter, nonces, link latency and loss)
// is drawn from that seed, so a run replays exactly; `traceDigest()` fingerprints every delivery.
// Helpers advance time, crash and restart a peer (its durable state is kept), and partition / heal.
// An in-process ordering service (the real Orderer on the simulated clock, writing to an in-memory log that is
// also the peers' ordering feed) takes transactions (`submit`) or raw blocks (`ordering.inject`); each peer
// has an in-memory ledger that survives its crashes.
import { SimClock, type Clock } from '../clock.ts';
import { rngFromSeed, type Rng } from '../rng.ts';
import { MemoryNetwork, type LinkConfig } from '../transport/memory.transport.ts';
import { generateMaterial, parseOrgs, channelNames, signerOf, type NetworkMaterial, type PeerMaterial } from '../crypto/material.ts';
import { nodeEd25519, type Ed25519 } from '../crypto/ed25519.ts';
import { TrustStore } from '../crypto/msp.ts';
import { issueCertificate } from '../crypto/certificate.ts';
import { issueRevocationList } from '../crypto/revocation.ts';
import { WireCodec } from '../wire/codec.ts';
import { openGenesis, type Genesis } from '../ledger/channel-config.ts';
import { createPeer, type Peer, type PeerOptions, type PeerTimings } from '../../actors/peer.actor.ts';
import { loadPeerConfig } from '../../config/load.ts';
import { gossipTimings, peerOptionsFrom } from '../peer-options.ts';
import { simEd25519 } from './sim-signer.ts';
import { MemoryLedgerStore } from '../ledger/memory.ledger.ts';
import { throwError } from 'rxjs';
import { FeedError, type OrderingFeed } from '../orderer/feed.ts';
import type { Ledger } from '../ledger/ledger.ts';
import { MemoryOrderingService } from '../orderer/memory.ordering.ts';
import { Orderer, type SubmitResult } from '../orderer/orderer.ts';

/** Simulated time starts at a fixed, realistic epoch so certificate validity checks are meaningful. */
export const SIM_EPOCH_MS = Date.UTC(2026, 0, 1);

export interface HarnessOptions {
  orgs: number | string[];
  peers: number;
  channels?: number;
  /** The orgs (names) each channel's config lists (default: every org); see generateMaterial. */
  channelOrgs?: Record<string, string[]>;
  /** The channels a peer joins (default: every channel whose config lists its org). A peer may join a channel
   * its org is not in: it is configured, but the other peers and the orderer treat it as an outsider. */
  joins?: (id: string) => string[];
  seed: number | string;
  /** 'real' ed25519 (default) or the cheap deterministic 'sim' signer for large runs. */
  signer?: 'real' | 'sim';
  link?: Partial<LinkConfig>;
  /** Peers start at uniformly random offsets in [0, startJitterMs). */
  startJitterMs?: number;
  /** Which peers get an external endpoint (their id): the anchor peers (peer0 of each org, default), all or none. */
  external?: 'anchors' | 'all' | 'none';
  /** Timer overrides (ms); the defaults are Fabric's, from the config schema. */
  timings?: Partial<PeerTimings>;
  /** Per-peer option overrides (election mode, connection retries). */
  peerOptions?: Partial<Omit<PeerOptions, 'peerId' | 'mspId' | 'channels' | 'prefix' | 'timings'>>;
  /** Overrides for one peer (bootstrap lists, endpoints, election mode), applied after peerOptions. */
  perPeer?: (id: string) => Partial<Omit<PeerOptions, 'peerId' | 'mspId' | 'channels' | 'prefix' | 'timings'>>;
  /** The in-process orderer's batching (defaults: 2 s, 500 tx, 2 MB preferred, 10 MB absolute) and feed latency. */
  orderer?: Partial<{ batchTimeoutMs: number; maxMessageCount: number; preferredMaxBytes: number; absoluteMaxBytes: number; latencyMs: number }>;
  /** The clock of one peer (default the shared SimClock), asked once per peer: its actors' timers and its
   * codec's certificate validity checks both read it. The simulator gives one peer a skewed clock. */
  peerClock?: (id: string, clock: SimClock) => Clock;
  /** The signature port one peer verifies with (its codec and its ledgers; default the shared one), asked once
   * per peer: tests wrap it to count each peer's verifications. */
  peerEd?: (id: string, ed: Ed25519) => Ed25519;
}

/** Fabric's timings as the config schema defines them. */
/** The configuration schema's defaults (no file, no environment). */
const DEFAULT_CONFIG = loadPeerConfig({ env: {} }).config;
export const DEFAULT_TIMINGS: PeerTimings = gossipTimings(DEFAULT_CONFIG.peer.gossip);

export interface SimPeer {
  id: string;
  pkiId: Uint8Array;
  pkiIdHex: string;
  org: string;
  mspId: string;
  material: PeerMaterial;
  codec: WireCodec;
  /** The running peer, or null while crashed. */
  peer: Peer | null;
}

export class Harness {
  readonly clock = new SimClock(SIM_EPOCH_MS);
  readonly rng: Rng;
  readonly network: MemoryNetwork;
  readonly material: NetworkMaterial;
  readonly ed: Ed25519;
  readonly peers = new Map<string, SimPeer>();
  private readonly genesis: { name: string; genesis: Genesis }[];
  /** Each peer's trust anchors (a property of the peer, like its clock: revocation lists are applied per peer). */
  private readonly trusts = new Map<string, TrustStore>();
  /** Each org's revoked PKI-IDs so far (a new revocation list names them all) and when its CA last issued one. */
  private readonly revoked = new Map<string, { ids: Uint8Array[]; at: number }>();
  /** Each peer's own clock (a property of the peer: kept across its crashes and restarts). */
  private readonly clocks = new Map<string, Clock>();
  /** Durable per-peer state that survives a crash: the last incarnation number. */
  private readonly lastInc = new Map<string, number>();
  /** Each peer's signature port (a property of the peer, like its clock). */
  private readonly eds = new Map<string, Ed25519>();
  /** Durable per-peer state that survives a crash: the ledgers. */
  private readonly ledgerStores = new Map<string, MemoryLedgerStore>();
  /** The ordering service's output: its BlockLog and the peers' OrderingFeed. */
  readonly ordering: MemoryOrderingService;
  /** The in-process orderer (set by `create`). */
  orderer!: Orderer;

  private constructor(readonly opts: HarnessOptions) {
    this.rng = rngFromSeed(opts.seed);
    this.ed = opts.signer === 'sim' ? simEd25519 : nodeEd25519();
    const keys = this.rng.fork('keys');
    this.material = generateMaterial({
      orgs: typeof opts.orgs === 'number' ? parseOrgs(opts.orgs) : opts.orgs,
      peers: opts.peers,
      channels: channelNames(opts.channels ?? 1),
      channelOrgs: opts.channelOrgs,
      now: this.clock.now(),
      random: (n) => keys.bytes(n),
      ed: this.ed,
    });
    this.network = new MemoryNetwork({ clock: this.clock, rng: this.rng.fork('network'), ...opts.link });
    this.genesis = this.material.channels.map((c) => ({ name: c.name, genesis: openGenesis(c.genesis, this.ed) }));
    this.ordering = new MemoryOrderingService({ clock: this.clock, latencyMs: opts.orderer?.latencyMs });
    for (const org of this.material.orgs)
      for (const p of org.peers) {
        const identity = signerOf(p, this.ed).identity;
        this.clocks.set(p.id, opts.peerClock?.(p.id, this.clock) ?? this.clock);
        this.eds.set(p.id, opts.peerEd?.(p.id, this.ed) ?? this.ed);
        const trust = new TrustStore(this.ed);
        for (const o of this.material.orgs) trust.addOrg(o.mspId, o.ca.cert.bytes);
        this.trusts.set(p.id, trust);
        this.peers.set(p.id, { id: p.id, pkiId: identity.pkiId, pkiIdHex: identity.pkiIdHex, org: org.name, mspId: org.mspId, material: p, codec: this.codec(p.id, org.mspId), peer: null });
      }
  }

  /** Builds the network and starts every peer at a seeded random offset. */
  static async create(opts: HarnessOptions): Promise<Harness> {
    const h = new Harness(opts);
    const oo = opts.orderer ?? {};
    h.orderer = await Orderer.start({
      channels: h.genesis.map((g) => g.genesis),
      log: h.ordering,
      sign: (m) => h.ed.sign(h.material.orderer.secret, m),
      clock: h.clock,
      batchSize: { maxMessageCount: oo.maxMessageCount ?? 500, preferredMaxBytes: oo.preferredMaxBytes ?? 2 << 20, absoluteMaxBytes: oo.absoluteMaxBytes ?? 10 << 20 },
      batchTimeoutMs: oo.batchTimeoutMs ?? 2000,
      maxPendingBatches: 1024,
    });
    const jitter = h.rng.fork('start');
    const starts: Promise<void>[] = [];
    for (const id of h.peers.keys()) {
      const at = opts.startJitterMs ? jitter.int(opts.startJitterMs) : 0;
      starts.push(new Promise<void>((resolve, reject) => h.clock.setTimeout(() => h.start(id).then(resolve, reject), at)));
    }
    await h.advance(opts.startJitterMs ?? 0);
    await Promise.all(starts);
    return h;
  }

  /** The clock a peer lives by: the shared one, or the skewed one `peerClock` gave it. */
  clockOf(id: string): Clock {
    return this.clocks.get(id) ?? this.clock;
  }

  private edOf(id: string): Ed25519 {
    return this.eds.get(id) ?? this.ed;
  }

  /** A peer's codec checks certificate validity by the peer's own clock, as a real peer would. */
  private codec(id: string, mspId: string): WireCodec {
    const clock = this.clockOf(id);
    return new WireCodec({ trust: this.trusts.get(id)!, ed: this.edOf(id), now: () => clock.now(), maxBytes: this.network.maxPayload, ownOrg: { mspId, prefix: this.network.subjects.prefix } });
  }

  /** Starts (or restarts) one peer. A restart keeps what the peer persisted and gets a fresh incarnation. */
  async start(id: string): Promise<void> {
    const sp = this.mustGet(id);
    if (sp.peer) throw new Error(`${id} is already running`);
    const transport = this.network.transport({ endpoint: id, decoder: sp.codec });
    const org = this.material.orgs.find((o) => o.mspId === sp.mspId)!;
    const incNum = Math.max(this.clock.now(), (this.lastInc.get(id) ?? 0) + 1);
    this.lastInc.set(id, incNum);
    const ext = this.opts.external ?? 'anchors';
    const externalEndpoint = ext === 'all' || (ext === 'anchors' && org.peers[0]!.id === id) ? id : '';
    const peer = createPeer(
      {
        // The defaults of the configuration schema (Fabric's, with murmur's documented differences), as
        // `murmur peer start` maps them; the scenario's overrides on top.
        ...peerOptionsFrom(DEFAULT_CONFIG, {
          peerId: id,
          mspId: sp.mspId,
          prefix: this.network.subjects.prefix,
          channels: this.channelsOf(id),
          bootstrap: org.peers.filter((p) => p.id !== id).slice(0, 1).map((p) => p.id),
          externalEndpoint,
          internalEndpoint: id,
          incNum,
        }),
        timings: { ...DEFAULT_TIMINGS, ...this.opts.timings },
        ...this.opts.peerOptions,
        ...this.opts.perPeer?.(id),
      },
      {
        transport,
        codec: sp.codec,
        signer: signerOf(sp.material, this.ed),
        clock: this.clockOf(id),
        rng: this.rng.fork(`peer:${id}:${this.clock.now()}`),
        ledgers: this.ledgerStore(id),
        feed: readersOnly(this.ordering, sp.mspId, this.genesis),
      },
    );
    sp.peer = peer;
    const started = peer.start();
    await this.flush();
    await started;
  }

  /** The peer's org CA issues it a new certificate for the same key, valid from now for `validityMs` (Fabric's
   * certificate renewal). A new certificate is a new PKI-ID; the peer uses it from its next start. */
  renew(id: string, validityMs: number): void {
    const sp = this.mustGet(id);
    const ca = this.material.orgs.find((o) => o.mspId === sp.mspId)!.ca;
    const now = this.clock.now();
    const { role, mspId, subject, publicKey } = sp.material.cert;
    const cert = issueCertificate({ role, mspId, subject, publicKey, notBefore: now - 1000, notAfter: now + validityMs }, ca.secret, this.ed);
    sp.material = { ...sp.material, cert };
    const identity = signerOf(sp.material, this.ed).identity;
    sp.pkiId = identity.pkiId;
    sp.pkiIdHex = identity.pkiIdHex;
  }

  /** The CA of each target's org revokes its current certificate: a revocation list naming it (and everyone the
   * org revoked before) is applied by the running peers in `at` (default: every running peer). */
  revoke(targets: string[], at: string[] = this.running().map((p) => p.id)): void {
    const orgs = new Set<string>();
    for (const t of targets) {
      const sp = this.mustGet(t);
      const r = this.revoked.get(sp.mspId) ?? { ids: [], at: 0 };
      r.ids.push(sp.pkiId);
      this.revoked.set(sp.mspId, r);
      orgs.add(sp.mspId);
    }
    for (const mspId of orgs) {
      const r = this.revoked.get(mspId)!;
      r.at = Math.max(this.clock.now(), r.at + 1);
      const ca = this.material.orgs.find((o) => o.mspId === mspId)!.ca;
      const crl = issueRevocationList({ mspId, issuedAt: r.at, revoked: r.ids }, ca.secret, this.ed);
      for (const id of at) {
        const applied = this.mustGet(id).peer?.applyRevocationList(crl);
        if (applied && !applied.ok) throw new Error(`${id} refused the revocation list of ${mspId}: ${applied.reason}`);
      }
    }
  }

  /** Crash: the peer vanishes from the network at once (no goodbye); its durable state stays. */
  async crash(id: string): Promise<void> {
    const sp = this.mustGet(id);
    if (!sp.peer) return;
    const p = sp.peer;
    sp.peer = null;
    const done = p.stop();
    await this.flush();
    await done;
  }

  /** Submits a transaction to the in-process orderer (its block is cut by count, bytes or timeout). */
  submit(channel: string, tx: Uint8Array): SubmitResult {
    return this.orderer.submit(channel, tx);
  }

  /** The channels (with their genesis) a peer joins. */
  channelsOf(id: string): { name: string; genesis: Genesis }[] {
    const sp = this.mustGet(id);
    const joins = this.opts.joins?.(id);
    return this.genesis.filter((g) => (joins ? joins.includes(g.name) : g.genesis.config.orgs.some((o) => o.mspId === sp.mspId)));
  }

  /** A running peer leaves a channel (Peer.leaveChannel); false if it is not running or not in the channel. */
  async leaveChannel(id: string, channel: string): Promise<boolean> {
    const left = this.mustGet(id).peer?.leaveChannel(channel) ?? false;
    await this.flush();
    return left;
  }

  /** A peer's ledger of `channel` while it runs, else null. */
  ledger(id: string, channel = this.genesis[0]!.name): Ledger | null {
    return this.mustGet(id).peer?.ledgers.get(channel) ?? null;
  }

  /** A peer's ledger store: it outlives crashes, so a restarted peer continues its chain. */
  ledgerStore(id: string): MemoryLedgerStore {
    let s = this.ledgerStores.get(id);
    if (!s) this.ledgerStores.set(id, (s = new MemoryLedgerStore(this.edOf(id))));
    return s;
  }

  async restart(id: string): Promise<void> {
    await this.crash(id);
    await this.start(id);
  }

  partition(groups: string[][]): void {
    this.network.partition(groups);
  }

  heal(): void {
    this.network.heal();
  }

  /** Moves simulated time forward by `ms`, firing timers in order and letting promise work settle after each. */
  async advance(ms: number): Promise<void> {
    const target = this.clock.now() + ms;
    for (;;) {
      const due = this.clock.nextDue();
      if (due === null || due > target) break;
      this.clock.runNext();
      await this.flush();
    }
    this.clock.advanceTo(target);
    await this.flush();
  }

  /** Advances until `pred` holds or `maxMs` passed; returns whether it held. */
  async until(pred: () => boolean, maxMs: number, stepMs = 100): Promise<boolean> {
    const end = this.clock.now() + maxMs;
    while (!pred()) {
      if (this.clock.now() >= end) return false;
      await this.advance(Math.min(stepMs, end - this.clock.now()));
    }
    return true;
  }

  traceDigest(): string {
    return this.network.traceDigest();
  }

  running(): SimPeer[] {
    return [...this.peers.values()].filter((p) => p.peer);
  }

  async stop(): Promise<void> {
    for (const id of this.peers.keys()) await this.crash(id);
    const stopped = this.orderer.stop();
    await this.flush();
    await stopped;
  }

  private mustGet(id: string): SimPeer {
    const sp = this.peers.get(id);
    if (!sp) throw new Error(`no peer ${id} in the simulation`);
    return sp;
  }

  /** Lets pending promise callbacks run (no real I/O happens in a simulation, so this is deterministic). */
  private flush(): Promise<void> {
    return new Promise((resolve) => setImmediate(resolve));
  }
}

/** The ordering service as one peer sees it: it serves a channel only to a peer whose org the channel's config
 * lists (Fabric's orderer checks the channel's Readers policy; murmur's bus authorization scopes each peer's user
 * to its channels). */
function readersOnly(feed: OrderingFeed, mspId: string, genesis: { name: string; genesis: Genesis }[]): OrderingFeed {
  const readers = new Map(genesis.map((g) => [g.name, new Set(g.genesis.config.orgs.map((o) => o.mspId))]));
  return {
    blocks: (channel, from) =>
      readers.get(channel)?.has(mspId) === false ? throwError(() => new FeedError('not-found', `${mspId} is not a reader of ${channel} (not in its config)`)) : feed.blocks(channel, from),
  };
}
