// Binds the deliver machine (machines/deliver.machine.ts) to the ordering feed and the channel's commit queue.
//   feed actor (one per session): wait until earlier commits are done → subscribe from ledger.height()
//     ready → feed.ready;  the chain rule on a feed that may hold foreign entries (anyone can publish to the
//     block subject of a server without authorization): skipped entries → counted feed-<reason>;
//     block n < expected → skipped (before the session's first block: the stream's earlier blocks; after it: a
//     replay, counted feed-old); n > expected → skipped, counted feed-ahead (MAX_AHEAD in a row → feed.error(gap));
//     n already committed or queued (gossip was first) → skipped before any crypto, else verify it
//     (ledger.verify: the one signature check of this block on this peer; bad → counted, skipped, and the
//     session waits for the real block n, never resubscribing onto the same forgery)
//     and offer it to the channel's commit queue (actors/commit-queue.ts), which every block source shares
//   per channel (outlives sessions): the queue's commits of orderer blocks → feed.block (progress) and
//     `delivered$` (the leader disseminates them); a refused orderer block → feed.error(rejected:<reason>)
// A session always starts at the ledger's height, after every commit in flight settled, so an error or
// reconnect never skips or doubles a block. A feed more than `maxBuffered` blocks ahead of the ledger pauses
// (the same session resubscribes once the queue drained): memory stays bounded.
import { createActor, fromCallback, type Actor, type EventObject } from 'xstate';
import { Subject, type Observable, type Subscription } from 'rxjs';
import { deliverMachine, type DeliverEvent, type DeliverMode, type FeedActorInput } from '../machines/deliver.machine.ts';
import { backoffMs, type DeliverTimings } from '../machines/deliver.logic.ts';
import type { Ledger } from '../runtime/ledger/ledger.ts';
import type { VerifiedBlock } from '../runtime/ledger/verified-block.ts';
import { FeedError, type OrderingFeed } from '../runtime/orderer/feed.ts';
import type { Clock } from '../runtime/clock.ts';
import type { Rng } from '../runtime/rng.ts';
import { RejectionCounter } from '../runtime/wire/rejections.ts';
import { CommitQueue } from './commit-queue.ts';

export interface DeliveredBlock {
  channel: string;
  block: VerifiedBlock;
  bytes: Uint8Array;
}

export interface DeliverStats {
  /** Blocks committed from the orderer (status: counters.blocksFromOrderer). */
  blocksFromOrderer: number;
  /** Feed failures by reason (gap, unavailable, rejected:bad-…, connect-timeout is counted by the machine). */
  errors: Record<string, number>;
  /** Subscriptions paused because the feed ran too far ahead of the ledger. */
  pauses: number;
}

export interface DeliverDeps {
  feed: OrderingFeed;
  /** The channel's commit queue, over its open ledger (opened before the deliver machine starts). */
  queue: (channel: string) => CommitQueue | undefined;
  rng: Rng;
  /** Blocks the feed may run ahead of the ledger before the subscription pauses (default 1024). */
  maxBuffered?: number;
  say?: (line: string) => void;
}

/** Blocks beyond the expected one in a row before the session gives up and resubscribes (a real gap). */
const MAX_AHEAD = 64;

type SessionReport = { type: 'block'; number: number } | { type: 'error'; reason: string };

/** One channel's orderer blocks through its commit queue: stats, delivered$, and the live session's reports. */
class DeliverChannel {
  readonly stats: DeliverStats = { blocksFromOrderer: 0, errors: {}, pauses: 0 };
  /** The live session's listener (at most one feed actor per channel runs at a time). */
  session: ((e: SessionReport) => void) | null = null;
  private readonly subs: Subscription[] = [];

  constructor(
    readonly channel: string,
    readonly queue: CommitQueue,
    delivered: Subject<DeliveredBlock>,
  ) {
    this.subs.push(
      queue.committed$.subscribe((batch) => {
        let last = -1;
        for (const q of batch) {
          if (q.source !== 'orderer') continue;
          this.stats.blocksFromOrderer++;
          delivered.next({ channel, block: q.block, bytes: q.bytes! });
          last = q.block.number;
        }
        if (last >= 0) this.session?.({ type: 'block', number: last });
      }),
      queue.refused$.subscribe((r) => {
        if (r.source !== 'orderer') return;
        this.fail(`rejected:${r.reason}`);
      }),
    );
  }

  fail(reason: string): void {
    this.countError(reason);
    this.session?.({ type: 'error', reason });
  }

  countError(reason: string): void {
    this.stats.errors[reason] = (this.stats.errors[reason] ?? 0) + 1;
  }

  dispose(): void {
    for (const s of this.subs) s.unsubscribe();
  }
}

export interface DeliverLogic {
  /** The deliver machine with its feed actor and jittered back-off provided. */
  machine: typeof deliverMachine;
  /** Committed blocks from the orderer, every channel. */
  delivered$: Observable<DeliveredBlock>;
  stats(channel: string): DeliverStats | null;
}

