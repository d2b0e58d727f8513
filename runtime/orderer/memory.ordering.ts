// The simulator's ordering service output: per channel an append-only array of blocks that is both the
// orderer's BlockLog (same append condition as JetStream's expect.lastSequence) and the peers'
// OrderingFeed. Feed events travel through the clock (latencyMs after the append), in order, so a run is a
// pure function of its seed. Fault knobs: `setAvailable(false)` fails every feed (and new subscriptions)
// until it is turned back on; `inject` appends raw blocks without the condition (a byzantine orderer).
import { Observable, Subject } from 'rxjs';
import type { Clock } from '../clock.ts';
import { blockHash, decodeBlock, encodeBlock, type Block } from '../ledger/block.ts';
import type { Genesis } from '../ledger/channel-config.ts';
import { bytesEqual } from '../util/bytes.ts';
import { FeedError, type FeedEvent, type OrderingFeed } from './feed.ts';
import { OrdererError, type AppendResult, type BlockLog } from './block-log.ts';

interface Chain {
  encoded: Uint8Array[];
  appended: Subject<number>;
}

export interface MemoryOrderingOptions {
  clock: Clock;
  /** Delay from append (or subscribe) to delivery; ms (default 1). */
  latencyMs?: number;
}

export class MemoryOrderingService implements BlockLog, OrderingFeed {
  private readonly chains = new Map<string, Chain>();
  private readonly outage = new Subject<void>();
  private available = true;
  appends = 0;
  conflicts = 0;

  constructor(private readonly o: MemoryOrderingOptions) {}

  async ensure(genesis: Genesis): Promise<void> {
    const channel = genesis.config.channel;
    const c = this.chain(channel);
    if (c.encoded.length === 0) this.push(c, encodeBlock(genesis.block));
    const b0 = decodeBlock(c.encoded[0]!);
    if (!b0 || !bytesEqual(blockHash(b0), blockHash(genesis.block))) throw new OrdererError(`the log of ${channel} holds another chain`);
  }

  async tip(channel: string): Promise<Block> {
    const c = this.chains.get(channel);
    if (!c?.encoded.length) throw new OrdererError(`no log for channel ${channel}`);
    return decodeBlock(c.encoded.at(-1)!)!;
  }

  async append(channel: string, block: Block, encoded: Uint8Array): Promise<AppendResult> {
    const c = this.chains.get(channel);
    if (!c) throw new OrdererError(`no log for channel ${channel}`);
    if (c.encoded.length !== block.number) {
      this.conflicts++;
      return { ok: false, reason: 'conflict' };
    }
    this.push(c, encoded.slice());
    return { ok: true };
  }

  /** Appends a block as is, no condition (tests of what peers do with a bad orderer). */
  inject(channel: string, block: Block): void {
    this.push(this.chain(channel), encodeBlock(block));
  }

  /** Number of blocks in the channel's log. */
  height(channel: string): number {
    return this.chains.get(channel)?.encoded.length ?? 0;
  }

  block(channel: string, n: number): Block | null {
    const bytes = this.chains.get(channel)?.encoded[n];
    return bytes ? decodeBlock(bytes) : null;
  }

  setAvailable(up: boolean): void {
    this.available = up;
    if (!up) this.outage.next();
  }

  blocks(channel: string, from: number): Observable<FeedEvent> {
    return new Observable<FeedEvent>((sub) => {
      const clock = this.o.clock;
      const latency = this.o.latencyMs ?? 1;
      const timers = new Set<unknown>();
      const later = (fn: () => void) => {
        const id = clock.setTimeout(() => {
          timers.delete(id);
          fn();
        }, latency);
        timers.add(id);
      };
      if (!this.available) {
        later(() => sub.error(new FeedError('unavailable', 'the ordering service is unavailable')));
        return () => timers.forEach((t) => clock.clearTimeout(t));
      }
      const c = this.chain(channel);
      let next = Math.max(0, from);
      const pump = () => {
        while (next < c.encoded.length) {
          const bytes = c.encoded[next++]!;
          const block = decodeBlock(bytes);
          if (!block) return sub.error(new FeedError('malformed', `block ${next - 1} of ${channel} is malformed`));
          sub.next({ type: 'block', block, bytes });
        }
      };
      later(() => {
        sub.next({ type: 'ready' });
        pump();
      });
      const appended = c.appended.subscribe(() => later(pump));
      const down = this.outage.subscribe(() => later(() => sub.error(new FeedError('unavailable', 'the ordering service went away'))));
      return () => {
        appended.unsubscribe();
        down.unsubscribe();
        timers.forEach((t) => clock.clearTimeout(t));
      };
    });
  }

  private chain(channel: string): Chain {
    let c = this.chains.get(channel);
    if (!c) this.chains.set(channel, (c = { encoded: [], appended: new Subject() }));
    return c;
  }

  private push(c: Chain, encoded: Uint8Array): void {
    c.encoded.push(encoded);
    this.appends++;
    c.appended.next(c.encoded.length);
  }
}
