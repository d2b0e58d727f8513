// What a peer is given (options, dependencies) and what it offers (the Peer facade). The options are built
// from core.yaml by runtime/peer-options.ts, or directly by the simulator harness and the benchmarks.
import type { RevocationApplied } from '../runtime/crypto/msp.ts';
import type { Actor, InspectionEvent } from 'xstate';
import type { Observable } from 'rxjs';
import type { peerMachine } from '../machines/peer.machine.ts';
import type { Transport } from '../runtime/transport/transport.ts';
import type { Clock } from '../runtime/clock.ts';
import type { Rng } from '../runtime/rng.ts';
import type { LocalSigner } from '../runtime/crypto/signer.ts';
import type { WireCodec } from '../runtime/wire/codec.ts';
import type { Genesis } from '../runtime/ledger/channel-config.ts';
import type { Ledger, LedgerStore } from '../runtime/ledger/ledger.ts';
import type { OrderingFeed } from '../runtime/orderer/feed.ts';
import type { ElectionProfile, ElectionTimings } from '../machines/election.machine.ts';
import type { DeliverTimings } from '../machines/deliver.logic.ts';
import type { TreeSettings } from '../machines/plumtree.logic.ts';
import type { StateWindowSettings } from '../machines/state-window.logic.ts';
import type { SessionTable } from './session.actor.ts';
import type { Discovery, DiscoveryTimings } from './discovery.actor.ts';
import type { StateInfoTracker, StateInfoTimings } from './stateinfo-tracker.ts';
import type { ElectionBinding } from './election-binding.ts';
import type { DeliveredBlock } from './deliver.actor.ts';
import type { ChannelGossip, DisseminationMode, DisseminationTimings, ServeLimits } from './channel-gossip.ts';
import type { CommitQueue } from './commit-queue.ts';
import type { ChannelParts } from './channel-parts.ts';
import type { InboundRouter } from './inbound-router.ts';
import type { StatusRow } from './status-row.ts';

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
  /** peer.gossip.murmur.pull: `when-behind` (default) or `always`; the fabric profile always pulls. */
  pull?: 'when-behind' | 'always';
  /** peer.gossip.murmur.membership: `swim` (default) or `broadcast`; the fabric profile gossips alive messages. */
  membership?: 'swim' | 'broadcast';
  /** peer.gossip.murmur.tree.* (defaults: TREE_DEFAULTS in tree-disseminator.ts). */
  tree?: Partial<TreeSettings>;
  /** peer.gossip.murmur.limits (defaults: 200 state requests and 100 grafts per requester per second). */
  limits?: ServeLimits;
  /** peer.gossip.murmur.state.* (murmur profile; defaults STATE_WINDOW_DEFAULTS in machines/state-window.logic.ts). */
  stateWindow?: StateWindowSettings;
  /** peer.deliveryclient timings (ms); default Fabric's. */
  deliveryclient?: DeliverTimings;
  /** Membership knobs Fabric's discovery tests turn (not configuration keys): how many peers each alive message
   * is gossiped to (fabric profile; default propagatePeerNum, 0 = alive messages are not gossiped at all), and
   * how many peers a membership sync asks, how often. */
  discovery?: { aliveFanout?: number; syncPeerNum?: number; syncPeriod?: number };
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
  /** Leaves a joined channel at run time (Fabric's LeaveChannel): its StateInfo tells the others, its actor
   * and parts stop, its subjects are dropped; its ledger stays on disk. False if the channel is not joined. */
  leaveChannel(channel: string): boolean;
  /** Takes an org's revocation list (signed by its CA, newer than the one held; runtime/crypto/revocation.ts):
   * messages of the certificates it names are refused from now on and their members purged at once. */
  applyRevocationList(bytes: Uint8Array): RevocationApplied & { purged?: string[] };
  status(): StatusRow[];
}
