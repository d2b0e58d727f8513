// The envelope: the exact payload bytes, a signature over them, the signer's PKI-ID, optionally the signer's
// certificate (so a receiver that has not met the signer can check it), and optionally the secret part
// (internal endpoint) with its own signature, which is stripped before the envelope leaves the org.
//   CBOR [1, payload: bytes, signature: bytes(64), signer: bytes(32), cert: bytes|null, secret: [bytes, bytes(64)]|null]
import { decodeCbor, encodeCbor } from './cbor.ts';
import type { Payload, Secret } from './messages.ts';
import type { LocalSigner } from '../crypto/signer.ts';

const ENVELOPE_VERSION = 1;

export interface RawEnvelope {
  payload: Uint8Array;
  signature: Uint8Array;
  signer: Uint8Array;
  cert: Uint8Array | null;
  secret: { payload: Uint8Array; signature: Uint8Array } | null;
}

export type EnvelopeParse = { ok: true; env: RawEnvelope } | { ok: false; reason: 'malformed-envelope' | 'bad-envelope'; detail: string };

export function parseEnvelope(bytes: Uint8Array): EnvelopeParse {
  let a: unknown;
  try {
    a = decodeCbor(bytes);
  } catch (e) {
    return { ok: false, reason: 'malformed-envelope', detail: (e as Error).message?.slice(0, 80) ?? 'cbor' };
  }
  const bad = (detail: string): EnvelopeParse => ({ ok: false, reason: 'bad-envelope', detail });
  if (!Array.isArray(a) || a.length !== 6) return bad('not a 6-element array');
  const [v, payload, signature, signer, cert, secret] = a;
  if (v !== ENVELOPE_VERSION) return bad('unknown envelope version');
  if (!(payload instanceof Uint8Array) || payload.byteLength === 0) return bad('payload');
  if (!(signature instanceof Uint8Array) || signature.byteLength !== 64) return bad('signature');
  if (!(signer instanceof Uint8Array) || signer.byteLength !== 32) return bad('signer');
  if (cert !== null && !(cert instanceof Uint8Array)) return bad('cert');
  let sec: RawEnvelope['secret'] = null;
  if (secret !== null) {
    if (!Array.isArray(secret) || secret.length !== 2) return bad('secret');
    const [sp, ss] = secret;
    if (!(sp instanceof Uint8Array) || sp.byteLength === 0 || !(ss instanceof Uint8Array) || ss.byteLength !== 64) return bad('secret');
    sec = { payload: sp, signature: ss };
  }
  return { ok: true, env: { payload, signature, signer, cert, secret: sec } };
}

export function encodeEnvelope(e: RawEnvelope): Uint8Array {
  return encodeCbor([
    ENVELOPE_VERSION,
    e.payload,
    e.signature,
    e.signer,
    e.cert,
    e.secret ? [e.secret.payload, e.secret.signature] : null,
  ]);
}

export interface SealOptions {
  /** Carry the signer's certificate (default true) so first contact needs no identity exchange. */
  withCert?: boolean;
  secret?: Secret;
}

/** Encodes and signs a payload. The signature covers the exact payload bytes that travel. */
export function seal(payload: Payload, signer: LocalSigner, opts: SealOptions = {}): Uint8Array {
  const p = encodeCbor(payload);
  let secret: RawEnvelope['secret'] = null;
  if (opts.secret) {
    const sp = encodeCbor({ internalEndpoint: opts.secret.internalEndpoint });
    secret = { payload: sp, signature: signer.sign(sp) };
  }
  return encodeEnvelope({
    payload: p,
    signature: signer.sign(p),
    signer: signer.identity.pkiId,
    cert: opts.withCert === false ? null : signer.identity.cert,
    secret,
  });
}

/** Removes the secret part (internal endpoint) before an envelope goes to another org. Payload and
 * signature are untouched, so the receiver verifies exactly what the originator signed. */
export function stripSecret(bytes: Uint8Array): Uint8Array {
  const r = parseEnvelope(bytes);
  if (!r.ok) throw new Error(`cannot strip a malformed envelope: ${r.detail}`);
  if (!r.env.secret) return bytes;
  return encodeEnvelope({ ...r.env, secret: null });
}
