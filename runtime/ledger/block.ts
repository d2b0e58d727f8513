// Blocks and their canonical hashes (the contract's "documented canonical byte encoding").
//   header bytes = "murmur/block/v1" ‖ u64be(number) ‖ previousHash[32] ‖ dataHash[32]
//   blockHash    = SHA-256(header bytes)       (tipHash in status is this, hex)
//   dataHash     = SHA-256(u32be(len(tx0)) ‖ tx0 ‖ u32be(len(tx1)) ‖ tx1 ‖ …)
//   signature    = orderer's ed25519 signature over the header bytes
// On the wire and on disk a block is the CBOR array [1, number, previousHash, dataHash, data[], signature].
// Hashes are computed over these fixed-order bytes, never over a re-encoded map.
import { decodeCbor, encodeCbor } from '../wire/cbor.ts';
import { concatBytes, plain, sha256, utf8 } from '../util/bytes.ts';
import type { Ed25519 } from '../crypto/ed25519.ts';

export interface Block {
  number: number;
  previousHash: Uint8Array;
  dataHash: Uint8Array;
  data: Uint8Array[];
  signature: Uint8Array;
}

const DOMAIN = utf8('murmur/block/v1');
const BLOCK_VERSION = 1;
export const HASH_BYTES = 32;
export const ZERO_HASH = new Uint8Array(HASH_BYTES);

export function headerBytes(number: number, previousHash: Uint8Array, dataHash: Uint8Array): Uint8Array {
  const n = new Uint8Array(8);
  new DataView(n.buffer).setBigUint64(0, BigInt(number));
  return concatBytes([DOMAIN, n, previousHash, dataHash]);
}

export function dataHashOf(data: Uint8Array[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const tx of data) {
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, tx.byteLength);
    parts.push(len, tx);
  }
  return sha256(concatBytes(parts));
}

export function blockHash(b: Pick<Block, 'number' | 'previousHash' | 'dataHash'>): Uint8Array {
  return sha256(headerBytes(b.number, b.previousHash, b.dataHash));
}

/** Builds and signs block `number` on top of `previousHash`. */
export function makeBlock(
  number: number,
  previousHash: Uint8Array,
  data: Uint8Array[],
  sign: (msg: Uint8Array) => Uint8Array,
): Block {
  const dataHash = dataHashOf(data);
  return { number, previousHash, dataHash, data, signature: sign(headerBytes(number, previousHash, dataHash)) };
}

export function encodeBlock(b: Block): Uint8Array {
  return encodeCbor([BLOCK_VERSION, b.number, b.previousHash, b.dataHash, b.data, b.signature]);
}

/** Structure only; returns null when malformed. Signature and hash checks are `verifyBlock`'s job. */
export function decodeBlock(bytes: Uint8Array): Block | null {
  try {
    const a = decodeCbor(bytes);
    if (!Array.isArray(a) || a.length !== 6 || a[0] !== BLOCK_VERSION) return null;
    const [, number, previousHash, dataHash, data, signature] = a;
    if (!Number.isSafeInteger(number) || number < 0) return null;
    if (!(previousHash instanceof Uint8Array) || previousHash.byteLength !== HASH_BYTES) return null;
    if (!(dataHash instanceof Uint8Array) || dataHash.byteLength !== HASH_BYTES) return null;
    if (!Array.isArray(data) || !data.every((d) => d instanceof Uint8Array)) return null;
    if (!(signature instanceof Uint8Array) || signature.byteLength !== 64) return null;
    return { number, previousHash: plain(previousHash), dataHash: plain(dataHash), data: data.map(plain), signature: plain(signature) };
  } catch {
    return null;
  }
}

export type BlockCheck = { ok: true } | { ok: false; reason: 'bad-data-hash' | 'bad-block-signature' | 'bad-number' | 'bad-previous-hash' };

/** Checks one block on its own: dataHash, orderer signature and (when given) number and chain link. */
export function verifyBlock(
  b: Block,
  ordererPublicKey: Uint8Array,
  ed: Ed25519,
  expect?: { number?: number; previousHash?: Uint8Array },
): BlockCheck {
  if (expect?.number !== undefined && b.number !== expect.number) return { ok: false, reason: 'bad-number' };
  if (expect?.previousHash && Buffer.compare(Buffer.from(expect.previousHash), Buffer.from(b.previousHash)) !== 0)
    return { ok: false, reason: 'bad-previous-hash' };
  if (Buffer.compare(Buffer.from(dataHashOf(b.data)), Buffer.from(b.dataHash)) !== 0) return { ok: false, reason: 'bad-data-hash' };
  if (!ed.verify(ordererPublicKey, headerBytes(b.number, b.previousHash, b.dataHash), b.signature))
    return { ok: false, reason: 'bad-block-signature' };
  return { ok: true };
}
