// Micro figures, single-threaded, each loop run for `ms` after a short warm-up:
//   ed25519 sign / verify per second of a block header (87 bytes), noble (@noble/curves) vs node:crypto
//     (runtime/crypto/ed25519.ts; node's verify with its cached key object, as the codec uses it)
//   encode / decode per second of a block with one 4 KB transaction: murmur's CBOR block encoding
//     (runtime/ledger/block.ts) vs JSON with the byte fields as base64 (JSON has no bytes), both round trips
//     back to the same Block
import { nobleEd25519, nodeEd25519, randomSecretKey, type Ed25519 } from '../../runtime/crypto/ed25519.ts';
import { blockHash, decodeBlock, encodeBlock, headerBytes, makeBlock, ZERO_HASH, type Block } from '../../runtime/ledger/block.ts';
import { tx } from './stats.ts';

export interface MicroResult {
  sign_per_s: { noble: number; node: number };
  verify_per_s: { noble: number; node: number };
  block_bytes: { cbor: number; json: number };
  encode_per_s: { cbor: number; json: number };
  decode_per_s: { cbor: number; json: number };
}

function opsPerSecond(fn: () => void, ms: number): number {
  const warm = performance.now() + Math.min(200, ms / 5);
  while (performance.now() < warm) fn();
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    for (let i = 0; i < 16; i++) fn();
    n += 16;
    t = performance.now();
  }
  return Math.round((n * 1000) / (t - t0));
}

const b64 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const toJson = (b: Block) =>
  JSON.stringify({ number: b.number, previousHash: b64(b.previousHash), dataHash: b64(b.dataHash), data: b.data.map(b64), signature: b64(b.signature) });
const fromJson = (s: string): Block => {
  const o = JSON.parse(s) as { number: number; previousHash: string; dataHash: string; data: string[]; signature: string };
  return { number: o.number, previousHash: unb64(o.previousHash), dataHash: unb64(o.dataHash), data: o.data.map(unb64), signature: unb64(o.signature) };
};

export function measureMicro(ms = 1000, txBytes = 4096): MicroResult {
  const secret = randomSecretKey();
  const node = nodeEd25519();
  const pub = nobleEd25519.publicKey(secret);
  const block = makeBlock(1, blockHash({ number: 0, previousHash: ZERO_HASH, dataHash: ZERO_HASH }), [tx(1, txBytes)], (m) => node.sign(secret, m));
  const header = headerBytes(block.number, block.previousHash, block.dataHash);
  const sig = node.sign(secret, header);
  const signRate = (ed: Ed25519) => opsPerSecond(() => ed.sign(secret, header), ms);
  const verifyRate = (ed: Ed25519) =>
    opsPerSecond(() => {
      if (!ed.verify(pub, header, sig)) throw new Error('micro: verify failed');
    }, ms);
  const cbor = encodeBlock(block);
  const json = toJson(block);
  if (decodeBlock(cbor)?.number !== 1 || fromJson(json).data[0]!.byteLength !== txBytes) throw new Error('micro: round trip failed');
  return {
    sign_per_s: { noble: signRate(nobleEd25519), node: signRate(node) },
    verify_per_s: { noble: verifyRate(nobleEd25519), node: verifyRate(node) },
    block_bytes: { cbor: cbor.byteLength, json: Buffer.byteLength(json) },
    encode_per_s: { cbor: opsPerSecond(() => encodeBlock(block), ms), json: opsPerSecond(() => toJson(block), ms) },
    decode_per_s: { cbor: opsPerSecond(() => decodeBlock(cbor), ms), json: opsPerSecond(() => fromJson(json), ms) },
  };
}