export function deliverLogic(deps: DeliverDeps): DeliverLogic {
  const delivered = new Subject<DeliveredBlock>();
  const channels = new Map<string, DeliverChannel>();
  const rng = deps.rng.fork('deliver');

  const channelOf = (channel: string): DeliverChannel => {
    let c = channels.get(channel);
    const queue = deps.queue(channel);
    if (!queue) throw new Error(`deliver: no commit queue for channel ${channel}`);
    if (!c || c.queue !== queue) {
      // A restarted peer: a new queue over the reopened ledger.
      c?.dispose();
      c = new DeliverChannel(channel, queue, delivered);
      channels.set(channel, c);
    }
    return c;
  };

  const feed = fromCallback<EventObject, FeedActorInput>(({ input, sendBack }) => {
    const { channel } = input;
    const send = (e: DeliverEvent) => sendBack(e);
    let ch: DeliverChannel;
    try {
      ch = channelOf(channel);
    } catch {
      send({ type: 'feed.error', reason: 'no-ledger' });
      return () => undefined;
    }
    const { queue } = ch;
    const ledger = queue.ledger;
    let sub: Subscription | null = null;
    let over = false;
    const end = (reason: string, counted = false) => {
      if (over) return;
      over = true;
      sub?.unsubscribe();
      if (!counted) ch.countError(reason);
      send({ type: 'feed.error', reason });
    };
    const listener = (e: SessionReport) => {
      if (e.type === 'block') send({ type: 'feed.block', number: e.number });
      else end(e.reason, true);
    };
    ch.session = listener;

    const open = async (): Promise<void> => {
      await queue.idle();
      if (over) return;
      let expected = ledger.height();
      const first = expected;
      let ahead = 0;
      const foreign = (reason: string) => queue.rejections.count(`feed-${reason}`);
      sub = deps.feed.blocks(channel, expected).subscribe({
        next: (e) => {
          if (over) return;
          if (e.type === 'ready') return send({ type: 'feed.ready' });
          if (e.type === 'skipped') return foreign(e.reason);
          if (e.block.number < expected) return void (expected > first && foreign('old'));
          if (e.block.number > expected) {
            foreign('ahead');
            return void (++ahead >= MAX_AHEAD && end('gap'));
          }
          ahead = 0;
          if (e.block.number < ledger.height() || queue.holds(e.block.number)) {
            // Committed or queued from gossip already: a duplicate, dropped before any crypto.
            expected++;
            return;
          }
          const v = ledger.verify(e.block, { number: expected });
          if (!v.ok) {
            // Counted under the ledger's names, as when the ledger itself refused an orderer block; the real
            // block n may still follow in the stream, so the session goes on waiting for it.
            queue.rejections.count(v.reason);
            return;
          }
          expected++;
          const r = queue.offer(v.block, 'orderer', 'ordered', e.bytes);
          if (r === 'full' || expected - ledger.height() >= (deps.maxBuffered ?? 1024)) {
            // Pause: drop the subscription, let the queue catch up, resume from the ledger height.
            sub?.unsubscribe();
            sub = null;
            ch.stats.pauses++;
            void open().catch(() => end('unavailable'));
          }
        },
        error: (err) => end(err instanceof FeedError ? err.reason : 'unavailable'),
        complete: () => end('closed'),
      });
    };
    void open().catch(() => end('unavailable'));

    return () => {
      over = true;
      sub?.unsubscribe();
      if (ch.session === listener) ch.session = null;
    };
  });

  const machine = deliverMachine.provide({
    actors: { feed },
    delays: { backoff: ({ context }) => backoffMs(context.failures, rng.next(), context) },
  });
  return { machine, delivered$: delivered.asObservable(), stats: (channel) => channels.get(channel)?.stats ?? null };
}

export interface Deliver {
  readonly actor: Actor<typeof deliverMachine>;
  readonly delivered$: Observable<DeliveredBlock>;
  stats(): DeliverStats | null;
  start(mode: DeliverMode): void;
  stop(): void;
  dispose(): void;
}

/** A stand-alone deliver actor for one channel (tests, tools); the peer embeds `deliverLogic` instead. */
export function createDeliver(o: { channel: string; ledger: Ledger; feed: OrderingFeed; clock: Clock; rng: Rng; timings: DeliverTimings; maxBuffered?: number }): Deliver {
  // Its own commit queue (gossip's settings do not matter: only the orderer offers here).
  const queue = new CommitQueue(o.ledger, new RejectionCounter(), { blockBufferSize: 100, batchSize: 10 });
  queue.start();
  const logic = deliverLogic({ feed: o.feed, queue: (c) => (c === o.channel ? queue : undefined), rng: o.rng, maxBuffered: o.maxBuffered });
  const actor = createActor(logic.machine, { input: { channel: o.channel, ...o.timings }, clock: o.clock }).start();
  return {
    actor,
    delivered$: logic.delivered$,
    stats: () => logic.stats(o.channel),
    start: (mode) => actor.send({ type: 'deliver.start', mode }),
    stop: () => actor.send({ type: 'deliver.stop' }),
    dispose: () => {
      actor.stop();
      queue.stop();
    },
  };
}
