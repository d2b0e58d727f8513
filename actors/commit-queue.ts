// The one commit queue of a channel: every block source (the leader's orderer feed, push or tree, pull,
// state transfer) offers VerifiedBlocks here, and only this queue commits to the channel's ledger, so nothing
// races for a height and nothing is verified twice. Fabric's payload buffer (machines/payload-buffer.logic.ts)
// and deliverPayloads loop (digest §5.3):
//   offer(block, source, mode) → admission: already committed or held → 'duplicate' (dropped);
//     non-blocking (push, pull): Fabric's window; blocking (state transfer): producer waits on `full$`;
//     ordered (orderer feed): no window, a larger fence (the deliver actor pauses its feed before it)
//   loop, one commit at a time: the consecutive run from the ledger height (≤ maxBatch) → ledger.commit
//     (signature not checked again: the blocks are this ledger's VerifiedBlocks)
//     committed → counted by source; `committed$` gets the committed run (one event per ledger commit)
//     refused → that block leaves the buffer and `refused$` says so (the block store drops its gossip copy,
//       the deliver actor fails its session), so a genuine copy can take its place
//     the storage fails (a full disk, an I/O error) → nothing is lost: the blocks stay queued, the failure is
//       counted, `storage$` reports the episode once (failing, then ok again), and the commit is retried after
//       a backoff (100 ms doubling to 5 s, on the injected clock) until the storage works again
import { BehaviorSubject, Subject, type Observable, type Subscription } from 'rxjs';
import { PayloadBuffer, type PushMode, type PushResult } from '../machines/payload-buffer.logic.ts';
import { blockHash } from '../runtime/ledger/block.ts';
import type { VerifiedBlock } from '../runtime/ledger/verified-block.ts';
import type { Ledger, LedgerRejectReason } from '../runtime/ledger/ledger.ts';
import type { RejectionCounter } from '../runtime/wire/rejections.ts';
import type { Clock } from '../runtime/clock.ts';
import type { StorageHealth } from './status-row.ts';

export type BlockSource = 'orderer' | 'push' | 'pull' | 'state';

export interface QueuedBlock {
  block: VerifiedBlock;
  source: BlockSource;
  /** The block's encoding as it arrived from the orderer (what the leader disseminates), else null. */
  bytes: Uint8Array | null;
}

export interface RefusedBlock {
  number: number;
  reason: LedgerRejectReason;
  source: BlockSource;
}

export interface CommitQueueSettings {
  /** state.blockBufferSize: the non-blocking window and the blocking high-water mark (2 ×). */
  blockBufferSize: number;
  /** Slack in the hard fence for the state blocks in flight: state.batchSize (Fabric), or the window's
   * requests × their width (murmur). */
  batchSize: number;
  /** Blocks per ledger commit at most (default 256). */
  maxBatch?: number;
  /** Room for the orderer's blocks beyond the gossip fence (default 1024). */
  orderedCapacity?: number;
  /** Times the storage retries (default: no retry timer, a failed commit waits for the next offer). */
  clock?: Clock;
}

const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 5000;

export class CommitQueue {
  readonly committedBy: Record<BlockSource, number> = { orderer: 0, push: 0, pull: 0, state: 0 };
  /** True while a blocking producer must wait (Fabric: buffer size > 2 × blockBufferSize). */
  readonly full$ = new BehaviorSubject(false);
  private readonly committedSubject = new Subject<QueuedBlock[]>();
  private readonly refusedSubject = new Subject<RefusedBlock>();
  private readonly buffer: PayloadBuffer<QueuedBlock>;
  private running: Promise<void> | null = null;
  private sub: Subscription | null = null;
  private stopped = false;
  /** The storage's health: an episode of failures is reported once when it starts and once when it ends. */
  readonly storage$ = new BehaviorSubject<StorageHealth>({ ok: true, failures: 0, lastError: null });
  private retry: { cancel(): void } | null = null;
  private backoff = RETRY_FIRST_MS;

