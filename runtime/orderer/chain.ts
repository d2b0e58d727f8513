// The orderer's side of one channel's chain: turns a batch into block N over the tip's hash, signs it and
// appends it to the log on the condition that the log holds N blocks.
//   append(batch):  (one at a time)
//     loop: b = sign(block(height, tipHash, now, batch)); r = log.append(b)   (now: the block's v2 timestamp)
//       ok        → height++, tip = b; done
//       conflict  → someone else appended: re-read the log's tip, rebuild the batch on top of it, retry (no
//                   limit: every transaction in the batch was acknowledged, so it lands or the orderer stops)
//       I/O error → wait (100 ms doubling to 2 s, on the clock) and retry the same block (its msg id dedupes)
// Nothing is ever appended without the condition, so the log never forks or holds a block twice.
import { blockHash, encodeBlock, makeBlock, type Block } from '../ledger/block.ts';
import type { Genesis } from '../ledger/channel-config.ts';
import type { Clock } from '../clock.ts';
import { OrdererError, type BlockLog } from './block-log.ts';

export interface ChainWriterOptions {
  clock: Clock;
  /** Called on conflicts and retries (operator log). */
  log?: (line: string) => void;
  /** Conflicts in a row after which each retry first waits (the backoff below); default 32. */
  maxConflicts?: number;
}

export class ChainWriter {
  private tip: Block;
  private queue: Promise<unknown> = Promise.resolve();
  private stopped = false;
  private wake: (() => void) | null = null;
  conflicts = 0;
  retries = 0;

  private constructor(
    readonly channel: string,
    private readonly log: BlockLog,
    private readonly sign: (msg: Uint8Array) => Uint8Array,
    tip: Block,
    private readonly opts: ChainWriterOptions,
  ) {
    this.tip = tip;
  }

  /** Ensures the channel's log (genesis) and continues from its tip: a restart continues the chain. */
  static async open(genesis: Genesis, log: BlockLog, sign: (msg: Uint8Array) => Uint8Array, opts: ChainWriterOptions): Promise<ChainWriter> {
    await log.ensure(genesis);
    const channel = genesis.config.channel;
    return new ChainWriter(channel, log, sign, await log.tip(channel), opts);
  }

  /** Number of blocks in the chain as far as this writer knows. */
  get height(): number {
    return this.tip.number + 1;
  }

  get tipHash(): Uint8Array {
    return blockHash(this.tip);
  }

  /** Appends one block holding `txs`; resolves with it once the log has it. */
  append(txs: Uint8Array[]): Promise<Block> {
    const run = this.queue.then(() => this.appendNow(txs));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Ends retries; appends still queued reject. */
  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  private async appendNow(txs: Uint8Array[]): Promise<Block> {
    const maxConflicts = this.opts.maxConflicts ?? 32;
    let conflicts = 0;
    let delay = 100;
    let stale = false;
    let block = makeBlock(this.height, this.tipHash, txs, this.sign, this.stamp(), this.channel);
    for (;;) {
      if (this.stopped) throw new OrdererError(`${this.channel}: stopped before block ${block.number} was appended`);
      try {
        if (stale) {
          const tip = await this.log.tip(this.channel);
          this.opts.log?.(`${this.channel}: block ${block.number} refused by the log (its tip is block ${tip.number}); continuing from there`);
          this.tip = tip;
          stale = false;
          block = makeBlock(this.height, this.tipHash, txs, this.sign, this.stamp(), this.channel);
        }
        const r = await this.log.append(this.channel, block, encodeBlock(block));
        if (r.ok) {
          this.tip = block;
          return block;
        }
        this.conflicts++;
        stale = true;
        if (++conflicts > maxConflicts) {
          // Another writer keeps winning: keep the batch, but stop spinning.
          this.opts.log?.(`${this.channel}: block ${block.number} conflicted ${conflicts - 1} times in a row; retrying in ${delay} ms`);
          await this.sleep(delay);
          delay = Math.min(2000, delay * 2);
        }
      } catch (e) {
        if (e instanceof OrdererError) throw e;
        this.retries++;
        this.opts.log?.(`${this.channel}: appending block ${block.number} failed (${(e as Error).message}); retrying in ${delay} ms`);
        await this.sleep(delay);
        delay = Math.min(2000, delay * 2);
      }
    }
  }

  /** The block's timestamp: whole ms on the orderer's clock (a simulated clock may be fractional). */
  private stamp(): number {
    return Math.max(0, Math.floor(this.opts.clock.now()));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.opts.clock.clearTimeout(id);
        this.wake = null;
        resolve();
      };
      const id = this.opts.clock.setTimeout(done, ms);
      this.wake = done;
    });
  }
}
