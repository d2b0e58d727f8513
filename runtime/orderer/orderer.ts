// The ordering service, transport-free: per channel a batcher (block cutter + BatchTimeout on the clock)
// feeding a chain writer (signed blocks appended to the channel's log under the append condition).
//   submit(channel, tx): unknown channel / empty / > AbsoluteMaxBytes / too many batches waiting → refused
//                        else queued in the batcher → {ok, txId}   (txId = hex SHA-256 of the tx bytes)
//   submitAndWait(channel, tx): the same, answered once the block holding it is appended (at most
//                        MAX_WAITERS waiting per channel; more are refused)
//   batch cut → writer.append(batch) → blocks$ (one append in flight per channel; the rest wait in order)
// The NATS intake (nats-intake.ts) and the simulator's harness call `submit`.
import { Subject, type Observable } from 'rxjs';
import type { Clock } from '../clock.ts';
import type { Block } from '../ledger/block.ts';
import type { Genesis } from '../ledger/channel-config.ts';
import { sha256, toHex } from '../util/bytes.ts';
import { Batcher } from './batcher.ts';
import { ChainWriter } from './chain.ts';
import type { BatchSize } from './cutter.ts';
import type { BlockLog } from './block-log.ts';

export interface OrdererOptions {
  channels: Genesis[];
  log: BlockLog;
  sign: (msg: Uint8Array) => Uint8Array;
  clock: Clock;
  batchSize: BatchSize;
  batchTimeoutMs: number;
  /** Cut batches waiting for their append, per channel, before transactions are refused. */
  maxPendingBatches: number;
  /** Operator log lines. */
  say?: (line: string) => void;
}

/** `block`: the number of the block holding the transaction (submitAndWait only). */
export type SubmitResult = { ok: true; txId: string; block?: number } | { ok: false; error: string };

/** Submitters waiting for their transaction's block, per channel. */
const MAX_WAITERS = 10_000;

export interface OrdererStats {
  accepted: number;
  rejected: Record<string, number>;
  blocks: number;
  txs: number;
}

interface ChannelOrderer {
  writer: ChainWriter;
  batcher: Batcher;
  /** Batches cut and not yet appended. */
  waiting: number;
  /** The last append's completion (stop waits for it). */
  last: Promise<unknown>;
  /** Submitters waiting for their block, by tx id. */
  waiters: Map<string, Array<(r: SubmitResult) => void>>;
  waitingSubmitters: number;
}

export interface AppendedBlock {
  channel: string;
  block: Block;
  /** From the batch's cut to the log's acknowledgement (waiting behind earlier appends included); ms. */
  appendMs: number;
}

export const txIdOf = (tx: Uint8Array): string => toHex(sha256(tx));

export class Orderer {
  readonly stats: OrdererStats = { accepted: 0, rejected: {}, blocks: 0, txs: 0 };
  private readonly blocks = new Subject<AppendedBlock>();
  private readonly chans = new Map<string, ChannelOrderer>();
  private stopped = false;

  private constructor(private readonly o: OrdererOptions) {}

  /** Opens every channel's chain (creating its log with the genesis block when missing) and starts batching. */
  static async start(o: OrdererOptions): Promise<Orderer> {
    const orderer = new Orderer(o);
    for (const genesis of o.channels) {
      const channel = genesis.config.channel;
      const writer = await ChainWriter.open(genesis, o.log, o.sign, { clock: o.clock, log: o.say });
      let ch!: ChannelOrderer;
      const batcher = new Batcher(o.batchSize, o.batchTimeoutMs, o.clock, (txs) => orderer.cut(channel, ch, txs));
      ch = { writer, batcher, waiting: 0, last: Promise.resolve(), waiters: new Map(), waitingSubmitters: 0 };
      orderer.chans.set(channel, ch);
      o.say?.(`channel ${channel}: continuing at height ${writer.height}`);
    }
    return orderer;
  }

  /** Every block appended by this orderer. */
  get blocks$(): Observable<AppendedBlock> {
    return this.blocks.asObservable();
  }

  channels(): string[] {
    return [...this.chans.keys()];
  }

  height(channel: string): number | null {
    return this.chans.get(channel)?.writer.height ?? null;
  }

