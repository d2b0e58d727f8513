// Block validation before a gossiped block is stored, forwarded or enqueued (digest §4.8, Fabric's
// VerifyBlock): decodes, the number must be the claimed one, then the channel's verifier (the ledger's,
// runtime/ledger/verified-block.ts): dataHash must match the data, the orderer (key from the channel's genesis
// block) must have signed the header, a v2 block must name this channel (the orderer's key signs every
// channel), and when the predecessor's hash is known the block must link to it. What passes is a
// VerifiedBlock, whose signature the ledger does not check again. Reasons are counted by the caller.
import { decodeBlock } from '../runtime/ledger/block.ts';
import type { BlockVerifierPort, VerifiedBlock } from '../runtime/ledger/verified-block.ts';

export type BlockRejectReason = 'block-malformed' | 'block-number-mismatch' | 'block-bad-data-hash' | 'block-bad-signature' | 'block-bad-previous-hash' | 'block-wrong-channel';

export type BlockCheckResult = { ok: true; block: VerifiedBlock } | { ok: false; reason: BlockRejectReason };

export function checkBlockBytes(bytes: Uint8Array, claimedSeq: number, verifier: BlockVerifierPort, previousHash?: Uint8Array | null): BlockCheckResult {
  const block = decodeBlock(bytes);
  if (!block) return { ok: false, reason: 'block-malformed' };
  if (block.number !== claimedSeq) return { ok: false, reason: 'block-number-mismatch' };
  const r = verifier.verify(block, { previousHash: previousHash ?? null });
  if (r.ok) return r;
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
