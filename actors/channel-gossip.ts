// The gossip parts of one channel, built when its ledger opens: the gossip block store and intake rule over
// the channel's commit queue (block-intake.ts, commit-queue.ts), dissemination (block-pusher.ts, Fabric's
// infect-and-die push, or tree-disseminator.ts, murmur's Plumtree default), pull (block-puller.ts), serving state
// requests (state-server.ts) and, when state.enabled, the state-transfer binding (state-transfer-link.ts).
// No lifecycle of its own: the channel's port children (actors/channel.actor.ts) start and stop each part.
//   dissemination mode: `tree` or `push`; the fabric profile always pushes, and `propagateIterations: 0`
//   means pull only in both. Pull and state transfer run under both.
import { BlockIntake, type GossipChannelContext } from './block-intake.ts';
import { BlockPusher } from './block-pusher.ts';
import { TreeDisseminator, TREE_DEFAULTS } from './tree-disseminator.ts';
import type { TreeSettings } from '../machines/plumtree.logic.ts';
import type { StateWindowSettings } from '../machines/state-window.logic.ts';
import { BlockPuller } from './block-puller.ts';
import { StateServer } from './state-server.ts';
import { StateTransferLink } from './state-transfer-link.ts';

/** The `peer.gossip` keys dissemination and state transfer use (ms, counts), flat as in PeerTimings. */
export interface DisseminationTimings {
  maxBlockCountToStore: number;
  maxPropagationBurstLatency: number;
  maxPropagationBurstSize: number;
  propagateIterations: number;
  propagatePeerNum: number;
  pullInterval: number;
  pullPeerNum: number;
  digestWaitTime: number;
  requestWaitTime: number;
  responseWaitTime: number;
  stateCheckInterval: number;
  stateResponseTimeout: number;
  stateBatchSize: number;
  stateBlockBufferSize: number;
  stateMaxRetries: number;
}

export type DisseminationMode = 'tree' | 'push';

/** peer.gossip.murmur.limits: what one requester may ask of this peer per second. */
export interface ServeLimits {
  stateRequestsPerSecond: number;
  graftsPerSecond: number;
}

export interface DisseminationOptions {
  stateEnabled: boolean;
  limits?: ServeLimits;
  /** Default `tree`; the fabric profile always pushes. */
  mode?: DisseminationMode;
  /** Block pull rounds: `when-behind` (default, murmur) or `always` (Fabric's; the fabric profile implies it). */
  pull?: 'when-behind' | 'always';
  tree?: Partial<TreeSettings>;
  /** State transfer's window as the profile resolves it (stateWindowOf); default Fabric's (one request of
   * state.batchSize). Its batchSize is also the widest request served. */
  stateWindow?: StateWindowSettings;
}

export interface DisseminationCounters {
  blocksByPush: number;
  blocksByPull: number;
  blocksByStateTransfer: number;
  duplicates: number;
}

export class ChannelGossip {
  readonly intake: BlockIntake;
  /** The pusher (push mode) or the tree (tree mode): exactly one is set. */
  readonly push: BlockPusher | null;
  readonly tree: TreeDisseminator | null;
  readonly mode: DisseminationMode;
  readonly pull: BlockPuller;
  readonly server: StateServer;
  /** Null when state.enabled is false (requests are still served). */
  readonly stateTransfer: StateTransferLink | null;

  constructor(
    readonly ctx: GossipChannelContext,
    t: DisseminationTimings,
    opts: DisseminationOptions,
  ) {
    const stateEnabled = opts.stateEnabled;
    // propagateIterations 0 is Fabric's "push off" (pull only): it turns the tree off too.
    this.mode = ctx.profile === 'fabric' || t.propagateIterations === 0 ? 'push' : (opts.mode ?? 'tree');
    this.intake = new BlockIntake(ctx, {
      maxBlockCountToStore: t.maxBlockCountToStore,
      pullInterval: t.pullInterval,
      stateEnabled,
    });
    this.push = this.mode === 'push' ? new BlockPusher(this.intake, t) : null;
    this.tree =
      this.mode === 'tree'
        ? new TreeDisseminator(this.intake, {
            ...TREE_DEFAULTS,
            ...opts.tree,
            maxPropagationBurstLatency: t.maxPropagationBurstLatency,
            maxPropagationBurstSize: t.maxPropagationBurstSize,
            blockBufferSize: t.stateBlockBufferSize,
            ...(opts.limits ? { graftsPerSecond: opts.limits.graftsPerSecond } : {}),
          })
        : null;
    this.pull = new BlockPuller(this.intake, { ...t, blockBufferSize: t.stateBlockBufferSize, onlyWhenBehind: ctx.profile !== 'fabric' && opts.pull !== 'always' });
    this.server = new StateServer(this.intake, { batchSize: opts.stateWindow?.batchSize ?? t.stateBatchSize, ...(opts.limits ? { requestsPerSecond: opts.limits.stateRequestsPerSecond } : {}) });
    this.stateTransfer = stateEnabled
      ? new StateTransferLink(this.intake, {
          checkInterval: t.stateCheckInterval,
          responseTimeout: t.stateResponseTimeout,
          batchSize: t.stateBatchSize,
          maxRetries: t.stateMaxRetries,
          maxPropagationBurstLatency: t.maxPropagationBurstLatency,
        })
      : null;
  }

  /** What disseminates this peer's own blocks (the leader's orderer blocks): the tree or the pusher. */
  get disseminator(): BlockPusher | TreeDisseminator {
    return (this.tree ?? this.push)!;
  }

  counters(): DisseminationCounters {
    const c = this.ctx.queue.committedBy;
    return { blocksByPush: c.push, blocksByPull: c.pull, blocksByStateTransfer: c.state, duplicates: this.intake.duplicates };
  }
}