  /** Appends of the channel refused because another writer appended first (each retried on the new tip). */
  conflicts(channel: string): number | null {
    return this.chans.get(channel)?.writer.conflicts ?? null;
  }

  /** Batches of the channel cut and not yet appended (null: unknown channel). */
  pendingBatches(channel: string): number | null {
    return this.chans.get(channel)?.waiting ?? null;
  }

  submit(channel: string, tx: Uint8Array): SubmitResult {
    const ch = this.chans.get(channel);
    if (this.stopped) return this.refuse('stopped', 'the orderer is stopping');
    if (!ch) return this.refuse('unknown-channel', `unknown channel ${channel}`);
    if (tx.byteLength === 0) return this.refuse('empty', 'empty transaction');
    const max = this.o.batchSize.absoluteMaxBytes;
    if (tx.byteLength > max) return this.refuse('too-large', `transaction of ${tx.byteLength} bytes exceeds BatchSize.AbsoluteMaxBytes (${max})`);
    if (ch.waiting >= this.o.maxPendingBatches)
      return this.refuse('overloaded', `overloaded: ${ch.waiting} batches of ${channel} wait to be appended`);
    ch.batcher.add(tx);
    this.stats.accepted++;
    return { ok: true, txId: txIdOf(tx) };
  }

  /** Submits `tx` and answers once the block holding it is appended (or the orderer stops first). */
  submitAndWait(channel: string, tx: Uint8Array): Promise<SubmitResult> {
    const ch = this.chans.get(channel);
    if (ch && ch.waitingSubmitters >= MAX_WAITERS) return Promise.resolve(this.refuse('overloaded', `overloaded: ${ch.waitingSubmitters} submitters of ${channel} wait for their block`));
    const r = this.submit(channel, tx);
    if (!r.ok || !ch) return Promise.resolve(r);
    return new Promise((resolve) => {
      const list = ch.waiters.get(r.txId);
      if (list) list.push(resolve);
      else ch.waiters.set(r.txId, [resolve]);
      ch.waitingSubmitters++;
    });
  }

  /** Cuts what is pending, waits (at most `timeoutMs`) for queued appends, and stops. */
  async stop(timeoutMs = 5000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const ch of this.chans.values()) {
      ch.batcher.flush();
      ch.batcher.stop();
    }
    let timer: unknown;
    const deadline = new Promise<void>((resolve) => (timer = this.o.clock.setTimeout(resolve, timeoutMs)));
    await Promise.race([Promise.all([...this.chans.values()].map((c) => c.last)), deadline]);
    this.o.clock.clearTimeout(timer);
    for (const ch of this.chans.values()) {
      ch.writer.stop();
      for (const [, list] of ch.waiters) for (const w of list) w({ ok: false, error: 'the orderer stopped before the transaction was in a block' });
      ch.waiters.clear();
      ch.waitingSubmitters = 0;
    }
    this.blocks.complete();
  }

  private cut(channel: string, ch: ChannelOrderer, txs: Uint8Array[]): void {
    ch.waiting++;
    const cutAt = this.o.clock.now();
    ch.last = ch.writer.append(txs).then(
      (block) => {
        ch.waiting--;
        this.stats.blocks++;
        this.stats.txs += txs.length;
        this.blocks.next({ channel, block, appendMs: this.o.clock.now() - cutAt });
        if (ch.waitingSubmitters > 0) this.answerWaiters(ch, txs, block.number);
      },
      (e) => {
        ch.waiting--;
        this.o.say?.(`${channel}: a batch of ${txs.length} transactions was not appended: ${(e as Error).message}`);
      },
    );
  }

  private answerWaiters(ch: ChannelOrderer, txs: Uint8Array[], block: number): void {
    for (const tx of txs) {
      const txId = txIdOf(tx);
      const list = ch.waiters.get(txId);
      if (!list) continue;
      ch.waiters.delete(txId);
      ch.waitingSubmitters -= list.length;
      for (const w of list) w({ ok: true, txId, block });
    }
  }

  /** Counts a refused transaction by reason (`stats.rejected`, /metrics) and says why. */
  refuse(reason: string, error = reason): SubmitResult {
    this.stats.rejected[reason] = (this.stats.rejected[reason] ?? 0) + 1;
    return { ok: false, error };
  }
}