  constructor(
    readonly ledger: Ledger,
    /** The peer's refusal counts (status `rejected`). */
    readonly rejections: RejectionCounter,
    private readonly s: CommitQueueSettings,
  ) {
    this.buffer = new PayloadBuffer<QueuedBlock>(ledger.height(), s.blockBufferSize, s.batchSize, s.orderedCapacity ?? 1024);
  }

  /** The blocks of each ledger commit, in chain order, with their sources. */
  get committed$(): Observable<QueuedBlock[]> {
    return this.committedSubject.asObservable();
  }

  /** Every block the ledger refused (it left the queue). */
  get refused$(): Observable<RefusedBlock> {
    return this.refusedSubject.asObservable();
  }

  start(): void {
    // Commits made past the queue (tests, tools) move the window too.
    this.sub = this.ledger.commits$.subscribe((c) => {
      this.buffer.committed(c.height);
      this.level();
      this.kick();
    });
  }

  stop(): void {
    this.stopped = true;
    this.retry?.cancel();
    this.retry = null;
    this.storage$.complete();
    this.sub?.unsubscribe();
    this.full$.complete();
    this.committedSubject.complete();
    this.refusedSubject.complete();
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

  offer(block: VerifiedBlock, source: BlockSource, mode: PushMode, bytes: Uint8Array | null = null): PushResult {
    if (this.stopped) return 'full';
    this.buffer.committed(this.ledger.height());
    const r = this.buffer.push(block.number, { block, source, bytes }, mode);
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

  /** Counts the failure, reports a new episode, and retries after the backoff (the blocks stay queued). */
  private storageFailed(e: unknown): void {
    const h = this.storage$.value;
    this.storage$.next({ ok: false, failures: h.failures + 1, lastError: e instanceof Error ? e.message : String(e) });
    const clock = this.s.clock;
    if (!clock) return;
    const delay = this.backoff;
    this.backoff = Math.min(RETRY_MAX_MS, this.backoff * 2);
    const t = clock.setTimeout(() => {
      this.retry = null;
      this.kick();
    }, delay);
    this.retry = { cancel: () => clock.clearTimeout(t) };
  }

  private level(): void {
    if (this.stopped) return;
    const full = !this.buffer.hasRoomForBlocking();
    if (full !== this.full$.value) this.full$.next(full);
  }

  private kick(): void {
    // While backing off after a storage failure only the retry timer commits.
    if (this.stopped || this.running || this.retry) return;
    this.running = this.run().finally(() => {
      this.running = null;
      // Something may have arrived while the last commit was in flight.
      if (this.buffer.ready(1).length) this.kick();
    });
  }

  private async run(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      this.buffer.committed(this.ledger.height());
      const batch = this.buffer.ready(this.s.maxBatch ?? 256);
      if (!batch.length) return;
      let r;
      try {
        r = await this.ledger.commit(batch.map((b) => b.item.block));
      } catch (e) {
        // A closed ledger (the peer is stopping): nothing more to do. Anything else is the storage failing.
        if (!this.stopped && !this.ledger.closed) this.storageFailed(e);
        return;
      }
      if (!this.storage$.value.ok) this.storage$.next({ ...this.storage$.value, ok: true });
      this.backoff = RETRY_FIRST_MS;
      this.buffer.committed(r.height);
      if (r.committed.length) {
        const done = batch.slice(0, r.committed.length).map((b) => b.item);
        for (const item of done) this.committedBy[item.source]++;
        this.committedSubject.next(done);
      }
      if (r.rejected && r.rejected.reason !== 'bad-number') {
        // Verified, but it does not extend this chain (e.g. a fork signed by the orderer): drop it.
        const item = this.buffer.discard(r.rejected.number);
        const source = item?.source ?? 'push';
        // The orderer's refusals are counted by the deliver actor (its errors), as before.
        if (source !== 'orderer') this.rejections.count(`ledger-refused-${r.rejected.reason}`);
        this.refusedSubject.next({ number: r.rejected.number, reason: r.rejected.reason, source });
      }
      this.level();
      if (r.committed.length === 0) return;
    }
  }
}
