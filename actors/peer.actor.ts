// Peer assembly: binds the pure root machine (machines/peer.machine.ts) to the transport, signer, clock and
// randomness it is given. The same assembly runs in real time on NATS (runtime/peer.ts) and in simulated
// time on the in-memory network (runtime/sim/harness.ts).
//   peer (machines/peer.machine.ts)
//     start / stop          subscriptions, NATS, the channels' ledgers and parts (channel-parts.ts)
//     session, discovery, stateInfo                     peer-level concerns, beside the channels
//     channel:<name> (machines/channel.machine.ts, actors/channel.actor.ts)
//       election, deliver (+ its feed), stateTransfer  machines
//       commit, electionLink, dissemination, pull, stateServer, stateTransferLink   ports
// Status rows come from actors/status-reporter.ts over narrow getters.
import { createActor, fromCallback, fromPromise, type Actor, type EventObject, type InspectionEvent } from 'xstate';
import { type Subscription, type Observable } from 'rxjs';
import { peerMachine, channelActorId, type PeerInput } from '../machines/peer.machine.ts';
import type { Transport } from '../runtime/transport/transport.ts';
import { subjects as subjectsOf } from '../runtime/transport/subjects.ts';
import type { Clock } from '../runtime/clock.ts';
import type { Rng } from '../runtime/rng.ts';
import type { LocalSigner } from '../runtime/crypto/signer.ts';
import type { WireCodec } from '../runtime/wire/codec.ts';
import type { Genesis } from '../runtime/ledger/channel-config.ts';
import { blockHash } from '../runtime/ledger/block.ts';
import { toHex } from '../runtime/util/bytes.ts';
import { sessionLogic, SessionTable } from './session.actor.ts';
import { Discovery, discoveryLogic, type DiscoveryTimings } from './discovery.actor.ts';
import { StateInfoTracker, type StateInfoTimings } from './stateinfo.actor.ts';
import { ElectionBinding } from './election.actor.ts';
import type { ElectionMode, ElectionProfile, ElectionTimings } from '../machines/election.machine.ts';
import { encodeStatusRows, type StatusRow } from './status.ts';
import { statusRows } from './status-reporter.ts';
import { FABRIC_DELIVER_TIMINGS, type DeliverTimings } from '../machines/deliver.logic.ts';
import { deliverLogic, type DeliveredBlock } from './deliver.actor.ts';
import type { Ledger, LedgerStore } from '../runtime/ledger/ledger.ts';
import type { OrderingFeed } from '../runtime/orderer/feed.ts';
import type { ChannelGossip, DisseminationMode, DisseminationTimings, ServeLimits } from './channel-gossip.ts';
import type { CommitQueue } from './commit-queue.ts';
import type { TreeSettings } from '../machines/plumtree.logic.ts';
import { channelActorLogic } from './channel.actor.ts';
import { InboundRouter } from './inbound-router.ts';
import { channelParts, type ChannelParts } from './channel-parts.ts';

export interface PeerOptions {
  peerId: string;
  mspId: string;
  prefix: string;
  channels: { name: string; genesis: Genesis }[];
  bootstrap: string[];
  /** Inbox token other peers of the org use (default: the transport's endpoint). */
  internalEndpoint?: string;
  /** '' = invisible outside the org. */
  externalEndpoint: string;
  /** Incarnation number, strictly greater at every start (persisted by the caller); default the clock. */
  incNum?: number;
  timings: PeerTimings;
  useLeaderElection: boolean;
  orgLeader: boolean;
  /** `murmur` (default) or Fabric's stock behaviour. */
  profile?: ElectionProfile;
  /** murmur profile: blocks behind the org's best height beyond which a peer neither proposes nor keeps leading. */
  maxLeaderLag?: number;
  stateEnabled: boolean;
  /** peer.gossip.murmur.dissemination: `tree` (default) or `push`; the fabric profile always pushes. */
  dissemination?: DisseminationMode;
  /** peer.gossip.murmur.tree.* (defaults: TREE_DEFAULTS in tree.actor.ts). */
  tree?: Partial<TreeSettings>;
  /** peer.gossip.murmur.limits (defaults: 200 state requests and 100 grafts per requester per second). */
  limits?: ServeLimits;
  /** peer.deliveryclient timings (ms); default Fabric's. */
  deliveryclient?: DeliverTimings;
  dialTimeoutMs: number;
  reconnectIntervalMs: number;
  maxConnectionAttempts: number;
  pid?: number | null;
  opsUrl?: string | null;
  inspect?: (e: InspectionEvent) => void;
}

