// The signing port: two ed25519 implementations that agree on every key and signature.
// noble is the reference (and generates keys); node:crypto's native ed25519 verifies 14-19x faster
// here, so hot paths use it with cached key objects.
import { ed25519 } from '@noble/curves/ed25519.js';
import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { Lru } from '../util/lru.ts';

export interface Ed25519 {
  readonly name: 'noble' | 'node';
  publicKey(secret: Uint8Array): Uint8Array;
  sign(secret: Uint8Array, msg: Uint8Array): Uint8Array;
  verify(publicKey: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean;
}

export const PUBLIC_KEY_BYTES = 32;
export const SECRET_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;

export const nobleEd25519: Ed25519 = {
  name: 'noble',
  publicKey: (secret) => ed25519.getPublicKey(secret),
  sign: (secret, msg) => ed25519.sign(msg, secret),
  verify(publicKey, msg, sig) {
    if (publicKey.byteLength !== PUBLIC_KEY_BYTES || sig.byteLength !== SIGNATURE_BYTES) return false;
    try {
      return ed25519.verify(sig, msg, publicKey);
    } catch {
      return false;
    }
  },
};

// DER prefixes that wrap a raw 32-byte key as SPKI (public) or PKCS#8 (secret seed).
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** node:crypto ed25519 with bounded caches of parsed key objects (parsing costs more than verifying). */
export function nodeEd25519(cacheSize = 4096): Ed25519 {
  const pubs = new Lru<string, KeyObject>(cacheSize);
  const secrets = new Lru<string, KeyObject>(64);
  const pubKey = (raw: Uint8Array): KeyObject => {
    const k = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64');
    let ko = pubs.get(k);
    if (!ko) {
      ko = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
      pubs.set(k, ko);
    }
    return ko;
  };
  const secretKey = (raw: Uint8Array): KeyObject => {
    const k = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64');
    let ko = secrets.get(k);
    if (!ko) {
      ko = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' });
      secrets.set(k, ko);
    }
    return ko;
  };
  return {
    name: 'node',
    publicKey(secret) {
      const der = createPublicKey(secretKey(secret)).export({ format: 'der', type: 'spki' });
      return new Uint8Array(der.subarray(SPKI_PREFIX.length));
    },
    sign: (secret, msg) => new Uint8Array(nodeSign(null, msg, secretKey(secret))),
    verify(publicKey, msg, sig) {
      if (publicKey.byteLength !== PUBLIC_KEY_BYTES || sig.byteLength !== SIGNATURE_BYTES) return false;
      try {
        return nodeVerify(null, msg, pubKey(publicKey), sig);
      } catch {
        return false;
      }
    },
  };
}

export function ed25519Impl(name: 'noble' | 'node', cacheSize?: number): Ed25519 {
  return name === 'noble' ? nobleEd25519 : nodeEd25519(cacheSize);
}

/** A fresh random secret key (noble, from the OS CSPRNG). */
export function randomSecretKey(): Uint8Array {
  return ed25519.utils.randomSecretKey();
}
