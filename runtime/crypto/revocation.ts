// Revocation lists: an org's CA names the certificates it no longer vouches for (Fabric's CRLs in an MSP).
// Encoding: CBOR [tbs, signature], tbs = CBOR [version, mspId, issuedAt (ms), [PKI-ID …]], signed by the org's
// CA key. A list is self-authenticating (only the CA of the org it names can sign it), so it may arrive over any
// path; a list replaces the org's previous one only when it was issued later, so an old list replayed cannot
// un-revoke anyone. PKI-IDs name certificates (murmur's certificates carry no serial number): SHA-256 of the
// MSP id and the certificate bytes, the same id every message's signer field carries.
import { encodeCbor } from '../wire/cbor.ts';
import { parseSignedDocument } from './signed-cbor.ts';
import { toHex } from '../util/bytes.ts';
import type { Ed25519 } from './ed25519.ts';

const CRL_VERSION = 1;
/** Entries one list may name; past it the list is refused (a CA revoking more issues a new CA). */
export const MAX_REVOKED = 10_000;
const PKI_ID_BYTES = 32;
export const MAX_CRL_BYTES = 64 + MAX_REVOKED * (PKI_ID_BYTES + 2) + 256;

export interface RevocationList {
  mspId: string;
  issuedAt: number;
  /** Revoked PKI-IDs, hex. */
  revoked: string[];
  tbs: Uint8Array;
  signature: Uint8Array;
}

export function issueRevocationList(o: { mspId: string; issuedAt: number; revoked: Uint8Array[] }, caSecret: Uint8Array, ed: Ed25519): Uint8Array {
  if (o.revoked.length > MAX_REVOKED) throw new Error(`a revocation list names at most ${MAX_REVOKED} certificates`);
  const tbs = encodeCbor([CRL_VERSION, o.mspId, o.issuedAt, o.revoked]);
  return encodeCbor([tbs, ed.sign(caSecret, tbs)]);
}

/** The list's structure (not its signature: the trust store checks that against the org's CA). Null if malformed. */
export function parseRevocationList(bytes: Uint8Array): RevocationList | null {
  const doc = parseSignedDocument(bytes, MAX_CRL_BYTES, 4);
  if (!doc) return null;
  const [version, mspId, issuedAt, revoked] = doc.fields;
  if (version !== CRL_VERSION || typeof mspId !== 'string' || !Number.isSafeInteger(issuedAt) || !Array.isArray(revoked)) return null;
  if (revoked.length > MAX_REVOKED || !revoked.every((p) => p instanceof Uint8Array && p.byteLength === PKI_ID_BYTES)) return null;
  return { mspId, issuedAt: issuedAt as number, revoked: revoked.map((p: Uint8Array) => toHex(p)), tbs: doc.tbs, signature: doc.signature };
}
