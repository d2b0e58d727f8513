// What one channel of a peer is made of once its ledger is open: the ledger, its one commit queue, the gossip
// parts over them (channel-gossip.ts), the status block figures, and (while the channel runs) its election
// binding. Built by the peer's start actor (actors/peer.actor.ts), driven by the channel's port children
// (actors/channel.actor.ts), read by the status reporter (actors/status-reporter.ts).
import type { Clock } from '../runtime/clock.ts';
import type { Ledger } from '../runtime/ledger/ledger.ts';
import type { RejectionCounter } from '../runtime/wire/rejections.ts';
import { CommitQueue } from './commit-queue.ts';
import { BlockStats } from './block-stats.ts';
import { ChannelGossip, type DisseminationOptions, type DisseminationTimings } from './channel-gossip.ts';
import type { GossipChannelContext } from './block-intake.ts';
import type { StateInfoTracker } from './stateinfo-tracker.ts';
import type { ElectionBinding } from './election-binding.ts';

export interface ChannelParts {
  readonly channel: string;
  readonly ledger: Ledger;
  readonly queue: CommitQueue;
  readonly gossip: ChannelGossip;
  readonly stats: BlockStats;
  readonly stateInfo: StateInfoTracker;
  readonly clock: Clock;
  /** Set by the electionLink port while the channel runs. */
  election: ElectionBinding | null;
}

export interface ChannelPartsSettings extends DisseminationTimings {
  gossip: DisseminationOptions;
}

/** The parts of a channel over its open ledger; nothing runs until the channel's ports start. */
export function channelParts(ledger: Ledger, rejections: RejectionCounter, ctx: Omit<GossipChannelContext, 'ledger' | 'queue' | 'stateInfo'> & { stateInfo: StateInfoTracker }, s: ChannelPartsSettings): ChannelParts {
  // The fence leaves room for every state block that may be in flight (the window's requests × their width).
  const w = s.gossip.stateWindow;
  const inFlightBlocks = w ? w.inFlight * w.batchSize : s.stateBatchSize;
  const queue = new CommitQueue(ledger, rejections, { blockBufferSize: s.stateBlockBufferSize, batchSize: inFlightBlocks, clock: ctx.clock });
  ctx.stateInfo.setHeight(ledger.height());
  return {
    channel: ledger.channel,
    ledger,
    queue,
    gossip: new ChannelGossip({ ...ctx, ledger, queue }, s, s.gossip),
    stats: new BlockStats(ledger.height()),
    stateInfo: ctx.stateInfo,
    clock: ctx.clock,
    election: null,
  };
}
