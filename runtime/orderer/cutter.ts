// Block cutting, as Fabric's orderer/common/blockcutter (pure: no clock; the batcher owns the timer).
//   ordered(tx):
//     size(tx) > PreferredMaxBytes  → cut the pending batch (if any), then tx alone is a batch of its own
//     pending + size(tx) > Preferred → cut the pending batch; tx starts the next one
//     append tx; count = MaxMessageCount → cut
//   cut(): the pending batch (BatchTimeout expired), possibly empty
// Transactions above AbsoluteMaxBytes never get here: the intake refuses them.
export interface BatchSize {
  maxMessageCount: number;
  /** Largest transaction (and single-transaction batch); bytes. */
  absoluteMaxBytes: number;
  /** A batch is cut before it would exceed this; bytes. */
  preferredMaxBytes: number;
}

export interface Ordered {
  /** Batches cut by this transaction, in order (0, 1 or 2). */
  batches: Uint8Array[][];
  /** Whether transactions are left pending (the batch timer must run). */
  pending: boolean;
}

export class BlockCutter {
  private batch: Uint8Array[] = [];
  private bytes = 0;

  constructor(readonly size: BatchSize) {}

  get pendingCount(): number {
    return this.batch.length;
  }

  ordered(tx: Uint8Array): Ordered {
    const batches: Uint8Array[][] = [];
    const n = tx.byteLength;
    if (n > this.size.preferredMaxBytes) {
      if (this.batch.length) batches.push(this.cut());
      batches.push([tx]);
      return { batches, pending: false };
    }
    if (this.bytes + n > this.size.preferredMaxBytes) batches.push(this.cut());
    this.batch.push(tx);
    this.bytes += n;
    if (this.batch.length >= this.size.maxMessageCount) batches.push(this.cut());
    return { batches, pending: this.batch.length > 0 };
  }

  cut(): Uint8Array[] {
    const b = this.batch;
    this.batch = [];
    this.bytes = 0;
    return b;
  }
}

/** Bytes a block may add around its transactions: CBOR framing, header hashes, signature, NATS headers. */
export const BLOCK_OVERHEAD_BYTES = 1024;
/** CBOR byte-string header per transaction, at most. */
export const PER_TX_OVERHEAD_BYTES = 5;

/**
 * Fits the configured batch size under the bus's largest message. The biggest block is either one
 * transaction of AbsoluteMaxBytes, or MaxMessageCount transactions adding up to PreferredMaxBytes.
 * Clamping is reported as warnings; a max_payload too small for any block is an error.
 */
export function clampBatchSize(want: BatchSize, maxPayload: number): { size: BatchSize; warnings: string[] } {
  const limit = maxPayload - BLOCK_OVERHEAD_BYTES;
  const warnings: string[] = [];
  if (limit < 1024)
    throw new Error(`the NATS server's max_payload (${maxPayload} bytes) leaves no room for blocks: it must be at least ${BLOCK_OVERHEAD_BYTES + 1024} bytes`);
  let { absoluteMaxBytes, preferredMaxBytes } = want;
  const { maxMessageCount } = want;
  if (absoluteMaxBytes + PER_TX_OVERHEAD_BYTES > limit) {
    const to = limit - PER_TX_OVERHEAD_BYTES;
    warnings.push(`BatchSize.AbsoluteMaxBytes ${absoluteMaxBytes} clamped to ${to} (the NATS server's max_payload is ${maxPayload})`);
    absoluteMaxBytes = to;
  }
  const roomForPreferred = Math.min(absoluteMaxBytes, limit - PER_TX_OVERHEAD_BYTES * maxMessageCount);
  if (roomForPreferred < 1)
    throw new Error(`BatchSize.MaxMessageCount ${maxMessageCount} cannot fit in one block under the NATS server's max_payload (${maxPayload} bytes)`);
  if (preferredMaxBytes > roomForPreferred) {
    warnings.push(`BatchSize.PreferredMaxBytes ${preferredMaxBytes} clamped to ${roomForPreferred} (the NATS server's max_payload is ${maxPayload})`);
    preferredMaxBytes = roomForPreferred;
  }
  return { size: { maxMessageCount, absoluteMaxBytes, preferredMaxBytes }, warnings };
}
