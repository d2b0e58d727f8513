// The local peer's signing identity: its certificate plus the secret key that matches it.
import type { Identity } from '../wire/messages.ts';
import { parseCertificate } from './certificate.ts';
import type { Ed25519 } from './ed25519.ts';
import { identityOf } from './msp.ts';
import { bytesEqual } from '../util/bytes.ts';

export interface LocalSigner {
  readonly identity: Identity;
  sign(msg: Uint8Array): Uint8Array;
}

export function localSigner(certBytes: Uint8Array, secret: Uint8Array, ed: Ed25519): LocalSigner {
  const cert = parseCertificate(certBytes);
  if (!cert) throw new Error('the certificate is malformed');
  if (!bytesEqual(ed.publicKey(secret), cert.publicKey)) throw new Error(`the key does not match the certificate of ${cert.subject}`);
  const identity = identityOf(cert);
  return { identity, sign: (msg) => ed.sign(secret, msg) };
}
