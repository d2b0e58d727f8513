// Simulation harness core: N orgs x M peers, each the real peer actor tree, on the in-memory network with
// one simulated clock and one seed. Everything random (keys, start jitter, nonces, link latency and loss)
// is drawn from that seed, so a run replays exactly; `traceDigest()` fingerprints every delivery.
// Helpers advance time, crash and restart a peer (its durable state is kept), and partition / heal.
import { SimClock } from '../clock.ts';
import { rngFromSeed, type Rng } from '../rng.ts';
import { MemoryNetwork, type LinkConfig } from '../transport/memory.transport.ts';
import { generateMaterial, parseOrgs, channelNames, signerOf, type NetworkMaterial, type PeerMaterial } from '../crypto/material.ts';
import { nodeEd25519, type Ed25519 } from '../crypto/ed25519.ts';
import { TrustStore } from '../crypto/msp.ts';
import { WireCodec } from '../wire/codec.ts';
import { openGenesis, type Genesis } from '../ledger/channel-config.ts';
import { createPeer, gossipTimings, type Peer, type PeerOptions, type PeerTimings } from '../../actors/peer.actor.ts';
import { loadPeerConfig } from '../../config/load.ts';
import { simEd25519 } from './sim-signer.ts';

/** Simulated time starts at a fixed, realistic epoch so certificate validity checks are meaningful. */
export const SIM_EPOCH_MS = Date.UTC(2026, 0, 1);

export interface HarnessOptions {
  orgs: number | string[];
  peers: number;
  channels?: number;
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
}

/** Fabric's timings as the config schema defines them. */
export const DEFAULT_TIMINGS: PeerTimings = gossipTimings(loadPeerConfig({ env: {} }).config.peer.gossip);

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
  private readonly trust: TrustStore;
  /** Durable per-peer state that survives a crash: the last incarnation number. */
  private readonly lastInc = new Map<string, number>();

  private constructor(readonly opts: HarnessOptions) {
    this.rng = rngFromSeed(opts.seed);
    this.ed = opts.signer === 'sim' ? simEd25519 : nodeEd25519();
    const keys = this.rng.fork('keys');
    this.material = generateMaterial({
      orgs: typeof opts.orgs === 'number' ? parseOrgs(opts.orgs) : opts.orgs,
      peers: opts.peers,
      channels: channelNames(opts.channels ?? 1),
      now: this.clock.now(),
      random: (n) => keys.bytes(n),
      ed: this.ed,
    });
    this.network = new MemoryNetwork({ clock: this.clock, rng: this.rng.fork('network'), ...opts.link });
    this.genesis = this.material.channels.map((c) => ({ name: c.name, genesis: openGenesis(c.genesis, this.ed) }));
    this.trust = new TrustStore(this.ed);
    for (const o of this.material.orgs) this.trust.addOrg(o.mspId, o.ca.cert.bytes);
    for (const org of this.material.orgs)
      for (const p of org.peers) {
        const identity = signerOf(p, this.ed).identity;
        this.peers.set(p.id, { id: p.id, pkiId: identity.pkiId, pkiIdHex: identity.pkiIdHex, org: org.name, mspId: org.mspId, material: p, codec: this.codec(), peer: null });
      }
  }

  /** Builds the network and starts every peer at a seeded random offset. */
  static async create(opts: HarnessOptions): Promise<Harness> {
    const h = new Harness(opts);
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

  private codec(): WireCodec {
    return new WireCodec({ trust: this.trust, ed: this.ed, now: () => this.clock.now(), maxBytes: this.network.maxPayload });
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
        peerId: id,
        mspId: sp.mspId,
        prefix: this.network.subjects.prefix,
        channels: this.genesis,
        bootstrap: org.peers.filter((p) => p.id !== id).slice(0, 1).map((p) => p.id),
        externalEndpoint,
        incNum,
        timings: { ...DEFAULT_TIMINGS, ...this.opts.timings },
        useLeaderElection: true,
        orgLeader: false,
        stateEnabled: true,
        dialTimeoutMs: 3000,
        reconnectIntervalMs: 25_000,
        maxConnectionAttempts: 120,
        ...this.opts.peerOptions,
      },
      { transport, codec: sp.codec, signer: signerOf(sp.material, this.ed), clock: this.clock, rng: this.rng.fork(`peer:${id}:${this.clock.now()}`) },
    );
    sp.peer = peer;
    const started = peer.start();
    await this.flush();
    await started;
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
