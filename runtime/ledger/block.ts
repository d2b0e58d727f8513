// Blocks and their canonical hashes (the contract's "documented canonical byte encoding").
// Two versions; every block the orderer cuts is v2, genesis blocks from `crypto generate` stay v1:
//   v1 header bytes = "murmur/block/v1" ‖ u64be(number) ‖ previousHash[32] ‖ dataHash[32]
//   v2 header bytes = "murmur/block/v2" ‖ u64be(number) ‖ u64be(timestamp) ‖ u8(len) ‖ channel (UTF-8)
//                     ‖ previousHash[32] ‖ dataHash[32]
//      timestamp = when the orderer built the block, ms since the Unix epoch on its clock (block latency)
//      channel   = the channel the orderer cut it for: the same orderer key signs every channel, so without it
//                  another channel's block would verify (checked by verifyBlock when the caller names one)
//   blockHash    = SHA-256(header bytes)       (tipHash in status is this, hex)
//   dataHash     = SHA-256(u32be(len(tx0)) ‖ tx0 ‖ u32be(len(tx1)) ‖ tx1 ‖ …)
//   signature    = orderer's ed25519 signature over the header bytes
// On the wire and on disk a block is the CBOR array [1, number, previousHash, dataHash, data[], signature]
// (v1) or [2, number, timestamp, channel, previousHash, dataHash, data[], signature] (v2). The version is part
// of the signed header (its domain), so a timestamp or channel can be neither altered nor stripped without
// breaking the signature and the hash chain. Hashes are computed over these fixed-order bytes, never over a re-encoded map.
import { decodeCbor, encodeCbor } from '../wire/cbor.ts';
import { scanCbor } from '../wire/cbor-scan.ts';
import { createHash } from 'node:crypto';
import { concatBytes, plain, sha256, utf8 } from '../util/bytes.ts';
import type { Ed25519 } from '../crypto/ed25519.ts';

export interface Block {
  number: number;
  previousHash: Uint8Array;
  dataHash: Uint8Array;
  data: Uint8Array[];
  signature: Uint8Array;
  /** v2 only: when the orderer built the block (ms since the Unix epoch, its clock); absent in v1 blocks. */
  timestamp?: number;
  /** v2 only: the channel the block was cut for; absent in v1 blocks. */
  channel?: string;
}

const DOMAIN_V1 = utf8('murmur/block/v1');
const DOMAIN_V2 = utf8('murmur/block/v2');
export const HASH_BYTES = 32;
export const ZERO_HASH = new Uint8Array(HASH_BYTES);

const u64be = (v: number): Uint8Array => {
  const n = new Uint8Array(8);
  new DataView(n.buffer).setBigUint64(0, BigInt(v));
  return n;
};

/** Longest channel name a v2 header carries (the wire's channel limit). */
export const MAX_CHANNEL_BYTES = 64;

/** The signed header: v2 when `timestamp` is given (with its channel), v1 otherwise. */
export function headerBytes(number: number, previousHash: Uint8Array, dataHash: Uint8Array, timestamp?: number, channel = ''): Uint8Array {
  if (timestamp === undefined) return concatBytes([DOMAIN_V1, u64be(number), previousHash, dataHash]);
  const ch = utf8(channel);
  return concatBytes([DOMAIN_V2, u64be(number), u64be(timestamp), Uint8Array.of(ch.byteLength), ch, previousHash, dataHash]);
}

const headerOf = (b: Pick<Block, 'number' | 'previousHash' | 'dataHash' | 'timestamp' | 'channel'>) => headerBytes(b.number, b.previousHash, b.dataHash, b.timestamp, b.channel);

/** Fed to the hash part by part: one 4 KB transaction is not copied into a concatenation first. */
export function dataHashOf(data: readonly Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  const len = new Uint8Array(4);
  const view = new DataView(len.buffer);
  for (const tx of data) {
    view.setUint32(0, tx.byteLength);
    h.update(len);
    h.update(tx);
  }
  return new Uint8Array(h.digest());
}

// A frozen block (decoded, or verified) cannot change, so its header hash is computed once: the ledger, the
// tree and state transfer each ask for it. A plain object is hashed afresh every time (tests alter blocks).
const hashes = new WeakMap<object, Uint8Array>();

export function blockHash(b: Pick<Block, 'number' | 'previousHash' | 'dataHash' | 'timestamp' | 'channel'>): Uint8Array {
  const known = hashes.get(b);
  if (known) return known;
  const h = sha256(headerOf(b));
  if (Object.isFrozen(b)) hashes.set(b, h);
  return h;
}

