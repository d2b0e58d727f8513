// The envelope: the exact payload bytes, a signature over them, the signer's PKI-ID, optionally the signer's
// certificate (so a receiver that has not met the signer can check it), and optionally the secret part
// (internal endpoint) with its own signature, which is stripped before the envelope leaves the org.
//   CBOR [1, payload: bytes, signature: bytes(64), signer: bytes(32), cert: bytes|null, secret: [bytes, bytes(64)]|null]
// or, for a point-to-point message tagged with a pairwise key (runtime/crypto/session-keys.ts):
//   CBOR [2, payload: bytes, tag: bytes(16), signer: bytes(32), to: bytes(32), keyId: bytes(8)]
import { encodeCbor } from './cbor.ts';
import { readHead } from './cbor-scan.ts';
import type { Payload, PayloadKind, Secret } from './messages.ts';
import type { LocalSigner } from '../crypto/signer.ts';
import { KEY_ID_BYTES, MAC_TAG_BYTES, macTag, type DirectionKey } from '../crypto/session-keys.ts';

const ENVELOPE_VERSION = 1;
const MAC_ENVELOPE_VERSION = 2;

export interface RawEnvelope {
  payload: Uint8Array;
  /** The ed25519 signature over the payload, or (mac set) the 16-byte tag. */
  signature: Uint8Array;
  signer: Uint8Array;
  cert: Uint8Array | null;
  secret: { payload: Uint8Array; signature: Uint8Array } | null;
  /** A tagged envelope (version 2): its recipient and the id of the pairwise key; null when signed. */
  mac?: { to: Uint8Array; keyId: Uint8Array } | null;
}

/**
 * The kinds a tag may authenticate: point-to-point messages their recipient never forwards or serves to anyone
 * else as they are (a tag convinces only its recipient). A tagged data message is relayed down the tree under
 * the relay's own tag, and served by pull only as an envelope its keeper signs (BlockIntake.envelopeOf); the
 * block inside carries the orderer's signature either way. SWIM's probes (ping, ack, pingReq) are answered, never
 * passed on (a relayed ack is the relay's own). Alive, membership, suspect, leadership, StateInfo, identity
 * and session messages stay signed: they are forwarded, stored and served as they are.
 */
export const MAC_KINDS: ReadonlySet<PayloadKind> = new Set<PayloadKind>(['ping', 'ack', 'pingReq', 'data', 'ihave', 'graft', 'prune', 'hello', 'digest', 'request', 'update', 'stateReq', 'stateRes']);

export type EnvelopeParse = { ok: true; env: RawEnvelope } | { ok: false; reason: 'malformed-envelope' | 'bad-envelope'; detail: string };

/** Longest certificate an envelope may carry (an ed25519 certificate is a few hundred bytes). */
const MAX_CERT_BYTES = 4096;

/**
 * Reads the envelope's fixed shape by hand (cbor-scan.ts): no general decoder touches bytes before the signature
 * over them is checked, and the fields are views into `bytes`, not copies. Only the canonical encoding is
 * accepted (shortest heads, no trailing bytes), so a captured envelope cannot be re-encoded into new bytes that
 * miss the verify cache.
 */
export function parseEnvelope(bytes: Uint8Array): EnvelopeParse {
  // A cursor object, not closures: this runs for every message received, and closures would be created (and,
  // in the bundled CLI, named) on every call.
  const r = new Cursor(bytes);
  const top = r.head();
  if (!top) return { ok: false, reason: 'malformed-envelope', detail: 'not canonical CBOR' };
  if (top.major !== 4 || top.value !== 6) return bad('not a 6-element array');
  const v = r.head();
  if (!v || v.major !== 0 || (v.value !== ENVELOPE_VERSION && v.value !== MAC_ENVELOPE_VERSION)) return bad('unknown envelope version');
  const payload = r.bstr('payload');
  if (typeof payload === 'string') return bad(payload);
  if (payload.byteLength === 0) return bad('payload: empty');
  if (v.value === MAC_ENVELOPE_VERSION) return parseTagged(r, bytes, payload);
  const signature = r.bstr('signature', 64);
  if (typeof signature === 'string') return bad(signature);
  const signer = r.bstr('signer', 32);
  if (typeof signer === 'string') return bad(signer);
  let cert: Uint8Array | null = null;
  if (!r.isNull()) {
    const c = r.bstr('cert');
    if (typeof c === 'string') return bad(c);
    if (c.byteLength > MAX_CERT_BYTES) return bad(`cert: more than ${MAX_CERT_BYTES} bytes`);
    cert = c;
  }
  let sec: RawEnvelope['secret'] = null;
  if (!r.isNull()) {
    const h = r.head();
    if (!h || h.major !== 4 || h.value !== 2) return bad('secret');
    const sp = r.bstr('secret payload');
    if (typeof sp === 'string' || sp.byteLength === 0) return bad('secret');
    const ss = r.bstr('secret signature', 64);
    if (typeof ss === 'string') return bad('secret');
    sec = { payload: sp, signature: ss };
  }
  if (r.i !== bytes.length) return bad('trailing bytes');
  return { ok: true, env: { payload, signature, signer, cert, secret: sec, mac: null } };
}

