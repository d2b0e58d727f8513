// A block whose orderer signature one channel's verifier has checked: the only way to get a `VerifiedBlock`
// is `BlockVerifier.verify` (each ledger owns one, `Ledger.verify`), so a block is verified once per peer
// whichever way it came (orderer feed, push, tree, pull, state transfer), and the ledger's commit rule skips
// the signature for blocks its own verifier vouches for.
//   verify(b, expect):  number (when expected), channel (v2 names it), link (when the predecessor is known),
//                       dataHash, then the signature (ed25519, most of a peer's CPU) → VerifiedBlock
//                       a block it vouches for already: number, link and dataHash only (no signature)
//   vouches(b):         this verifier verified this very object
// The brand is a type; what the ledger trusts is the verifier's own record (a WeakSet of the objects it
// verified), so a cast cannot forge it and another peer's verification (one process, many peers) does not
// count. A verified block is frozen (with its data list), so none of its fields can be replaced after
// verification and its header is not hashed again; number, link and dataHash are still checked (the ledger's
// commit rule asks). Byte arrays cannot be frozen: their contents are trusted to in-process code, never to
// the bus (everything from the bus is a fresh decode).
import { dataHashOf, verifyBlock, type Block, type BlockCheck } from './block.ts';
import type { Ed25519 } from '../crypto/ed25519.ts';
import { bytesEqual } from '../util/bytes.ts';

declare const verified: unique symbol;
export type VerifiedBlock = Block & { readonly [verified]: true };

export type BlockVerdict = { ok: true; block: VerifiedBlock } | Extract<BlockCheck, { ok: false }>;

/** What a block check consumes: a channel's verifier (the ledger is one). */
export interface BlockVerifierPort {
  verify(b: Block, expect?: { number?: number; previousHash?: Uint8Array | null }): BlockVerdict;
}

export class BlockVerifier implements BlockVerifierPort {
  private readonly seen = new WeakSet<Block>();

  /** `channel`: what a v2 block must name (omit only for genesis-time checks). */
  constructor(
    private readonly ordererPublicKey: Uint8Array,
    private readonly ed: Ed25519,
    private readonly channel?: string,
  ) {}

  verify(b: Block, expect: { number?: number; previousHash?: Uint8Array | null } = {}): BlockVerdict {
    if (this.vouches(b)) {
      // Signature checked before (by intake or deliver, or a second source offered the same object).
      const r = verifyVouched(b, expect);
      return r.ok ? { ok: true, block: b } : r;
    }
    const r = verifyBlock(b, this.ordererPublicKey, this.ed, {
      ...(expect.number !== undefined ? { number: expect.number } : {}),
      ...(expect.previousHash ? { previousHash: expect.previousHash } : {}),
      ...(this.channel !== undefined ? { channel: this.channel } : {}),
    });
    if (!r.ok) return r;
    // Frozen so the record stays true (decoded blocks already are; freezing twice is harmless).
    Object.freeze(b.data);
    Object.freeze(b);
    this.seen.add(b);
    return { ok: true, block: b as VerifiedBlock };
  }

  /** True when this verifier checked `b`'s signature (`b` is frozen since, so its header is unchanged). */
  vouches(b: Block): b is VerifiedBlock {
    return this.seen.has(b);
  }
}

function verifyVouched(b: Block, expect: { number?: number; previousHash?: Uint8Array | null }): BlockCheck {
  if (expect.number !== undefined && b.number !== expect.number) return { ok: false, reason: 'bad-number' };
  if (expect.previousHash && !bytesEqual(expect.previousHash, b.previousHash)) return { ok: false, reason: 'bad-previous-hash' };
  if (!bytesEqual(dataHashOf(b.data), b.dataHash)) return { ok: false, reason: 'bad-data-hash' };
  return { ok: true };
}
