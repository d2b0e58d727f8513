// Pairwise message keys agreed under signatures: murmur's counterpart of the TLS session Fabric's gossip
// streams run in, for the point-to-point messages that are never forwarded or served again.
//   Each peer incarnation draws one X25519 key pair (from its injected randomness) and puts the public half in
//   its signed session probe and answer (actors/session.actor.ts). From a peer's signed key and its own, a peer
//   derives two keys per pair and direction: HKDF-SHA256 over the X25519 secret, with both PKI-IDs, incarnations
//   and public keys in the info, the sender's first. A message A→B then carries HMAC-SHA256(key A→B, payload)
//   truncated to 128 bits instead of an ed25519 signature (envelope v2, envelope.ts), and a key id (a hash of
//   both public keys) so a stale key is told apart from a forgery.
// Why this keeps "every message is authenticated to its sender": only A and B can compute the A→B key (the
//   X25519 secret of two keys each signed by its owner's certified identity, fresh per incarnation), so a valid
//   tag proves A sent it to B. The B→A key differs, so a message cannot be reflected to its sender; the
//   recipient's PKI-ID travels in the envelope and is checked, so it cannot be redirected to a third peer. A tag
//   convinces only its recipient, so the codec accepts it only for kinds nobody forwards or serves again
//   (MAC_KINDS in envelope.ts); everything else stays signed. Replays within one incarnation pair are what
//   replays of signed messages are today (each kind's own dedupe and limits); a new incarnation means new keys.
// A peer MACs to another only once its own probe was answered with that peer's key (so the recipient holds
// this peer's key too); before that, and for anyone it has no key for, it signs. Bounded like the bindings.
import { createHash, createHmac, createPrivateKey, createPublicKey, diffieHellman, hkdfSync, timingSafeEqual, type KeyObject } from 'node:crypto';
import { Lru } from '../util/lru.ts';
import { bytesEqual } from '../util/bytes.ts';

export const DH_PUBLIC_BYTES = 32;
export const MAC_TAG_BYTES = 16;
export const KEY_ID_BYTES = 8;

// DER wrappers of raw X25519 keys (RFC 8410): node imports keys only in a container format.
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');
const SALT = Buffer.from('murmur/session-keys/v1');

export interface PeerKey {
  pkiId: Uint8Array;
  incNum: number;
  /** The peer's X25519 public key, as its signed probe or answer carried it. */
  dh: Uint8Array;
}

/** One direction's key, the id both ends compute for it, and the PKI-ID of the other end. */
export interface DirectionKey {
  key: Buffer;
  keyId: Uint8Array;
  peer: Uint8Array;
}

interface PairKeys {
  incNum: number;
  dh: Uint8Array;
  send: DirectionKey;
  recv: DirectionKey;
  /** This peer's probe to that incarnation was answered: it holds this peer's key, so sending may use a tag. */
  confirmed: boolean;
}

export interface SessionKeyStats {
  agreed: number;
  /** Public keys that gave no shared secret (low-order points): that peer stays on signatures. */
  refusedKeys: number;
}

export class SessionKeys {
  readonly publicKey: Uint8Array;
  readonly stats: SessionKeyStats = { agreed: 0, refusedKeys: 0 };
  private readonly privateKey: KeyObject;
  private readonly pairs: Lru<string, PairKeys>;

  /** `seed`: 32 bytes from the peer's randomness (seeded in simulation, crypto-random in a process). */
  constructor(
    private readonly self: { pkiId: Uint8Array; incNum: number },
    seed: Uint8Array,
    max = 10_000,
  ) {
    if (seed.byteLength !== 32) throw new Error('session key seed: 32 bytes');
    this.privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_X25519, seed]), format: 'der', type: 'pkcs8' });
    this.publicKey = new Uint8Array(createPublicKey(this.privateKey).export({ format: 'der', type: 'spki' }).subarray(SPKI_X25519.length));
    this.pairs = new Lru(max);
  }

  /**
   * Takes a peer's public key from a message that peer signed (a probe or an answer). A newer incarnation
   * replaces the keys (unconfirmed); an older one, or a different key claimed for the same incarnation, changes
   * nothing. True when the keys are new.
   */
  learn(pkiIdHex: string, peer: PeerKey): boolean {
    const held = this.pairs.peek(pkiIdHex);
    if (held && held.incNum >= peer.incNum) return false;
    const keys = this.derive(peer);
    if (!keys) {
      this.stats.refusedKeys++;
      return false;
    }
    this.pairs.set(pkiIdHex, { incNum: peer.incNum, dh: new Uint8Array(peer.dh), ...keys, confirmed: false });
    this.stats.agreed++;
    return true;
  }

  /** This peer's probe was answered by that incarnation, carrying the key learned: tags may be sent to it. */
  confirm(pkiIdHex: string, incNum: number, dh: Uint8Array): void {
    const held = this.pairs.peek(pkiIdHex);
    if (held && held.incNum === incNum && bytesEqual(held.dh, dh)) held.confirmed = true;
  }

  forget(pkiIdHex: string): void {
    this.pairs.delete(pkiIdHex);
  }

  /** The key to tag messages to that peer with, once confirmed; null: sign instead. */
  sendKey(pkiIdHex: string): DirectionKey | null {
    const p = this.pairs.peek(pkiIdHex);
    return p?.confirmed ? p.send : null;
  }

  /** The key that peer tags its messages to this one with (null: none agreed). */
  recvKey(pkiIdHex: string): DirectionKey | null {
    return this.pairs.peek(pkiIdHex)?.recv ?? null;
  }

  private derive(peer: PeerKey): { send: DirectionKey; recv: DirectionKey } | null {
    let secret: Buffer;
    try {
      const pub = createPublicKey({ key: Buffer.concat([SPKI_X25519, peer.dh]), format: 'der', type: 'spki' });
      secret = diffieHellman({ privateKey: this.privateKey, publicKey: pub });
    } catch {
      return null;
    }
    const me: PeerKey = { pkiId: this.self.pkiId, incNum: this.self.incNum, dh: this.publicKey };
    // Copies (a Buffer's slice would be a view keeping the whole received message alive).
    const other = new Uint8Array(peer.pkiId);
    return { send: { ...directionKey(secret, me, peer), peer: other }, recv: { ...directionKey(secret, peer, me), peer: other } };
  }
}

/** The key for messages from `from` to `to`, and its id (a hash of both public keys, the sender's first). */
function directionKey(secret: Buffer, from: PeerKey, to: PeerKey): Omit<DirectionKey, 'peer'> {
  const info = Buffer.concat([Buffer.from('mac'), from.pkiId, u64(from.incNum), from.dh, to.pkiId, u64(to.incNum), to.dh]);
  const key = Buffer.from(hkdfSync('sha256', secret, SALT, info, 32));
  const keyId = new Uint8Array(createHash('sha256').update('murmur/key-id/v1').update(from.dh).update(to.dh).digest().subarray(0, KEY_ID_BYTES));
  return { key, keyId };
}

function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

/** The tag of a payload under a direction key. */
export function macTag(key: Buffer, payload: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha256', key).update(payload).digest().subarray(0, MAC_TAG_BYTES));
}

/** Constant-time check of a received tag. */
export function macValid(key: Buffer, payload: Uint8Array, tag: Uint8Array): boolean {
  if (tag.byteLength !== MAC_TAG_BYTES) return false;
  const want = createHmac('sha256', key).update(payload).digest().subarray(0, MAC_TAG_BYTES);
  return timingSafeEqual(want, tag);
}