function parseTagged(r: Cursor, bytes: Uint8Array, payload: Uint8Array): EnvelopeParse {
  const tag = r.bstr('tag', MAC_TAG_BYTES);
  if (typeof tag === 'string') return bad(tag);
  const signer = r.bstr('signer', 32);
  if (typeof signer === 'string') return bad(signer);
  const to = r.bstr('to', 32);
  if (typeof to === 'string') return bad(to);
  const keyId = r.bstr('keyId', KEY_ID_BYTES);
  if (typeof keyId === 'string') return bad(keyId);
  if (r.i !== bytes.length) return bad('trailing bytes');
  return { ok: true, env: { payload, signature: tag, signer, cert: null, secret: null, mac: { to, keyId } } };
}

function bad(detail: string): EnvelopeParse {
  return { ok: false, reason: 'bad-envelope', detail };
}

/** Reads canonical CBOR heads and byte strings from `bytes`, front to back. */
class Cursor {
  i = 0;
  constructor(private readonly bytes: Uint8Array) {}

  head(): ReturnType<typeof readHead> {
    const h = readHead(this.bytes, this.i, true);
    if (h) this.i = h.next;
    return h;
  }

  /** A byte string (of exactly `size` bytes if given) as a view, or what is wrong with it. */
  bstr(what: string, size?: number): Uint8Array | string {
    const h = this.head();
    if (!h) return `${what}: not canonical CBOR`;
    if (h.major !== 2) return `${what}: not a byte string`;
    if (size !== undefined && h.value !== size) return `${what}: ${h.value} bytes, not ${size}`;
    if (this.i + h.value > this.bytes.length) return `${what}: truncated`;
    const v = this.bytes.subarray(this.i, this.i + h.value);
    this.i += h.value;
    return v;
  }

  isNull(): boolean {
    if (this.bytes[this.i] !== 0xf6) return false;
    this.i++;
    return true;
  }
}

/** The envelope's payload signature (a view), or null if `bytes` is no envelope: identical signatures mean the
 * same signed message, so receivers use it to skip what they already hold before any decoding. */
export function envelopeSignature(bytes: Uint8Array): Uint8Array | null {
  const e = parseEnvelope(bytes);
  return e.ok ? e.env.signature : null;
}

/**
 * Writes the envelope's fixed shape by hand, the mirror of parseEnvelope: one allocation of the exact size and
 * one copy of the payload. The general encoder would copy the payload (a 4 KB block, for a data message) into
 * its buffer and then out again. The bytes are the canonical CBOR the general encoder gives (shortest heads),
 * which a unit test checks against it.
 */
export function encodeEnvelope(e: RawEnvelope): Uint8Array {
  if (e.mac) return encodeArray(MAC_ENVELOPE_VERSION, [e.payload, e.signature, e.signer, e.mac.to, e.mac.keyId]);
  return encodeArray(ENVELOPE_VERSION, [e.payload, e.signature, e.signer, e.cert, e.secret ? [e.secret.payload, e.secret.signature] : null]);
}

/** An envelope item: a byte string, null, or a pair of byte strings (the secret part). */
type Item = Uint8Array | null | readonly [Uint8Array, Uint8Array];

/** [version, ...items] as canonical CBOR: sized first, then written into one buffer of that size. */
function encodeArray(version: number, items: readonly Item[]): Uint8Array {
  let n = 2; // array head (< 24 items), version (< 24)
  for (const x of items) n += x === null ? 1 : x instanceof Uint8Array ? bstrSize(x) : 1 + bstrSize(x[0]) + bstrSize(x[1]);
  const out = new Uint8Array(n);
  out[0] = 0x80 | (items.length + 1);
  out[1] = version;
  let i = 2;
  for (const x of items) {
    if (x === null) out[i++] = 0xf6;
    else if (x instanceof Uint8Array) i = writeBstr(out, i, x);
    else {
      out[i++] = 0x82;
      i = writeBstr(out, writeBstr(out, i, x[0]), x[1]);
    }
  }
  return out;
}