export type PeerTimings = DiscoveryTimings & StateInfoTimings & ElectionTimings & DisseminationTimings;

export interface PeerDeps {
  transport: Transport;
  codec: WireCodec;
  signer: LocalSigner;
  clock: Clock;
  rng: Rng;
  /** Where the channels' ledgers live (lmdb under peer.fileSystemPath, or memory); closed on stop. */
  ledgers: LedgerStore;
  /** The ordering service's blocks (JetStream, or the simulator's). */
  feed: OrderingFeed;
}

export interface Peer {
  readonly actor: Actor<typeof peerMachine>;
  readonly sessions: SessionTable;
  readonly discovery: Discovery;
  /** The one inbound router (its `unhandled` counts by kind). */
  readonly inbound: InboundRouter;
  /** StateInfo and channel view per channel. */
  readonly stateInfo: ReadonlyMap<string, StateInfoTracker>;
  /** Each channel's parts (ledger, commit queue, gossip, election binding), from start to stop. */
  readonly channels: ReadonlyMap<string, ChannelParts>;
  /** Views of `channels`: the election binding (while running), open ledger, commit queue, gossip parts. */
  readonly elections: ReadonlyMap<string, ElectionBinding>;
  readonly ledgers: ReadonlyMap<string, Ledger>;
  readonly queues: ReadonlyMap<string, CommitQueue>;
  readonly gossip: ReadonlyMap<string, ChannelGossip>;
  /** Blocks this peer committed from the orderer while leading (handed to dissemination). */
  readonly delivered$: Observable<DeliveredBlock>;
  /** Resolves once running; rejects if starting failed. */
  start(): Promise<void>;
  /** Stops every child and the transport; idempotent. */
  stop(): Promise<void>;
  status(): StatusRow[];
}

