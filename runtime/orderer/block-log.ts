// The orderer's output port: one append-only log of blocks per channel (JetStream stream in production,
// memory.ordering.ts in the simulator). The condition on `append` is what keeps the chain a chain: block N
// lands only if the log holds exactly N blocks, so a restarted or second orderer can neither fork nor double.
import type { Block } from '../ledger/block.ts';
import type { Genesis } from '../ledger/channel-config.ts';

export type AppendResult = { ok: true } | { ok: false; reason: 'conflict' };

export interface BlockLog {
  /** Creates the channel's log if missing, appends the genesis block to an empty one, and checks block 0. */
  ensure(genesis: Genesis): Promise<void>;
  /** The channel's last block. */
  tip(channel: string): Promise<Block>;
  /** Appends `block` iff the log holds exactly `block.number` blocks; `conflict` otherwise. Throws on I/O trouble. */
  append(channel: string, block: Block, encoded: Uint8Array): Promise<AppendResult>;
}

export class OrdererError extends Error {
  override readonly name = 'OrdererError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
