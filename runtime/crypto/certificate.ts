// Certificates: murmur's MSP in miniature. An ed25519 CA per org signs a certificate per peer (and the
// ordering org's CA signs the orderer's). Encoding: CBOR [tbs, signature] where tbs is the CBOR array
// [version, role, mspId, subject, publicKey, notBefore, notAfter] (times in ms since the epoch).
// The signature covers the exact tbs bytes, so nothing is ever re-encoded to verify.
import { encodeCbor } from '../wire/cbor.ts';
import { parseSignedDocument } from './signed-cbor.ts';
import { concatBytes, sha256, toHex, utf8 } from '../util/bytes.ts';
import { PUBLIC_KEY_BYTES, type Ed25519 } from './ed25519.ts';

export type CertRole = 'ca' | 'peer' | 'orderer';
const ROLES: readonly CertRole[] = ['ca', 'peer', 'orderer'];
const CERT_VERSION = 1;
export const MAX_CERT_BYTES = 1024;

export interface CertFields {
  role: CertRole;
  mspId: string;
  subject: string;
  publicKey: Uint8Array;
  notBefore: number;
  notAfter: number;
}

export interface Certificate extends CertFields {
  /** The signed part, exactly as signed. */
  tbs: Uint8Array;
  signature: Uint8Array;
  /** The whole encoded certificate. */
  bytes: Uint8Array;
}

const NAME = /^[A-Za-z0-9_\-.:]{1,128}$/;

export function issueCertificate(fields: CertFields, issuerSecret: Uint8Array, ed: Ed25519): Certificate {
  if (!NAME.test(fields.mspId) || !NAME.test(fields.subject)) throw new Error(`bad certificate name ${fields.mspId}/${fields.subject}`);
  const tbs = encodeCbor([
    CERT_VERSION,
    fields.role,
    fields.mspId,
    fields.subject,
    fields.publicKey,
    fields.notBefore,
    fields.notAfter,
  ]);
  const signature = ed.sign(issuerSecret, tbs);
  return { ...fields, tbs, signature, bytes: encodeCbor([tbs, signature]) };
}

/** Parses a certificate's structure (not its signature). Returns null for anything malformed. */
export function parseCertificate(bytes: Uint8Array): Certificate | null {
  const doc = parseSignedDocument(bytes, MAX_CERT_BYTES, 7);
  if (!doc) return null;
  const [version, role, mspId, subject, publicKey, notBefore, notAfter] = doc.fields as [unknown, CertRole, unknown, unknown, unknown, unknown, unknown];
  if (version !== CERT_VERSION) return null;
  if (!ROLES.includes(role)) return null;
  if (typeof mspId !== 'string' || !NAME.test(mspId) || typeof subject !== 'string' || !NAME.test(subject)) return null;
  if (!(publicKey instanceof Uint8Array) || publicKey.byteLength !== PUBLIC_KEY_BYTES) return null;
  if (!Number.isSafeInteger(notBefore) || !Number.isSafeInteger(notAfter) || (notAfter as number) < (notBefore as number)) return null;
  return {
    role,
    mspId,
    subject,
    publicKey: new Uint8Array(publicKey),
    notBefore: notBefore as number,
    notAfter: notAfter as number,
    tbs: doc.tbs,
    signature: doc.signature,
    bytes: new Uint8Array(bytes),
  };
}

/** PKI-ID = SHA-256(mspId ‖ certificate bytes), as Fabric's MCS computes it over the serialized identity. */
export function pkiIdOf(mspId: string, certBytes: Uint8Array): Uint8Array {
  return sha256(concatBytes([utf8(mspId), certBytes]));
}

export function pkiIdHexOf(mspId: string, certBytes: Uint8Array): string {
  return toHex(pkiIdOf(mspId, certBytes));
}