export function createPeer(o: PeerOptions, d: PeerDeps): Peer {
  const subjects = subjectsOf(o.prefix);
  const sessions = new SessionTable();
  // Incarnation: given by the caller (persisted so it never goes backwards), else the clock at start.
  const incNum = o.incNum ?? d.clock.now();
  const anchors = o.channels.flatMap((c) => c.genesis.config.anchorPeers);
  // One inbound router: every concern registers its (kind, channel); it subscribes to the transport at start.
  const inbound = new InboundRouter(d.transport.inbound$);
  const discovery = new Discovery({
    transport: d.transport,
    inbound,
    codec: d.codec,
    signer: d.signer,
    clock: d.clock,
    rng: d.rng.fork('discovery'),
    prefix: o.prefix,
    internalEndpoint: o.internalEndpoint ?? d.transport.endpoint,
    externalEndpoint: o.externalEndpoint,
    bootstrap: o.bootstrap,
    anchors,
    channels: o.channels.map((c) => c.name),
    incNum,
    timings: o.timings,
  });
  const orgsOf = (g: Genesis) => g.config.orgs.map((x) => x.mspId);
  const stateInfo = new Map(
    o.channels.map(({ name, genesis }) => [
      name,
      new StateInfoTracker({
        channel: name,
        orgs: orgsOf(genesis),
        transport: d.transport,
        inbound,
        codec: d.codec,
        signer: d.signer,
        clock: d.clock,
        rng: d.rng.fork(`stateinfo:${name}`),
        prefix: o.prefix,
        discovery,
        externalEndpoint: o.externalEndpoint,
        incNum,
        height: 1,
        timings: o.timings,
      }),
    ]),
  );
  const ownEndpoints = new Set([d.transport.endpoint, o.peerId]);
  const targets = [...new Set([...o.bootstrap, ...anchors.map((a) => a.endpoint)])].filter((e) => !ownEndpoints.has(e));
  const mode: ElectionMode = o.useLeaderElection ? 'dynamic' : o.orgLeader ? 'static-leader' : 'standby';
  const profile = o.profile ?? 'murmur';
  const subs: Subscription[] = [];
  let stopServe: (() => void) | null = null;
  const channels = new Map<string, ChannelParts>();
  const deliver = deliverLogic({ feed: d.feed, queue: (c) => channels.get(c)?.queue, rng: d.rng.fork('deliver') });
  const view = <T>(pick: (p: ChannelParts) => T | null) => new Map([...channels].flatMap(([name, p]) => (pick(p) === null ? [] : [[name, pick(p)!] as [string, T]])));

  // Opens every channel's ledger and builds its parts while NATS connects (neither needs the other).
  const open = async () => {
    for (const { genesis } of o.channels) {
      const ledger = await d.ledgers.open(genesis);
      const name = ledger.channel;
      const ctx = { channel: name, orgs: orgsOf(genesis), transport: d.transport, inbound, codec: d.codec, signer: d.signer, clock: d.clock, rng: d.rng.fork(`dissemination:${name}`), stateInfo: stateInfo.get(name)!, discovery, dependsOnOthers: mode !== 'static-leader', profile };
      channels.set(name, channelParts(ledger, d.codec.rejections, ctx, { ...o.timings, gossip: { stateEnabled: o.stateEnabled, mode: o.dissemination, tree: o.tree, ...(o.limits ? { limits: o.limits } : {}) } }));
    }
  };

  const status = (): StatusRow[] =>
    statusRows({
      peerId: o.peerId,
      mspId: o.mspId,
      pid: o.pid ?? null,
      opsUrl: o.opsUrl ?? null,
      staticRole: mode === 'standby' ? 'standby' : 'leader',
      staticLeaderId: mode === 'static-leader' ? o.peerId : null,
      stateEnabled: o.stateEnabled,
      channels: () => actor.getSnapshot().context.channels.map((c) => c.channel),
      channelActor: (ch) => actor.getSnapshot().children[channelActorId(ch)] as never,
      parts: (ch) => channels.get(ch),
      blocksFromOrderer: (ch) => deliver.stats(ch)?.blocksFromOrderer ?? 0,
      members: () => discovery.aliveMembers().map((m) => m.id),
      natsConnected: () => d.transport.connected,
      rejected: (ch) => mergeCounts(mergeCounts(d.codec.rejections.snapshot(), channels.get(ch)?.ledger.rejections.snapshot() ?? {}), servedRefusals(d.transport.stats.dropped)),
    });

  const machine = peerMachine.provide({
    actors: {
      start: fromPromise(async () => {
        for (const { name } of o.channels) {
          d.transport.subscribe(subjects.org(o.mspId, name));
          d.transport.subscribe(subjects.channel(name));
        }
        d.transport.subscribe(subjects.discoveryOrg(o.mspId));
        d.transport.subscribe(subjects.discoveryExternal());
        inbound.start();
        subs.push(d.transport.status$.subscribe((e) => actor.send({ type: 'transport.status', connected: d.transport.connected || e.type === 'connected' || e.type === 'reconnected' })));
        const connecting = d.transport.start();
        try {
          await open();
        } catch (e) {
          await connecting.catch(() => undefined);
          await d.transport.stop();
          throw e;
        }
        await connecting;
        d.codec.maxBytes = Math.min(d.codec.maxBytes, d.transport.maxPayload);
        stopServe = d.transport.serve(subjects.status(), () => encodeStatusRows(status()));
      }),
      stop: fromPromise(async () => {
        stopServe?.();
        inbound.stop();
        for (const s of subs) s.unsubscribe();
        await d.transport.stop();
        await d.ledgers.close();
      }),
      session: sessionLogic(
        {
          transport: d.transport,
          inbound,
          signer: d.signer,
          clock: d.clock,
          rng: d.rng.fork('session'),
          incNum,
          targets,
          dialTimeoutMs: o.dialTimeoutMs,
          reconnectIntervalMs: o.reconnectIntervalMs,
          maxConnectionAttempts: o.maxConnectionAttempts,
        },
        sessions,
      ),
      discovery: discoveryLogic(discovery),
      stateInfo: fromCallback<EventObject>(() => {
        for (const t of stateInfo.values()) t.start();
        return () => {
          for (const t of stateInfo.values()) t.stop();
        };
      }),
      channel: channelActorLogic({
        parts: (ch) => channels.get(ch),
        deliver: deliver.machine,
        delivered$: deliver.delivered$,
        electionBinding: (channel, election) =>
          new ElectionBinding({ channel, actor: election, transport: d.transport, inbound, codec: d.codec, signer: d.signer, prefix: o.prefix, stateInfo: stateInfo.get(channel)!, discovery, incNum, peerId: o.peerId }),
      }),
    },
  });

  const input = peerInput(o, { self: d.signer.identity.pkiIdHex, mode, profile, rng: d.rng });
  const actor = createActor(machine, { input, clock: d.clock, inspect: o.inspect, systemId: `peer:${o.peerId}` });
  d.codec.learn(d.signer.identity);

  let stopped: Promise<void> | null = null;
  return {
    actor,
    sessions,
    discovery,
    inbound,
    stateInfo,
    channels,
    get elections() {
      return view((p) => p.election);
    },
    get ledgers() {
      return view((p) => p.ledger);
    },
    get queues() {
      return view((p) => p.queue);
    },
    get gossip() {
      return view((p) => p.gossip);
    },
    delivered$: deliver.delivered$,
    start() {
      return new Promise<void>((resolve, reject) => {
        const sub = actor.subscribe((s) => {
          if (s.matches('running')) {
            sub.unsubscribe();
            resolve();
          } else if (s.matches('failed')) {
            sub.unsubscribe();
            reject(new Error(`peer ${o.peerId} failed to start: ${s.context.error}`));
          }
        });
        actor.start();
      });
    },
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        if (actor.getSnapshot().status !== 'active') return resolve();
        actor.subscribe({ complete: () => resolve(), next: (s) => void (s.status === 'done' && resolve()) });
        actor.send({ type: 'peer.stop' });
      }).then(() => void actor.stop());
      return stopped;
    },
    status,
  };
}

