// Binds the deliver machine (machines/deliver.machine.ts) to the ordering feed and the ledger.
//   feed actor (one per session): wait until earlier commits are done → subscribe from ledger.height()
//     ready → feed.ready;  block n: n < expected → skip (re-delivery), n > expected → feed.error(gap),
//     else buffer it;  error / end → feed.error(reason)
//   committer (one per channel, outlives sessions): commits buffered blocks in batches, one commit at a time;
//     skips what the ledger already has, stops at a refused block (feed.error(rejected:<reason>)),
//     reports progress (feed.block) and hands each committed block to `delivered$` for dissemination.
// A session always starts at the ledger's height, after every commit of the previous one settled, so an
// error or reconnect never skips or doubles a block. A buffer past `maxBuffered` blocks pauses the
// subscription (the same session resubscribes once the buffer drained): memory stays bounded.
import { createActor, fromCallback, type Actor, type AnyActorRef, type EventObject } from 'xstate';
import { Subject, type Observable, type Subscription } from 'rxjs';
import { deliverMachine, type DeliverEvent, type DeliverMode, type FeedActorInput } from '../machines/deliver.machine.ts';
import { backoffMs, type DeliverTimings } from '../machines/deliver.logic.ts';
import type { Ledger } from '../runtime/ledger/ledger.ts';
import type { Block } from '../runtime/ledger/block.ts';
import { FeedError, type OrderingFeed } from '../runtime/orderer/feed.ts';
import type { Clock } from '../runtime/clock.ts';
import type { Rng } from '../runtime/rng.ts';

export interface DeliveredBlock {
  channel: string;
  block: Block;
  bytes: Uint8Array;
}

export interface DeliverStats {
  /** Blocks committed from the orderer (status: counters.blocksFromOrderer). */
  blocksFromOrderer: number;
  /** Feed failures by reason (gap, unavailable, rejected:bad-…, connect-timeout is counted by the machine). */
  errors: Record<string, number>;
  /** Subscriptions paused because the commit buffer was full. */
  pauses: number;
}

export interface DeliverDeps {
  feed: OrderingFeed;
  /** The channel's open ledger (opened before the deliver machine starts). */
  ledger: (channel: string) => Ledger | undefined;
  rng: Rng;
  /** Blocks per commit at most (default 256). */
  maxBatch?: number;
  /** Buffered blocks before the subscription pauses (default 1024). */
  maxBuffered?: number;
  say?: (line: string) => void;
}

interface Pending {
  session: number;
  block: Block;
  bytes: Uint8Array;
}

/** Per-channel commit queue: one ledger commit at a time, batched, outliving feed sessions. */
class Committer {
  readonly stats: DeliverStats = { blocksFromOrderer: 0, errors: {}, pauses: 0 };
  private buffer: Pending[] = [];
  private running: Promise<void> | null = null;

  constructor(
    readonly channel: string,
    readonly ledger: Ledger,
    private readonly maxBatch: number,
    private readonly delivered: Subject<DeliveredBlock>,
    private readonly report: (session: number, e: { type: 'block'; number: number } | { type: 'error'; reason: string }) => void,
  ) {}

  get buffered(): number {
    return this.buffer.length;
  }

  push(p: Pending): void {
    this.buffer.push(p);
    this.running ??= this.run().finally(() => (this.running = null));
  }

  /** Forgets what a finished session buffered (the next session re-reads it from the feed). */
  drop(session: number): void {
    this.buffer = this.buffer.filter((p) => p.session !== session);
  }

