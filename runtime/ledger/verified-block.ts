// A block whose orderer signature one channel's verifier has checked: the only way to get a `VerifiedBlock`
// is `BlockVerifier.verify` (each ledger owns one, `Ledger.verify`), so a block is verified once per peer
// whichever way it came (orderer feed, push, tree, pull, state transfer), and the ledger's commit rule skips
// the signature for blocks its own verifier vouches for.
//   verify(b, expect):  number (when expected), channel (v2 names it), link (when the predecessor is known),
//                       dataHash, then the signature (ed25519, most of a peer's CPU) → VerifiedBlock
//                       a block it vouches for already: number, link and dataHash only (no signature)
//   vouches(b):         this verifier verified this very object and its header is unchanged since
// The brand is a type; what the ledger trusts is the verifier's own record (a WeakMap from the object to its
// header hash at verification), so a cast cannot forge it, another peer's verification (one process, many
// peers) does not count, and a block altered after verification is checked in full again.
import { blockHash, dataHashOf, verifyBlock, type Block, type BlockCheck } from './block.ts';
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
  private readonly seen = new WeakMap<Block, Uint8Array>();

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
    this.seen.set(b, blockHash(b));
    return { ok: true, block: b as VerifiedBlock };
  }

  /** True when this verifier checked `b`'s signature and its signed header has not changed since. */
  vouches(b: Block): b is VerifiedBlock {
    const h = this.seen.get(b);
    return h !== undefined && bytesEqual(h, blockHash(b));
  }
}

function verifyVouched(b: Block, expect: { number?: number; previousHash?: Uint8Array | null }): BlockCheck {
  if (expect.number !== undefined && b.number !== expect.number) return { ok: false, reason: 'bad-number' };
  if (expect.previousHash && !bytesEqual(expect.previousHash, b.previousHash)) return { ok: false, reason: 'bad-previous-hash' };
  if (!bytesEqual(dataHashOf(b.data), b.dataHash)) return { ok: false, reason: 'bad-data-hash' };
  return { ok: true };
}