/** Requests the transport refused to answer (a reply subject outside _INBOX): hostile input, so rejections. */
function servedRefusals(dropped: Record<string, number>): Record<string, number> {
  const n = dropped['reply-not-inbox'];
  return n ? { 'reply-not-inbox': n } : {};
}

function mergeCounts(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** The root machine's input: each channel's head (genesis), election, deliver and state-transfer settings. */
function peerInput(o: PeerOptions, c: { self: string; mode: ElectionMode; profile: ElectionProfile; rng: Rng }): PeerInput {
  const t = o.timings;
  return {
    peerId: o.peerId,
    mspId: o.mspId,
    channels: o.channels.map(({ name, genesis }) => ({
      channel: name,
      height: 1,
      tipHash: toHex(blockHash(genesis.block)),
      ports: true,
      election: {
        self: c.self,
        mode: c.mode,
        profile: c.profile,
        timings: { startupGracePeriod: t.startupGracePeriod, membershipSampleInterval: t.membershipSampleInterval, leaderAliveThreshold: t.leaderAliveThreshold, leaderElectionDuration: t.leaderElectionDuration },
        maxLeaderLag: o.maxLeaderLag ?? 10,
      },
      deliver: { channel: name, ...(o.deliveryclient ?? FABRIC_DELIVER_TIMINGS) },
      ...(o.stateEnabled
        ? {
            stateTransfer: {
              profile: c.profile,
              height: 1,
              batchSize: t.stateBatchSize,
              maxRetries: t.stateMaxRetries,
              timings: { checkInterval: t.stateCheckInterval, responseTimeout: t.stateResponseTimeout },
              seed: c.rng.fork(`stateTransfer:${name}`).int(2 ** 32),
            },
          }
        : {}),
    })),
  };
}
