// The simulator's ledger: the same commit rule (ChainLedger) over arrays of encoded blocks. The store
// outlives the peers that open it, so a simulated crash and restart finds the chain it had committed.
// A commit is atomic by construction (one array push after verification) and "durable" once it resolves.
import type { Ed25519 } from '../crypto/ed25519.ts';
import type { Genesis } from './channel-config.ts';
import { ChainLedger, LedgerError, type BlockStorage, type Ledger, type LedgerStore } from './ledger.ts';

class MemoryBlocks implements BlockStorage {
  readonly blocks: Uint8Array[] = [];
  /** While set, every append fails with it (a full disk, injected by tests: MemoryLedgerStore.failWith). */
  failure: Error | null = null;
  count(): number {
    return this.blocks.length;
  }
  read(n: number): Uint8Array | null {
    return this.blocks[n] ?? null;
  }
  async append(first: number, encoded: Uint8Array[]): Promise<void> {
    if (this.failure) throw this.failure;
    if (first !== this.blocks.length) throw new LedgerError(`memory append at ${first}, but it holds ${this.blocks.length} blocks`);
    this.blocks.push(...encoded.map((b) => b.slice()));
  }
}

export class MemoryLedgerStore implements LedgerStore {
  /** What survives a crash: every channel's blocks. */
  private readonly chains = new Map<string, MemoryBlocks>();
  private open_ = new Map<string, ChainLedger>();

  constructor(private readonly ed: Ed25519) {}

  async open(genesis: Genesis): Promise<Ledger> {
    const channel = genesis.config.channel;
    const have = this.open_.get(channel);
    if (have) {
      have.assertGenesis(genesis);
      return have;
    }
    let blocks = this.chains.get(channel);
    if (!blocks) this.chains.set(channel, (blocks = new MemoryBlocks()));
    blocks.failure = this.failing;
    const ledger = await ChainLedger.open(genesis, blocks, this.ed);
    this.open_.set(channel, ledger);
    return ledger;
  }

  /** Every append of every channel fails with `error` from now on (a full disk); null makes them work again. */
  failWith(error: Error | null): void {
    this.failing = error;
    for (const b of this.chains.values()) b.failure = error;
  }
  private failing: Error | null = null;

  /** Closes the open ledgers; the chains stay, and a later `open` continues them (a restart). */
  async close(): Promise<void> {
    const open = [...this.open_.values()];
    this.open_ = new Map();
    for (const l of open) await l.close();
  }
}