/** Writes a byte string (shortest head, then its bytes) at `i`; returns where it ends. */
function writeBstr(out: Uint8Array, i: number, b: Uint8Array): number {
  const len = b.byteLength;
  if (len < 24) out[i++] = 0x40 | len;
  else if (len < 0x100) {
    out[i++] = 0x58;
    out[i++] = len;
  } else if (len < 0x10000) {
    out[i++] = 0x59;
    out[i++] = len >>> 8;
    out[i++] = len & 0xff;
  } else {
    out[i++] = 0x5a;
    out[i++] = len >>> 24;
    out[i++] = (len >>> 16) & 0xff;
    out[i++] = (len >>> 8) & 0xff;
    out[i++] = len & 0xff;
  }
  out.set(b, i);
  return i + len;
}

/** Encoded size of a byte string: its head (shortest form; messages stay far below 4 GiB) and its bytes. */
function bstrSize(b: Uint8Array): number {
  const len = b.byteLength;
  return len + (len < 24 ? 1 : len < 0x100 ? 2 : len < 0x10000 ? 3 : 5);
}

export interface SealOptions {
  /** Carry the signer's certificate (default true) so first contact needs no identity exchange. */
  withCert?: boolean;
  secret?: Secret;
}

/** Encodes and signs a payload. The signature covers the exact payload bytes that travel. */
// The payload kind of envelopes this process sealed or verified, keyed by the bytes object: what the metrics
// count a send under, so counting never decodes an envelope again (unknown bytes count as 'unknown').
const kinds = new WeakMap<Uint8Array, string>();

/** Payload kind of an envelope this process sealed, verified or stripped; null for bytes it never saw. */
export function envelopeKind(bytes: Uint8Array): string | null {
  return kinds.get(bytes) ?? null;
}

/** Records the kind of verified envelope bytes (the codec, after decoding them once). */
export function noteEnvelopeKind(bytes: Uint8Array, kind: string): void {
  kinds.set(bytes, kind);
}

export function seal(payload: Payload, signer: LocalSigner, opts: SealOptions = {}): Uint8Array {
  const p = encodeCbor(payload);
  const secret = opts.secret ? signedSecret(signer, opts.secret.internalEndpoint) : null;
  const bytes = encodeEnvelope({
    payload: p,
    signature: signer.sign(p),
    signer: signer.identity.pkiId,
    cert: opts.withCert === false ? null : signer.identity.cert,
    secret,
  });
  kinds.set(bytes, payload.t);
  return bytes;
}

/** Whether these bytes are a tagged (version 2) envelope: its head is a 6-item array, then the version. */
export function isTagged(bytes: Uint8Array): boolean {
  return bytes.length > 1 && bytes[0] === 0x86 && bytes[1] === MAC_ENVELOPE_VERSION;
}

/**
 * Tags an encoded payload for one recipient with the pairwise key this peer agreed with it (a MAC_KINDS
 * payload only: the codec refuses any other kind under a tag).
 */
export function sealTagged(kind: PayloadKind, payload: Uint8Array, signer: Uint8Array, to: Uint8Array, key: DirectionKey): Uint8Array {
  const bytes = encodeEnvelope({ payload, signature: macTag(key.key, payload), signer, cert: null, secret: null, mac: { to, keyId: key.keyId } });
  kinds.set(bytes, kind);
  return bytes;
}

/** The last secret part each signer signed: a peer's internal endpoint rarely changes, and ed25519 signatures
 * are deterministic, so every heartbeat would sign the same bytes to the same signature again. */
const secrets = new WeakMap<LocalSigner, { endpoint: string; secret: NonNullable<RawEnvelope['secret']> }>();

function signedSecret(signer: LocalSigner, endpoint: string): NonNullable<RawEnvelope['secret']> {
  const last = secrets.get(signer);
  if (last && last.endpoint === endpoint) return last.secret;
  const payload = encodeCbor({ internalEndpoint: endpoint });
  const secret = { payload, signature: signer.sign(payload) };
  secrets.set(signer, { endpoint, secret });
  return secret;
}

/** Removes the secret part (internal endpoint) before an envelope goes to another org. Payload and
 * signature are untouched, so the receiver verifies exactly what the originator signed. */
export function stripSecret(bytes: Uint8Array): Uint8Array {
  const r = parseEnvelope(bytes);
  if (!r.ok) throw new Error(`cannot strip a malformed envelope: ${r.detail}`);
  if (!r.env.secret || r.env.mac) return bytes;
  const stripped = encodeEnvelope({ ...r.env, secret: null });
  const kind = kinds.get(bytes);
  if (kind) kinds.set(stripped, kind);
  return stripped;
}
