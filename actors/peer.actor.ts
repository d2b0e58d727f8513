// Peer assembly: binds the pure root machine (machines/peer.machine.ts) to the transport, signer, clock and
// randomness it is given. The same assembly runs in real time on NATS (runtime/peer.ts) and in simulated
// time on the in-memory network (runtime/sim/harness.ts).
import { createActor, fromCallback, fromPromise, type Actor, type EventObject, type InspectionEvent } from 'xstate';
import type { GossipConfig } from '../config/schema.ts';
import { type Subscription } from 'rxjs';
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
import type { ElectionMode, ElectionProfile, ElectionTimings, electionMachine } from '../machines/election.machine.ts';
import { encodeStatusRows, stateValueString, type MachineStates, type Role, type StatusRow } from './status.ts';
import { BlockStats, bindBlockStats } from './block-stats.ts';
import { channelMachine } from '../machines/channel.machine.ts';
import { FABRIC_DELIVER_TIMINGS, type DeliverTimings } from '../machines/deliver.logic.ts';
import { bindLeadership, deliverLogic, type DeliveredBlock } from './deliver.actor.ts';
import type { Ledger, LedgerStore } from '../runtime/ledger/ledger.ts';
import type { OrderingFeed } from '../runtime/orderer/feed.ts';
import { filter, type Observable } from 'rxjs';
import { ChannelDissemination, type DisseminationMode, type DisseminationTimings } from './dissemination.actor.ts';
import { CommitQueue } from './commit-queue.ts';
import type { TreeSettings } from '../machines/plumtree.logic.ts';

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

