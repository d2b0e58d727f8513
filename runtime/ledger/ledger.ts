// The ledger port: a peer's committed chain of one channel, and the store that holds every channel's chain.
// Two implementations pass one contract test (test/contract/ledger.contract.ts): `LmdbLedgerStore`
// (lmdb.ledger.ts, one lmdb environment per peer under peer.fileSystemPath, one db per channel) and
// `MemoryLedgerStore` (memory.ledger.ts, the simulator's; it survives a simulated crash).
//
// The commit rule lives here, once, for both:
//   commit(blocks):  (serialised: one commit at a time)
//     for b in blocks:  b.number = height            else reject bad-number (out of order or duplicate)
//                       b.previousHash = tipHash     else reject bad-previous-hash
//                       dataHash(b.data) = dataHash  else reject bad-data-hash
//                       orderer signed the header    else reject bad-block-signature  (key: genesis config)
//                       a v2 block names this channel else reject bad-channel
//                       (signature and channel are skipped for a VerifiedBlock this ledger's own verifier
//                       checked, verified-block.ts: intake and deliver verify once, `ledger.verify`)
//     persist the valid prefix in ONE atomic, durable write; then height and tipHash move
// A rejected block and everything after it in the batch are not committed; the reason is counted.
// So the ledger never holds a gap or a fork, and a crash leaves the last committed prefix.
import { Subject, type Observable } from 'rxjs';
import { blockHash, decodeBlock, encodeBlock, type Block } from './block.ts';
import { BlockVerifier, type BlockVerdict, type BlockVerifierPort } from './verified-block.ts';
import type { Genesis } from './channel-config.ts';
import type { Ed25519 } from '../crypto/ed25519.ts';
import { RejectionCounter } from '../wire/rejections.ts';
import { bytesEqual, toHex } from '../util/bytes.ts';

export type LedgerRejectReason = 'bad-number' | 'bad-previous-hash' | 'bad-data-hash' | 'bad-block-signature' | 'bad-channel';

export interface CommitResult {
  /** Blocks committed by this call, in order. */
  committed: Block[];
  /** Height after the call. */
  height: number;
  /** The first refused block, or null when every block was committed. */
  rejected: { number: number; reason: LedgerRejectReason } | null;
}

export interface LedgerCommit {
  channel: string;
  height: number;
  tipHash: string;
  blocks: Block[];
}

export interface Ledger extends BlockVerifierPort {
  readonly channel: string;
  /** Fabric's height: number of committed blocks (genesis only → 1). */
  height(): number;
  /** Hash of block height-1 (the canonical header hash). */
  tipHash(): Uint8Array;
  get(n: number): Block | null;
  /** The block's canonical encoding as stored (what dissemination and state transfer send). */
  getEncoded(n: number): Uint8Array | null;
  /** Blocks [from, to), clipped to what is committed. */
  range(from: number, to: number): Block[];
  /**
   * This channel's block check (orderer key and channel from the genesis config): the one place a peer verifies
   * an orderer signature; what passes is a VerifiedBlock whose signature `commit` does not check again.
   */
  verify(b: Block, expect?: { number?: number; previousHash?: Uint8Array | null }): BlockVerdict;
  /** Verifies and persists in order; resolves once the valid prefix is durable. Never rejects for a bad block. */
  commit(blocks: readonly Block[]): Promise<CommitResult>;
  /** True once the store closed it (commits are refused; not a storage failure). */
  readonly closed: boolean;
  /** Refused blocks by reason. */
  readonly rejections: RejectionCounter;
  /** Every durable commit (one event per commit call that committed something). */
  readonly commits$: Observable<LedgerCommit>;
}

export interface LedgerStore {
  /** Opens (creating with the genesis block, or checking it) the ledger of the genesis block's channel. */
  open(genesis: Genesis): Promise<Ledger>;
  /** Closes every ledger it opened; later calls to those ledgers fail. Idempotent. */
  close(): Promise<void>;
}

export class LedgerError extends Error {
  override readonly name = 'LedgerError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Storage primitives a concrete ledger gives `ChainLedger`; everything else is shared. */
export interface BlockStorage {
  /** Number of stored blocks (keys 0..n-1 are contiguous by construction). */
  count(): number;
  read(n: number): Uint8Array | null;
  /** Appends blocks [count, count+k) atomically and durably. */
  append(first: number, encoded: Uint8Array[]): Promise<void>;
}

/** The shared commit rule and reads over a `BlockStorage`. */
export class ChainLedger implements Ledger {
  readonly rejections = new RejectionCounter();
  private readonly commitsSubject = new Subject<LedgerCommit>();
  private h: number;
  private tip: Uint8Array;
  private queue: Promise<unknown> = Promise.resolve();
  private isClosed = false;
  private readonly verifier: BlockVerifier;

