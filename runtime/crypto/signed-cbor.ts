// The shape murmur's signed documents share (certificates, revocation lists): CBOR [tbs, signature], where tbs is
// the CBOR array of the fields exactly as signed, so nothing is re-encoded to verify.
import { decodeCbor } from '../wire/cbor.ts';
import { SIGNATURE_BYTES } from './ed25519.ts';

export interface SignedDocument {
  /** The signed bytes, a copy (the document outlives the buffer it came in). */
  tbs: Uint8Array;
  signature: Uint8Array;
  /** The decoded tbs array. */
  fields: unknown[];
}

/** Splits a signed document of `fieldCount` fields, at most `maxBytes` long; null for anything else. Checks
 * the structure only, not the signature. */
export function parseSignedDocument(bytes: Uint8Array, maxBytes: number, fieldCount: number): SignedDocument | null {
  if (!(bytes instanceof Uint8Array) || bytes.byteLength > maxBytes) return null;
  try {
    const outer = decodeCbor(bytes);
    if (!Array.isArray(outer) || outer.length !== 2) return null;
    const [tbs, signature] = outer;
    if (!(tbs instanceof Uint8Array) || !(signature instanceof Uint8Array) || signature.byteLength !== SIGNATURE_BYTES) return null;
    const fields = decodeCbor(tbs);
    if (!Array.isArray(fields) || fields.length !== fieldCount) return null;
    return { tbs: new Uint8Array(tbs), signature: new Uint8Array(signature), fields };
  } catch {
    return null;
  }
}
