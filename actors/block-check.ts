// Block validation before a gossiped block is stored, forwarded or enqueued (digest §4.8, Fabric's
// VerifyBlock): decodes, the number must be the claimed one, dataHash must match the data, the orderer
// (key from the channel's genesis block) must have signed the header, and when the predecessor's hash is
// known the block must link to it; a v2 block must name this channel (the orderer's key signs every channel). Reasons are counted by the caller under these names.
import { decodeBlock, verifyBlock, type Block } from '../runtime/ledger/block.ts';
import type { Ed25519 } from '../runtime/crypto/ed25519.ts';

export type BlockRejectReason = 'block-malformed' | 'block-number-mismatch' | 'block-bad-data-hash' | 'block-bad-signature' | 'block-bad-previous-hash' | 'block-wrong-channel';

export type BlockCheckResult = { ok: true; block: Block } | { ok: false; reason: BlockRejectReason };

export function checkBlockBytes(bytes: Uint8Array, claimedSeq: number, ordererPublicKey: Uint8Array, ed: Ed25519, previousHash?: Uint8Array | null, channel?: string): BlockCheckResult {
  const block = decodeBlock(bytes);
  if (!block) return { ok: false, reason: 'block-malformed' };
  if (block.number !== claimedSeq) return { ok: false, reason: 'block-number-mismatch' };
  const r = verifyBlock(block, ordererPublicKey, ed, { ...(previousHash ? { previousHash } : {}), channel });
  if (r.ok) return { ok: true, block };
  const reason: BlockRejectReason =
    r.reason === 'bad-data-hash'
      ? 'block-bad-data-hash'
      : r.reason === 'bad-previous-hash'
        ? 'block-bad-previous-hash'
        : r.reason === 'bad-number'
          ? 'block-number-mismatch'
          : r.reason === 'bad-channel'
            ? 'block-wrong-channel'
            : 'block-bad-signature';
  return { ok: false, reason };
}
