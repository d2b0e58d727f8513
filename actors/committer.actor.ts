// The committer of gossiped blocks for one channel: the payload buffer (machines/payload-buffer.logic.ts) in
// front of the ledger, Fabric's deliverPayloads loop (digest §5.3).
//   offer(seq, block, source, mode) → buffer admission (non-blocking for push/pull, blocking for state transfer)
//   loop, one commit at a time: take the consecutive run from the ledger height (≤ maxBatch) → ledger.commit
//     committed → counted by source;  refused (not a lost race) → that block leaves the buffer and `onRefused`
//     tells the block store, so a genuine copy can take its place
//   every ledger commit, whoever made it (the deliver actor commits the leader's orderer blocks directly),
//   moves the buffer's window; `full$` says whether a blocking producer must wait (size > 2 × blockBufferSize)
import { BehaviorSubject, type Subscription } from 'rxjs';
import { PayloadBuffer, type PushMode, type PushResult } from '../machines/payload-buffer.logic.ts';
import { blockHash, type Block } from '../runtime/ledger/block.ts';
import type { Ledger } from '../runtime/ledger/ledger.ts';
import type { RejectionCounter } from '../runtime/wire/rejections.ts';

export type BlockSource = 'push' | 'pull' | 'state';

export interface CommitterDeps {
  ledger: Ledger;
  rejections: RejectionCounter;
  blockBufferSize: number;
  batchSize: number;
  /** Blocks per ledger commit at most (default 64). */
  maxBatch?: number;
  /** The ledger refused a buffered block: drop it wherever else it is held. */
  onRefused?: (seq: number) => void;
}

interface Held {
  block: Block;
  source: BlockSource;
}

export class BlockCommitter {
  readonly committedBy: Record<BlockSource, number> = { push: 0, pull: 0, state: 0 };
  /** True while a blocking producer must wait (Fabric: buffer size > 2 × blockBufferSize). */
  readonly full$ = new BehaviorSubject(false);
  private readonly buffer: PayloadBuffer<Held>;
  private running: Promise<void> | null = null;
  private sub: Subscription | null = null;
  private stopped = false;

  constructor(private readonly d: CommitterDeps) {
    this.buffer = new PayloadBuffer<Held>(d.ledger.height(), d.blockBufferSize, d.batchSize);
  }

  start(): void {
    this.sub = this.d.ledger.commits$.subscribe((c) => {
      this.buffer.committed(c.height);
      this.level();
      this.kick();
    });
  }

  stop(): void {
    this.stopped = true;
    this.sub?.unsubscribe();
    this.full$.complete();
  }

  /** Held in the buffer, waiting for its turn. */
  holds(seq: number): boolean {
    return this.buffer.has(seq);
  }

  /** Hash of a buffered block (to check a successor's link before the ledger has it). */
  hashOf(seq: number): Uint8Array | null {
    const h = this.buffer.ready(Infinity).find((r) => r.seq === seq);
    return h ? blockHash(h.item.block) : null;
  }

  get size(): number {
    return this.buffer.size;
  }

  offer(seq: number, block: Block, source: BlockSource, mode: PushMode): PushResult {
    this.buffer.committed(this.d.ledger.height());
    const r = this.buffer.push(seq, { block, source }, mode);
    if (r === 'accepted') {
      this.level();
      this.kick();
    }
    return r;
  }

  /** Resolves when nothing is being committed. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private level(): void {
    if (this.stopped) return;
    const full = !this.buffer.hasRoomForBlocking();
    if (full !== this.full$.value) this.full$.next(full);
  }

  private kick(): void {
    if (this.stopped || this.running) return;
    this.running = this.run().finally(() => {
      this.running = null;
      // Something may have arrived while the last commit was in flight.
      if (this.buffer.ready(1).length) this.kick();
    });
  }

  private async run(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      this.buffer.committed(this.d.ledger.height());
      const batch = this.buffer.ready(this.d.maxBatch ?? 64);
      if (!batch.length) return;
      let r;
      try {
        r = await this.d.ledger.commit(batch.map((b) => b.item.block));
      } catch {
        // A closed ledger (the peer is stopping): nothing more to do.
        return;
      }
      for (let i = 0; i < r.committed.length; i++) this.committedBy[batch[i]!.item.source]++;
      this.buffer.committed(r.height);
      if (r.rejected && r.rejected.reason !== 'bad-number') {
        // The block verified on intake but does not extend this chain (e.g. another channel's block): drop it.
        this.buffer.discard(r.rejected.number);
        this.d.rejections.count(`ledger-refused-${r.rejected.reason}`);
        this.d.onRefused?.(r.rejected.number);
      }
      this.level();
      if (r.committed.length === 0) return;
    }
  }
}
