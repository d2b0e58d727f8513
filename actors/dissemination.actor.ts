// Block dissemination and state transfer of one channel, assembled: the gossip block store and intake rule
// over the channel's commit queue (block-intake.ts, commit-queue.ts), push (push.actor.ts), pull (pull.actor.ts), serving state requests
// (state-server.actor.ts) and, when state.enabled, the anti-entropy machine (state-transfer.actor.ts).
//   blocks the leader's deliver actor committed from the orderer → push.originate (signed once, pushed)
//   every ledger commit → blocks the window holds beyond the buffer's reach are offered again
//   a gossiped block the ledger refused → its copy leaves the block store
//   murmur profile: a gap in pushed blocks that outlives gapGrace (25 × maxPropagationBurstLatency, at least
//     100 ms) starts state transfer at once, from the originator of the block past the gap
//   dissemination mode: `tree` (murmur's default: Plumtree, tree.actor.ts) or `push` (Fabric's infect-and-die
//     push, push.actor.ts; what the fabric profile always uses, and `propagateIterations: 0` means pull only in
//     both). Pull and state transfer run under both.
import type { Observable, Subscription } from 'rxjs';
import { TimerGroup } from '../runtime/timers.ts';
import type { VerifiedBlock } from '../runtime/ledger/verified-block.ts';
import { BlockIntake, type GossipChannelContext } from './block-intake.ts';
import { BlockPusher } from './push.actor.ts';
import { TreeDisseminator, TREE_DEFAULTS } from './tree.actor.ts';
import type { TreeSettings } from '../machines/plumtree.logic.ts';
import { BlockPuller } from './pull.actor.ts';
import { StateServer } from './state-server.actor.ts';
import { StateTransfer } from './state-transfer.actor.ts';

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

export interface DisseminationOptions {
  stateEnabled: boolean;
  /** Default `tree`; the fabric profile always pushes. */
  mode?: DisseminationMode;
  tree?: Partial<TreeSettings>;
}

export interface DisseminationCounters {
  blocksByPush: number;
  blocksByPull: number;
  blocksByStateTransfer: number;
  duplicates: number;
}

export class ChannelDissemination {
  readonly intake: BlockIntake;
  /** The pusher (push mode) or the tree (tree mode): exactly one is set. */
  readonly push: BlockPusher | null;
  readonly tree: TreeDisseminator | null;
  readonly mode: DisseminationMode;
  readonly pull: BlockPuller;
  readonly server: StateServer;
  /** Null when state.enabled is false (requests are still served). */
  readonly stateTransfer: StateTransfer | null;
  private readonly subs: Subscription[] = [];
  private timers: TimerGroup;
  private gap: { from: string; seq: number } | null = null;
  private readonly gapGrace: number;

  constructor(
    readonly ctx: GossipChannelContext,
    t: DisseminationTimings,
    opts: DisseminationOptions,
    private readonly fromOrderer$: Observable<{ block: VerifiedBlock; bytes: Uint8Array }>,
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
          })
        : null;
    this.pull = new BlockPuller(this.intake, { ...t, blockBufferSize: t.stateBlockBufferSize });
    this.server = new StateServer(this.intake, { batchSize: t.stateBatchSize, checkInterval: t.stateCheckInterval });
    this.stateTransfer = stateEnabled
      ? new StateTransfer(this.intake, {
          checkInterval: t.stateCheckInterval,
          responseTimeout: t.stateResponseTimeout,
          batchSize: t.stateBatchSize,
          maxRetries: t.stateMaxRetries,
        })
      : null;
    this.timers = new TimerGroup(ctx.clock);
    this.gapGrace = Math.max(100, 25 * t.maxPropagationBurstLatency);
    if (this.stateTransfer && ctx.profile !== 'fabric') this.intake.onAhead = (from, seq) => this.noteAhead(from, seq);
  }

  /** One pending gap check at a time, for the furthest block seen ahead. */
  private noteAhead(from: string, seq: number): void {
    if (this.gap && this.gap.seq >= seq) return;
    const armed = this.gap !== null;
    this.gap = { from, seq };
    if (armed) return;
    this.timers.later(this.gapGrace, () => {
      const g = this.gap;
      this.gap = null;
      if (g && this.ctx.ledger.height() <= g.seq) this.stateTransfer?.ahead(g.from, g.seq + 1);
    });
  }

  start(): void {
    this.timers = new TimerGroup(this.ctx.clock);
    this.push?.start();
    this.tree?.start();
    this.pull.start();
    this.server.start();
    this.stateTransfer?.start();
    this.subs.push(
      this.fromOrderer$.subscribe(({ block, bytes }) => (this.tree ?? this.push)!.originate(block, bytes)),
      this.ctx.ledger.commits$.subscribe(() => this.intake.reoffer()),
      this.ctx.queue.refused$.subscribe((r) => r.source !== 'orderer' && this.intake.forget(r.number)),
    );
  }

  stop(): void {
    for (const s of this.subs) s.unsubscribe();
    this.subs.length = 0;
    this.timers.clear();
    this.gap = null;
    this.stateTransfer?.stop();
    this.server.stop();
    this.pull.stop();
    this.push?.stop();
    this.tree?.stop();
  }

  state(): 'syncing' | 'synced' | 'disabled' {
    return this.stateTransfer ? this.stateTransfer.state() : 'disabled';
  }

  counters(): DisseminationCounters {
    const c = this.ctx.queue.committedBy;
    return { blocksByPush: c.push, blocksByPull: c.pull, blocksByStateTransfer: c.state, duplicates: this.intake.duplicates };
  }
}