/** Builds and signs block `number` on top of `previousHash`; with `timestamp` (the orderer's) a v2 block of `channel`. */
export function makeBlock(
  number: number,
  previousHash: Uint8Array,
  data: Uint8Array[],
  sign: (msg: Uint8Array) => Uint8Array,
  timestamp?: number,
  channel = '',
): Block {
  if (timestamp !== undefined && !(Number.isSafeInteger(timestamp) && timestamp >= 0)) throw new RangeError(`block timestamp must be whole ms ≥ 0, got ${timestamp}`);
  if (utf8(channel).byteLength > MAX_CHANNEL_BYTES) throw new RangeError(`channel name longer than ${MAX_CHANNEL_BYTES} bytes`);
  const dataHash = dataHashOf(data);
  const signature = sign(headerBytes(number, previousHash, dataHash, timestamp, channel));
  return timestamp === undefined ? { number, previousHash, dataHash, data, signature } : { number, previousHash, dataHash, data, signature, timestamp, channel };
}

// The bytes a frozen block was decoded from, when they are in the one canonical encoding (shortest heads): what
// murmur's encoder writes, so forwarding them saves the encode of every block a peer relays. Nothing hashes or
// signs a block's encoding (hashes cover the header bytes above); the canonical check keeps an insider from
// padding a genuine block's heads and having every relay pass the padding on. The views share the received
// buffer; they keep nothing else alive.
const sourceBytes = new WeakMap<Block, Uint8Array>();
const BLOCK_SHAPE = { maxItems: Number.MAX_SAFE_INTEGER, maxDepth: 3, canonical: true } as const;

export function encodeBlock(b: Block): Uint8Array {
  const received = sourceBytes.get(b);
  if (received) return received;
  return b.timestamp === undefined
    ? encodeCbor([1, b.number, b.previousHash, b.dataHash, b.data, b.signature])
    : encodeCbor([2, b.number, b.timestamp, b.channel ?? '', b.previousHash, b.dataHash, b.data, b.signature]);
}

/** Structure only; returns null when malformed. Signature and hash checks are `verifyBlock`'s job. The block
 * is frozen (with its data list): it is what was received, hashed and re-sent once, never edited. */
export function decodeBlock(bytes: Uint8Array): Readonly<Block> | null {
  try {
    const a = decodeCbor(bytes);
    if (!Array.isArray(a) || !((a[0] === 1 && a.length === 6) || (a[0] === 2 && a.length === 8))) return null;
    const v2 = a[0] === 2;
    const [number, previousHash, dataHash, data, signature] = v2 ? [a[1], a[4], a[5], a[6], a[7]] : a.slice(1);
    const timestamp = v2 ? a[2] : undefined;
    const channel = v2 ? a[3] : undefined;
    if (v2 && (typeof channel !== 'string' || utf8(channel).byteLength > MAX_CHANNEL_BYTES)) return null;
    if (!Number.isSafeInteger(number) || number < 0) return null;
    if (v2 && (!Number.isSafeInteger(timestamp) || timestamp < 0)) return null;
    if (!(previousHash instanceof Uint8Array) || previousHash.byteLength !== HASH_BYTES) return null;
    if (!(dataHash instanceof Uint8Array) || dataHash.byteLength !== HASH_BYTES) return null;
    if (!Array.isArray(data) || !data.every((d) => d instanceof Uint8Array)) return null;
    if (!(signature instanceof Uint8Array) || signature.byteLength !== 64) return null;
    const b: Block = { number, previousHash: plain(previousHash), dataHash: plain(dataHash), data: Object.freeze(data.map(plain)) as Uint8Array[], signature: plain(signature) };
    if (v2) {
      b.timestamp = timestamp;
      b.channel = channel;
    }
    Object.freeze(b);
    if (scanCbor(bytes, BLOCK_SHAPE).ok) sourceBytes.set(b, bytes);
    return b;
  } catch {
    return null;
  }
}

export type BlockCheck = { ok: true } | { ok: false; reason: 'bad-data-hash' | 'bad-block-signature' | 'bad-number' | 'bad-previous-hash' | 'bad-channel' };

/** Checks one block on its own: dataHash, orderer signature and (when given) number, chain link and channel
 * (a v2 block names its channel; v1 blocks, genesis only, do not). */
export function verifyBlock(
  b: Block,
  ordererPublicKey: Uint8Array,
  ed: Ed25519,
  expect?: { number?: number; previousHash?: Uint8Array; channel?: string },
): BlockCheck {
  if (expect?.number !== undefined && b.number !== expect.number) return { ok: false, reason: 'bad-number' };
  if (expect?.channel !== undefined && b.timestamp !== undefined && b.channel !== expect.channel) return { ok: false, reason: 'bad-channel' };
  if (expect?.previousHash && Buffer.compare(Buffer.from(expect.previousHash), Buffer.from(b.previousHash)) !== 0)
    return { ok: false, reason: 'bad-previous-hash' };
  if (Buffer.compare(Buffer.from(dataHashOf(b.data)), Buffer.from(b.dataHash)) !== 0) return { ok: false, reason: 'bad-data-hash' };
  if (!ed.verify(ordererPublicKey, headerOf(b), b.signature))
    return { ok: false, reason: 'bad-block-signature' };
  return { ok: true };
}
