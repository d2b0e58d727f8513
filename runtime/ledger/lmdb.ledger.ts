// The ledger on lmdb: one environment per peer (`<fileSystemPath>/ledger.lmdb`), one named db per channel,
// keys are block numbers (uint32), values the blocks' canonical encoding. A commit is one lmdb write
// transaction: all its blocks or none, so a kill -9 at any moment leaves a contiguous, valid prefix.
// The commit's promise resolves once lmdb has committed it AND flushed it to disk (lmdb's overlappingSync
// commits first and syncs in parallel with the next transaction, so batching keeps throughput high).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import type { Ed25519 } from '../crypto/ed25519.ts';
import type { Genesis } from './channel-config.ts';
import { ChainLedger, LedgerError, type BlockStorage, type Ledger, type LedgerStore } from './ledger.ts';

export const LEDGER_FILE = 'ledger.lmdb';
/** lmdb needs a bound on named dbs per environment: one per channel. */
const MAX_CHANNELS = 1000;

class LmdbBlocks implements BlockStorage {
  private n: number;
  constructor(
    private readonly root: RootDatabase,
    private readonly db: Database<Buffer, number>,
  ) {
    let last = -1;
    for (const k of db.getKeys({ reverse: true, limit: 1 })) last = k;
    this.n = last + 1;
  }
  count(): number {
    return this.n;
  }
  read(n: number): Uint8Array | null {
    const v = this.db.getBinary(n);
    return v ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : null;
  }
  async append(first: number, encoded: Uint8Array[]): Promise<void> {
    if (first !== this.n) throw new LedgerError(`lmdb append at ${first}, but the db holds ${this.n} blocks`);
    // One synchronous write transaction (the blocks are small and already encoded; the disk sync overlaps the
    // next commit): a failing disk (ENOSPC, EIO) throws here or rejects the flush, never an unhandled rejection
    // that would end the process, and the caller gets one error naming the cause.
    try {
      this.root.transactionSync(() => {
        encoded.forEach((b, i) => this.db.putSync(first + i, Buffer.from(b.buffer, b.byteOffset, b.byteLength), { append: true }));
      });
      await this.root.flushed;
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      throw new LedgerError(`lmdb commit of blocks ${first}..${first + encoded.length - 1} failed: ${(e as Error).message}${code !== undefined ? ` (code ${String(code)})` : ''}`, { cause: e });
    }
    this.n = first + encoded.length;
  }
}

export class LmdbLedgerStore implements LedgerStore {
  private readonly root: RootDatabase;
  private readonly ledgers = new Map<string, ChainLedger>();
  private closing: Promise<void> | null = null;

  /** Opens (creating the folder) the environment under `dir`. */
  constructor(
    readonly dir: string,
    private readonly ed: Ed25519,
  ) {
    mkdirSync(dir, { recursive: true });
    try {
      this.root = open({ path: join(dir, LEDGER_FILE), maxDbs: MAX_CHANNELS });
    } catch (e) {
      throw new LedgerError(`cannot open the ledger in ${dir}: ${(e as Error).message}`, { cause: e });
    }
  }

  async open(genesis: Genesis): Promise<Ledger> {
    if (this.closing) throw new LedgerError(`the ledger store in ${this.dir} is closed`);
    const channel = genesis.config.channel;
    const have = this.ledgers.get(channel);
    if (have) {
      have.assertGenesis(genesis);
      return have;
    }
    const db = this.root.openDB<Buffer, number>({ name: `blocks/${channel}`, keyEncoding: 'uint32', encoding: 'binary' });
    const ledger = await ChainLedger.open(genesis, new LmdbBlocks(this.root, db), this.ed);
    this.ledgers.set(channel, ledger);
    return ledger;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const l of this.ledgers.values()) await l.close();
      await this.root.close();
    })();
    return this.closing;
  }
}