  private constructor(
    readonly channel: string,
    private readonly storage: BlockStorage,
    ordererPublicKey: Uint8Array,
    ed: Ed25519,
  ) {
    this.verifier = new BlockVerifier(ordererPublicKey, ed, channel);
    this.h = storage.count();
    const last = this.h > 0 ? decodeBlock(storage.read(this.h - 1) ?? new Uint8Array()) : null;
    if (!last) throw new LedgerError(`ledger of ${channel}: block ${this.h - 1} is unreadable`);
    this.tip = blockHash(last);
  }

  /** Throws unless this ledger's block 0 is `genesis` (a store asked twice for a channel). */
  assertGenesis(genesis: Genesis): void {
    const b0 = this.get(0);
    if (!b0 || !bytesEqual(blockHash(b0), blockHash(genesis.block)))
      throw new LedgerError(`ledger of ${this.channel} holds another chain: its block 0 is not this channel's genesis block`);
  }

  /** Writes genesis into an empty storage, or checks that block 0 is this genesis block. */
  static async open(genesis: Genesis, storage: BlockStorage, ed: Ed25519): Promise<ChainLedger> {
    const channel = genesis.config.channel;
    if (storage.count() === 0) await storage.append(0, [encodeBlock(genesis.block)]);
    const stored = storage.read(0);
    const b0 = stored ? decodeBlock(stored) : null;
    if (!b0 || !bytesEqual(blockHash(b0), blockHash(genesis.block)))
      throw new LedgerError(`ledger of ${channel} holds another chain: its block 0 is not this channel's genesis block`);
    return new ChainLedger(channel, storage, genesis.ordererPublicKey, ed);
  }

  get commits$(): Observable<LedgerCommit> {
    return this.commitsSubject.asObservable();
  }

  height(): number {
    return this.h;
  }

  tipHash(): Uint8Array {
    return this.tip;
  }

  getEncoded(n: number): Uint8Array | null {
    if (!Number.isSafeInteger(n) || n < 0 || n >= this.h) return null;
    return this.storage.read(n);
  }

  get(n: number): Block | null {
    const bytes = this.getEncoded(n);
    return bytes ? decodeBlock(bytes) : null;
  }

  range(from: number, to: number): Block[] {
    const out: Block[] = [];
    for (let n = Math.max(0, from); n < Math.min(to, this.h); n++) {
      const b = this.get(n);
      if (!b) break;
      out.push(b);
    }
    return out;
  }

  verify(b: Block, expect?: { number?: number; previousHash?: Uint8Array | null }): BlockVerdict {
    return this.verifier.verify(b, expect);
  }

  commit(blocks: readonly Block[]): Promise<CommitResult> {
    // Serialised here too (the contract), though a peer has one caller: its channel's commit queue.
    const run = this.queue.then(() => this.commitNow(blocks));
    this.queue = run.catch(() => undefined);
    return run;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Stops accepting commits; waits for the one in progress. */
  async close(): Promise<void> {
    this.isClosed = true;
    await this.queue;
    this.commitsSubject.complete();
  }

  private async commitNow(blocks: readonly Block[]): Promise<CommitResult> {
    if (this.isClosed) throw new LedgerError(`ledger of ${this.channel} is closed`);
    const ok: Block[] = [];
    const encoded: Uint8Array[] = [];
    let rejected: CommitResult['rejected'] = null;
    let height = this.h;
    let tip = this.tip;
    for (const b of blocks) {
      const check = this.verifier.verify(b, { number: height, previousHash: tip });
      if (!check.ok) {
        rejected = { number: b.number, reason: check.reason };
        this.rejections.count(check.reason);
        break;
      }
      ok.push(b);
      encoded.push(encodeBlock(b));
      height++;
      tip = blockHash(b);
    }
    if (ok.length > 0) {
      await this.storage.append(this.h, encoded);
      this.h = height;
      this.tip = tip;
      this.commitsSubject.next({ channel: this.channel, height, tipHash: toHex(tip), blocks: ok });
    }
    return { committed: ok, height: this.h, rejected };
  }
}