  /** Resolves when nothing is being committed. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  countError(reason: string): void {
    this.stats.errors[reason] = (this.stats.errors[reason] ?? 0) + 1;
  }

  private async run(): Promise<void> {
    while (this.buffer.length) {
      const session = this.buffer[0]!.session;
      const h = this.ledger.height();
      let take = this.buffer.findIndex((p, i) => i >= this.maxBatch || p.session !== session);
      if (take < 0) take = this.buffer.length;
      const batch = this.buffer.splice(0, take).filter((p) => p.block.number >= h);
      if (!batch.length) continue;
      if (batch[0]!.block.number > h) {
        this.fail(session, 'gap');
        continue;
      }
      let r;
      try {
        // Another producer (gossip, state transfer) may have committed some of these meanwhile.
        r = await this.ledger.commit(batch.map((p) => p.block), { skipCommitted: true });
      } catch {
        this.fail(session, 'ledger-error');
        continue;
      }
      this.stats.blocksFromOrderer += r.committed.length;
      for (let i = r.skipped; i < r.skipped + r.committed.length; i++) this.delivered.next({ channel: this.channel, block: batch[i]!.block, bytes: batch[i]!.bytes });
      if (r.committed.length) this.report(session, { type: 'block', number: r.committed.at(-1)!.number });
      if (r.rejected) this.fail(session, `rejected:${r.rejected.reason}`);
    }
  }

  private fail(session: number, reason: string): void {
    this.drop(session);
    this.countError(reason);
    this.report(session, { type: 'error', reason });
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
  const committers = new Map<string, Committer>();
  const listeners = new Map<number, (e: { type: 'block'; number: number } | { type: 'error'; reason: string }) => void>();
  let sessions = 0;
  const rng = deps.rng.fork('deliver');

  const committerOf = (channel: string): Committer => {
    let c = committers.get(channel);
    const ledger = deps.ledger(channel);
    if (!ledger) throw new Error(`deliver: no open ledger for channel ${channel}`);
    if (!c || c.ledger !== ledger) {
      c = new Committer(channel, ledger, deps.maxBatch ?? 256, delivered, (session, e) => listeners.get(session)?.(e));
      committers.set(channel, c);
    }
    return c;
  };

  const feed = fromCallback<EventObject, FeedActorInput>(({ input, sendBack }) => {
    const { channel } = input;
    const session = ++sessions;
    const send = (e: DeliverEvent) => sendBack(e);
    let committer: Committer;
    try {
      committer = committerOf(channel);
    } catch {
      send({ type: 'feed.error', reason: 'no-ledger' });
      return () => undefined;
    }
    let sub: Subscription | null = null;
    let over = false;
    const end = (reason: string) => {
      if (over) return;
      over = true;
      sub?.unsubscribe();
      committer.drop(session);
      committer.countError(reason);
      send({ type: 'feed.error', reason });
    };
    listeners.set(session, (e) => {
      if (e.type === 'block') send({ type: 'feed.block', number: e.number });
      else if (!over) {
        over = true;
        sub?.unsubscribe();
        send({ type: 'feed.error', reason: e.reason });
      }
    });

    const open = async (): Promise<void> => {
      await committer.idle();
      if (over) return;
      let expected = deps.ledger(channel)?.height() ?? 0;
      sub = deps.feed.blocks(channel, expected).subscribe({
        next: (e) => {
          if (over) return;
          if (e.type === 'ready') return send({ type: 'feed.ready' });
          if (e.block.number < expected) return;
          if (e.block.number > expected) return end('gap');
          expected++;
          committer.push({ session, block: e.block, bytes: e.bytes });
          if (committer.buffered >= (deps.maxBuffered ?? 1024)) {
            // Pause: drop the subscription, let the committer catch up, resume from the ledger height.
            sub?.unsubscribe();
            sub = null;
            committer.stats.pauses++;
            void open();
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
      committer.drop(session);
      listeners.delete(session);
    };
  });

  const machine = deliverMachine.provide({
    actors: { feed },
    delays: { backoff: ({ context }) => backoffMs(context.failures, rng.next(), context) },
  });
  return { machine, delivered$: delivered.asObservable(), stats: (channel) => committers.get(channel)?.stats ?? null };
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
  const logic = deliverLogic({ feed: o.feed, ledger: (c) => (c === o.channel ? o.ledger : undefined), rng: o.rng, maxBuffered: o.maxBuffered });
  const actor = createActor(logic.machine, { input: { channel: o.channel, ...o.timings }, clock: o.clock }).start();
  return {
    actor,
    delivered$: logic.delivered$,
    stats: () => logic.stats(o.channel),
    start: (mode) => actor.send({ type: 'deliver.start', mode }),
    stop: () => actor.send({ type: 'deliver.stop' }),
    dispose: () => actor.stop(),
  };
}

/**
 * Leadership drives delivery (Fabric: the leader alone pulls from the orderer): leading → deliver.start(mode),
 * not leading → deliver.stop; when an elected leader's deliver gives up, `onGaveUp` (the election yields).
 * Returns the unbinding function.
 */
export function bindLeadership(leading$: Observable<boolean>, deliver: AnyActorRef, mode: DeliverMode, onGaveUp: () => void): () => void {
  const sub = leading$.subscribe((leading) => deliver.send(leading ? { type: 'deliver.start', mode } : { type: 'deliver.stop' }));
  const gaveUp = deliver.on('deliver.gaveUp', onGaveUp);
  return () => {
    sub.unsubscribe();
    gaveUp.unsubscribe();
  };
}
