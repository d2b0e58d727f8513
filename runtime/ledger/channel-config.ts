// A channel's configuration, carried as the only transaction of its genesis block (block 0): the member
// orgs with their CA certificates, the anchor peers, and the ordering service's CA and certificate.
// A peer is given the genesis block by path; everything it trusts for the channel comes from here.
import { decodeCbor, encodeCbor } from '../wire/cbor.ts';
import { parseCertificate } from '../crypto/certificate.ts';
import type { Ed25519 } from '../crypto/ed25519.ts';
import { decodeBlock, encodeBlock, makeBlock, verifyBlock, ZERO_HASH, type Block } from './block.ts';
import { readFileSync } from 'node:fs';

export interface OrgConfig {
  mspId: string;
  caCert: Uint8Array;
}
export interface AnchorPeer {
  mspId: string;
  endpoint: string;
}
export interface ChannelConfig {
  channel: string;
  orgs: OrgConfig[];
  anchorPeers: AnchorPeer[];
  orderer: { mspId: string; caCert: Uint8Array; cert: Uint8Array };
}

const CONFIG_VERSION = 1;

export function encodeChannelConfig(c: ChannelConfig): Uint8Array {
  return encodeCbor([
    CONFIG_VERSION,
    c.channel,
    c.orgs.map((o) => [o.mspId, o.caCert]),
    c.anchorPeers.map((a) => [a.mspId, a.endpoint]),
    [c.orderer.mspId, c.orderer.caCert, c.orderer.cert],
  ]);
}

export function decodeChannelConfig(bytes: Uint8Array): ChannelConfig {
  let a: unknown;
  try {
    a = decodeCbor(bytes);
  } catch {
    throw new Error('malformed channel config');
  }
  if (!Array.isArray(a) || a.length !== 5 || a[0] !== CONFIG_VERSION) throw new Error('malformed channel config');
  const [, channel, orgs, anchors, orderer] = a;
  const str = (x: unknown): string => {
    if (typeof x !== 'string' || !x) throw new Error('malformed channel config');
    return x;
  };
  const bytesOf = (x: unknown): Uint8Array => {
    if (!(x instanceof Uint8Array)) throw new Error('malformed channel config');
    return new Uint8Array(x);
  };
  const list = (x: unknown): unknown[][] => {
    if (!Array.isArray(x) || !x.every(Array.isArray)) throw new Error('malformed channel config');
    return x as unknown[][];
  };
  if (!Array.isArray(orderer) || orderer.length !== 3) throw new Error('malformed channel config');
  return {
    channel: str(channel),
    orgs: list(orgs).map((o) => ({ mspId: str(o[0]), caCert: bytesOf(o[1]) })),
    anchorPeers: list(anchors).map((x) => ({ mspId: str(x[0]), endpoint: str(x[1]) })),
    orderer: { mspId: str(orderer[0]), caCert: bytesOf(orderer[1]), cert: bytesOf(orderer[2]) },
  };
}

export function makeGenesisBlock(config: ChannelConfig, ordererSign: (msg: Uint8Array) => Uint8Array): Block {
  return makeBlock(0, ZERO_HASH, [encodeChannelConfig(config)], ordererSign);
}

export interface Genesis {
  block: Block;
  bytes: Uint8Array;
  config: ChannelConfig;
  ordererPublicKey: Uint8Array;
}

/** Decodes and checks a genesis block: number 0, zero previous hash, its orderer certificate issued by its
 * orderer CA, and the block signed by that orderer. Throws with a clear message otherwise. */
export function openGenesis(bytes: Uint8Array, ed: Ed25519, expectChannel?: string): Genesis {
  const block = decodeBlock(bytes);
  if (!block) throw new Error('genesis block is malformed');
  if (block.number !== 0 || block.data.length !== 1) throw new Error('not a genesis block (number 0 with one config transaction)');
  const config = decodeChannelConfig(block.data[0]!);
  if (expectChannel && config.channel !== expectChannel)
    throw new Error(`genesis block is for channel ${config.channel}, expected ${expectChannel}`);
  const ca = parseCertificate(config.orderer.caCert);
  const cert = parseCertificate(config.orderer.cert);
  if (!ca || ca.role !== 'ca' || !ed.verify(ca.publicKey, ca.tbs, ca.signature)) throw new Error('genesis: bad orderer CA certificate');
  if (!cert || cert.role !== 'orderer' || cert.mspId !== ca.mspId || !ed.verify(ca.publicKey, cert.tbs, cert.signature))
    throw new Error('genesis: orderer certificate not issued by the orderer CA');
  const check = verifyBlock(block, cert.publicKey, ed, { number: 0, previousHash: ZERO_HASH });
  if (!check.ok) throw new Error(`genesis: ${check.reason}`);
  return { block, bytes: encodeBlock(block), config, ordererPublicKey: cert.publicKey };
}

export function readGenesis(path: string, ed: Ed25519, expectChannel?: string): Genesis {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new Error(`cannot read genesis block ${path}: ${(e as Error).message}`);
  }
  try {
    return openGenesis(bytes, ed, expectChannel);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}