/** The timers the peer's actors use, from the loaded `peer.gossip` section (ms). */
export function gossipTimings(g: GossipConfig): PeerTimings {
  return {
    aliveTimeInterval: g.aliveTimeInterval,
    aliveExpirationTimeout: g.aliveExpirationTimeout,
    reconnectInterval: g.reconnectInterval,
    pullInterval: g.pullInterval,
    pullPeerNum: g.pullPeerNum,
    msgExpirationFactor: g.msgExpirationFactor,
    maxConnectionAttempts: g.maxConnectionAttempts,
    publishStateInfoInterval: g.publishStateInfoInterval,
    requestStateInfoInterval: g.requestStateInfoInterval,
    startupGracePeriod: g.election.startupGracePeriod,
    membershipSampleInterval: g.election.membershipSampleInterval,
    leaderAliveThreshold: g.election.leaderAliveThreshold,
    leaderElectionDuration: g.election.leaderElectionDuration,
    maxBlockCountToStore: g.maxBlockCountToStore,
    maxPropagationBurstLatency: g.maxPropagationBurstLatency,
    maxPropagationBurstSize: g.maxPropagationBurstSize,
    propagateIterations: g.propagateIterations,
    propagatePeerNum: g.propagatePeerNum,
    digestWaitTime: g.digestWaitTime,
    requestWaitTime: g.requestWaitTime,
    responseWaitTime: g.responseWaitTime,
    stateCheckInterval: g.state.checkInterval,
    stateResponseTimeout: g.state.responseTimeout,
    stateBatchSize: g.state.batchSize,
    stateBlockBufferSize: g.state.blockBufferSize,
    stateMaxRetries: g.state.maxRetries,
  };
}

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
  /** StateInfo and channel view per channel. */
  readonly stateInfo: ReadonlyMap<string, StateInfoTracker>;
  /** Election binding per channel (present while running). */
  readonly elections: ReadonlyMap<string, ElectionBinding>;
  /** Open ledger per channel (present once started). */
  readonly ledgers: ReadonlyMap<string, Ledger>;
  /** The one commit queue per channel every block source feeds (present once started). */
  readonly queues: ReadonlyMap<string, CommitQueue>;
  /** Blocks this peer committed from the orderer while leading (handed to dissemination). */
  readonly delivered$: Observable<DeliveredBlock>;
  /** Push, pull, state transfer and their counters per channel (present while running). */
  readonly dissemination: ReadonlyMap<string, ChannelDissemination>;
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
  const discovery = new Discovery({
    transport: d.transport,
    codec: d.codec,
    signer: d.signer,
    clock: d.clock,
    rng: d.rng.fork('discovery'),
    prefix: o.prefix,
    internalEndpoint: o.internalEndpoint ?? d.transport.endpoint,
    externalEndpoint: o.externalEndpoint,
    bootstrap: o.bootstrap,
    anchors: o.channels.flatMap((c) => c.genesis.config.anchorPeers),
    channels: o.channels.map((c) => c.name),
    incNum,
    timings: o.timings,
  });
  const stateInfo = new Map(
    o.channels.map(({ name, genesis }) => [
      name,
      new StateInfoTracker({
        channel: name,
        orgs: genesis.config.orgs.map((g) => g.mspId),
        transport: d.transport,
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
  const anchors = o.channels.flatMap((c) => c.genesis.config.anchorPeers.map((a) => a.endpoint));
  const targets = [...new Set([...o.bootstrap, ...anchors])].filter((e) => !ownEndpoints.has(e));
  const subs: Subscription[] = [];
  const elections = new Map<string, ElectionBinding>();
  const mode: ElectionMode = o.useLeaderElection ? 'dynamic' : o.orgLeader ? 'static-leader' : 'standby';
  let stopServe: (() => void) | null = null;
  const ledgers = new Map<string, Ledger>();
  const queues = new Map<string, CommitQueue>();
  const dissemination = new Map<string, ChannelDissemination>();
  /** Status `blocks` per channel (from the ledger's open to the peer's stop). */
  const blockStats = new Map<string, BlockStats>();
  const deliver = deliverLogic({ feed: d.feed, queue: (c) => queues.get(c), rng: d.rng.fork('deliver') });
  // A committed block moves the channel's head (status) and the height StateInfo advertises.
  const syncHeight = (channel: string) => {
    const l = ledgers.get(channel);
    if (!l) return;
    stateInfo.get(channel)?.setHeight(l.height());
    actor.system.get(channelActorId(channel))?.send({ type: 'ledger.committed', height: l.height(), tipHash: toHex(l.tipHash()) });
  };

  // The live actors' current state values (what the inspection stream reports), for status `machines`.
  type SnapshotOf = { getSnapshot(): { value?: unknown; status?: string; children?: Record<string, SnapshotOf | undefined> } } | undefined;
  const valueOf = (ref: SnapshotOf): string | null => {
    const s = ref?.getSnapshot();
    return s && s.status === 'active' ? stateValueString(s.value) : null;
  };
  const machinesOf = (channelRef: SnapshotOf, channel: string): MachineStates => {
    const children = channelRef?.getSnapshot().children ?? {};
    return {
      election: valueOf(children.election),
      stateTransfer: valueOf(dissemination.get(channel)?.stateTransfer?.actor),
      deliver: valueOf(children.deliver),
    };
  };

  const status = (): StatusRow[] => {
    const snap = actor.getSnapshot();
    const staticRole: Role = mode === 'standby' ? 'standby' : 'leader';
    return snap.context.channels.map(({ channel }) => {
      const channelRef = snap.children[channelActorId(channel)] as SnapshotOf;
      const child = channelRef?.getSnapshot() as { context?: { height: number; tipHash: string } } | undefined;
      const ch = child?.context;
      return {
        id: o.peerId,
        org: o.mspId,
        channel,
        pid: o.pid ?? null,
        role: elections.get(channel)?.role() ?? staticRole,
        leaderId: elections.get(channel) ? elections.get(channel)!.leaderId() : mode === 'static-leader' ? o.peerId : null,
        height: ch?.height ?? null,
        tipHash: ch?.tipHash ?? null,
        state: dissemination.get(channel)?.state() ?? (o.stateEnabled ? null : 'disabled'),
        members: discovery
          .aliveMembers()
          .map((m) => m.id)
          .sort(),
        natsConnected: d.transport.connected,
        opsUrl: o.opsUrl ?? null,
        counters: {
          blocksFromOrderer: deliver.stats(channel)?.blocksFromOrderer ?? 0,
          blocksByPush: dissemination.get(channel)?.counters().blocksByPush ?? null,
          blocksByPull: dissemination.get(channel)?.counters().blocksByPull ?? null,
          blocksByStateTransfer: dissemination.get(channel)?.counters().blocksByStateTransfer ?? null,
          duplicates: dissemination.get(channel)?.counters().duplicates ?? null,
          rejected: mergeCounts(mergeCounts(d.codec.rejections.snapshot(), ledgers.get(channel)?.rejections.snapshot() ?? {}), servedRefusals(d.transport.stats.dropped)),
        },
        blocks: blockStats.get(channel)?.figures() ?? null,
        machines: machinesOf(channelRef, channel),
      };
    });
  };

  const machine = peerMachine.provide({
    actors: {
      start: fromPromise(async () => {
        for (const { name } of o.channels) {
          d.transport.subscribe(subjects.org(o.mspId, name));
          d.transport.subscribe(subjects.channel(name));
        }
        d.transport.subscribe(subjects.discoveryOrg(o.mspId));
        d.transport.subscribe(subjects.discoveryExternal());
        subs.push(d.transport.status$.subscribe((e) => actor.send({ type: 'transport.status', connected: d.transport.connected || e.type === 'connected' || e.type === 'reconnected' })));
        // Connecting to NATS overlaps opening the ledgers: neither needs the other, and the peer is up sooner.
        const connecting = d.transport.start();
        try {
          for (const { genesis } of o.channels) {
            const l = await d.ledgers.open(genesis);
            ledgers.set(l.channel, l);
            const q = new CommitQueue(l, d.codec.rejections, { blockBufferSize: o.timings.stateBlockBufferSize, batchSize: o.timings.stateBatchSize });
            queues.set(l.channel, q);
            q.start();
            stateInfo.get(l.channel)?.setHeight(l.height());
            subs.push(l.commits$.subscribe(() => syncHeight(l.channel)));
            const bs = new BlockStats(l.height());
            blockStats.set(l.channel, bs);
            subs.push(
              bindBlockStats(bs, {
                channel: l.channel,
                mspId: o.mspId,
                ledger: l,
                transport: d.transport,
                clock: d.clock,
                fromOrderer$: deliver.delivered$.pipe(filter((b) => b.channel === l.channel)),
              }),
            );
          }
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
        for (const s of subs) s.unsubscribe();
        for (const q of queues.values()) q.stop();
        await d.transport.stop();
        await d.ledgers.close();
      }),
      session: sessionLogic(
        {
          transport: d.transport,
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
      elections: fromCallback<EventObject>(({ system }) => {
        const unbind: (() => void)[] = [];
        for (const { name } of o.channels) {
          const channelActor = system.get(channelActorId(name));
          const actor = channelActor?.getSnapshot().children.election as Actor<typeof electionMachine> | undefined;
          if (!actor) continue;
          const b = new ElectionBinding({
            channel: name,
            actor,
            transport: d.transport,
            codec: d.codec,
            signer: d.signer,
            prefix: o.prefix,
            stateInfo: stateInfo.get(name)!,
            discovery,
            incNum,
            peerId: o.peerId,
          });
          elections.set(name, b);
          b.start();
          const deliverRef = channelActor?.getSnapshot().children.deliver;
          if (deliverRef) unbind.push(bindLeadership(b.leading$, deliverRef, mode === 'static-leader' ? 'static' : 'elected', () => b.yield()));
        }
        return () => {
          for (const u of unbind.splice(0)) u();
          for (const b of elections.values()) b.stop();
          elections.clear();
        };
      }),
      channel: channelMachine.provide({ actors: { deliver: deliver.machine } }),
      stateInfo: fromCallback<EventObject>(() => {
        for (const t of stateInfo.values()) t.start();
        return () => {
          for (const t of stateInfo.values()) t.stop();
        };
      }),
      // Push, pull and state transfer per channel, over the ledger opened at start; the leader's orderer blocks
      // (deliver actor) are what it originates.
      dissemination: fromCallback<EventObject>(() => {
        for (const { name, genesis } of o.channels) {
          const ledger = ledgers.get(name);
          if (!ledger) continue;
          const c = new ChannelDissemination(
            {
              channel: name,
              orgs: genesis.config.orgs.map((g) => g.mspId),
              transport: d.transport,
              codec: d.codec,
              signer: d.signer,
              clock: d.clock,
              rng: d.rng.fork(`dissemination:${name}`),
              ledger,
              queue: queues.get(name)!,
              stateInfo: stateInfo.get(name)!,
              discovery,
              dependsOnOthers: mode !== 'static-leader',
              profile: o.profile ?? 'murmur',
            },
            o.timings,
            { stateEnabled: o.stateEnabled, mode: o.dissemination, tree: o.tree },
            deliver.delivered$.pipe(filter((b) => b.channel === name)),
          );
          dissemination.set(name, c);
          c.start();
        }
        return () => {
          for (const c of dissemination.values()) c.stop();
          dissemination.clear();
        };
      }),
    },
  });

  const input: PeerInput = {
    peerId: o.peerId,
    mspId: o.mspId,
    channels: o.channels.map(({ name, genesis }) => ({
      channel: name,
      height: 1,
      tipHash: toHex(blockHash(genesis.block)),
      election: {
        self: d.signer.identity.pkiIdHex,
        mode,
        profile: o.profile ?? 'murmur',
        timings: {
          startupGracePeriod: o.timings.startupGracePeriod,
          membershipSampleInterval: o.timings.membershipSampleInterval,
          leaderAliveThreshold: o.timings.leaderAliveThreshold,
          leaderElectionDuration: o.timings.leaderElectionDuration,
        },
        maxLeaderLag: o.maxLeaderLag ?? 10,
      },
      deliver: { channel: name, ...(o.deliveryclient ?? FABRIC_DELIVER_TIMINGS) },
    })),
  };
  const actor = createActor(machine, { input, clock: d.clock, inspect: o.inspect, systemId: `peer:${o.peerId}` });
  d.codec.learn(d.signer.identity);

  let stopped: Promise<void> | null = null;
  return {
    actor,
    sessions,
    discovery,
    stateInfo,
    elections,
    ledgers,
    queues,
    delivered$: deliver.delivered$,
    dissemination,
    start() {
      return new Promise<void>((resolve, reject) => {
        const sub = actor.subscribe((s) => {
          if (s.matches('running')) {
            sub.unsubscribe();
            for (const { name } of o.channels) syncHeight(name);
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
