// A cheap deterministic stand-in behind the signing port, for large simulated runs only:
//   publicKey = SHA-256("murmur-sim" ‖ secret), signature = SHA-512(publicKey ‖ message).
// It is NOT secure (anyone who knows a public key can sign for it), so tests about rejecting forgeries use
// the real ed25519 port. It keeps every byte on the wire the same size as the real thing.
import { createHash } from 'node:crypto';
import type { Ed25519 } from '../crypto/ed25519.ts';

const sha = (alg: 'sha256' | 'sha512', ...parts: Uint8Array[]): Uint8Array => {
  const h = createHash(alg);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};
const DOMAIN = new TextEncoder().encode('murmur-sim');

export const simEd25519: Ed25519 = {
  name: 'node',
  publicKey: (secret) => sha('sha256', DOMAIN, secret),
  sign: (secret, msg) => sha('sha512', sha('sha256', DOMAIN, secret), msg),
  verify(pub, msg, sig) {
    if (pub.byteLength !== 32 || sig.byteLength !== 64) return false;
    return Buffer.from(sha('sha512', pub, msg)).equals(Buffer.from(sig));
  },
};
