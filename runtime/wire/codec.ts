// The inbound edge, cheapest refusal first, and nothing decoded before it is known to be signed by a member:
//   bytes → size → envelope (fixed shape read by hand, canonical only: envelope.ts) → signer (a known identity,
//   or a certificate chaining to an org CA, valid now, PKI-ID matching) → signature (and the secret's) →
//   payload structure measured (cbor-scan.ts) → decoded → validated → claimed originator = signer → Verified.
// A tagged envelope (version 2, a pairwise key instead of a signature: runtime/crypto/session-keys.ts) takes the
// same path with the signature check replaced: addressed to this peer, from a known identity (certificate,
// expiry, revocation and role as above), under the key this peer agreed with it, with a valid tag; then
// measured, decoded and validated as above, and refused unless its kind is one a tag may carry (MAC_KINDS).
// Every refusal is counted by reason and returned, never thrown. Successful signature checks are cached by what
// is signed (signer, signature, payload, secret; bounded), since gossip delivers the same message several times,
// with or without its certificate. Peers in one process (`murmur up --in-process`) may share that cache: whether
// the signatures verify depends on those bytes alone (the signer's key is named by its PKI-ID, a hash of MSP id
// and certificate), and each codec still checks the signer against its own trust store before it looks there.
import { createHash } from 'node:crypto';
import type { DecodeResult, Identity, InboundDecoder, RejectReason, Secret } from './messages.ts';
import { MAC_KINDS, noteEnvelopeKind, parseEnvelope } from './envelope.ts';
import { macValid, type DirectionKey } from '../crypto/session-keys.ts';
import { decodeCbor } from './cbor.ts';
import { claimedOriginator, LIMITS, validatePayload } from './validate.ts';
import { scanCbor, type ScanLimits } from './cbor-scan.ts';
import { RejectionCounter } from './rejections.ts';
import type { TrustStore } from '../crypto/msp.ts';
import type { Ed25519 } from '../crypto/ed25519.ts';
import { Lru } from '../util/lru.ts';
import { bytesEqual, toHex } from '../util/bytes.ts';
import { isChannelWide } from '../transport/subjects.ts';

export interface CodecOptions {
  trust: TrustStore;
  ed: Ed25519;
  now: () => number;
  /** Largest accepted message in bytes (min of peer.maxRecvMsgSize and the bus's max_payload). */
  maxBytes: number;
  verifyCacheSize?: number;
  /** A verified-envelope cache shared with other codecs (verifyCacheSize is then ignored). */
  verifiedCache?: Lru<string, true>;
  identityCacheSize?: number;
  /** The receiving peer's org and its channel-wide subjects. An externally visible peer publishes its alive
   * messages and StateInfo on its org's subject and again on the channel-wide one for the other orgs; a peer of
   * the same org hears both, so the channel-wide copy of an own-org message is dropped once its signature is
   * checked (a forgery is still refused and counted as one), before its payload is measured or decoded. */
  ownOrg?: { mspId: string; prefix: string };
}

/** The receiving peer's pairwise keys (its session table), for tagged envelopes. */
export interface TagKeys {
  /** This peer's PKI-ID: a tagged envelope must name it as recipient. */
  self: Uint8Array;
  /** The key `pkiIdHex` tags its messages to this peer with, or null. */
  recvKey(pkiIdHex: string): DirectionKey | null;
}

export interface CodecStats {
  decoded: number;
  verifications: number;
  cacheHits: number;
  /** Payloads handed to the CBOR decoder: only signed ones of known senders, within PAYLOAD_LIMITS. */
  payloadDecodes: number;
  /** Channel-wide copies of own-org messages dropped undecoded (see CodecOptions.ownOrg). */
  copies: number;
  /** Tags checked (tagged envelopes from a known identity under a current key). */
  tagChecks: number;
}

/** The most structure a valid payload has: its longest lists (LIMITS.listItems byte strings; at most 1 000 state
 * blocks of a few fields) with room to spare, and maps of lists of maps. */
const PAYLOAD_LIMITS: ScanLimits = { maxItems: 4 * LIMITS.listItems + 1024, maxDepth: 8, canonical: true };

export class WireCodec implements InboundDecoder {
  readonly rejections = new RejectionCounter();
  readonly stats: CodecStats = { decoded: 0, verifications: 0, cacheHits: 0, payloadDecodes: 0, copies: 0, tagChecks: 0 };
  private readonly verified: Lru<string, true>;
  private readonly identities: Lru<string, Identity>;
  private tagKeys: TagKeys | null = null;
  maxBytes: number;

  constructor(private readonly opts: CodecOptions) {
    this.maxBytes = opts.maxBytes;
    this.verified = opts.verifiedCache ?? new Lru(opts.verifyCacheSize ?? 4096);
    this.identities = new Lru(opts.identityCacheSize ?? 10_000);
  }

  /** The signature port this codec verifies with (block verification uses the same one). */
  get ed(): Ed25519 {
    return this.opts.ed;
  }

  /** Identities seen on verified certificates, by PKI-ID hex (bounded). */
  identity(pkiIdHex: string): Identity | undefined {
    return this.identities.peek(pkiIdHex);
  }

  /** The trust anchors this codec checks signers against (revocation lists are applied there). */
  get trust(): TrustStore {
    return this.opts.trust;
  }

  /** Registers an identity known out of band (e.g. the local peer's own). */
  learn(identity: Identity): void {
    this.identities.set(identity.pkiIdHex, identity);
  }

  /** The peer's pairwise keys (set when the peer is assembled); without them every tagged envelope is refused. */
  bindTagKeys(keys: TagKeys | null): void {
    this.tagKeys = keys;
  }

  decode(bytes: Uint8Array, subject?: string): DecodeResult {
    try {
      return this.decodeUnsafe(bytes, subject);
    } catch (e) {
      // Defensive: nothing below should throw, but a bug must not take down the receive loop.
      return this.reject('bad-payload', `internal: ${(e as Error).message}`);
    }
  }

  private reject(reason: RejectReason, detail?: string): DecodeResult {
    this.rejections.count(reason);
    return { ok: false, reason, detail };
  }

  private decodeUnsafe(bytes: Uint8Array, subject: string | undefined): DecodeResult {
    if (!(bytes instanceof Uint8Array)) return this.reject('malformed-envelope', 'not bytes');
    if (bytes.byteLength > this.maxBytes) return this.reject('oversized', `${bytes.byteLength} > ${this.maxBytes}`);
    const env = parseEnvelope(bytes);
    if (!env.ok) return this.reject(env.reason, env.detail);
    const { payload: payloadBytes, signature, signer, cert, secret } = env.env;

    // The sender first: who signed (a known identity or a certificate the trust store accepts), then the
    // signature over the exact payload bytes. Only then is the payload decoded, so a stranger's or a forger's
    // bytes cost a hash and at most one signature check, never a decode.
    const now = this.opts.now();
    const signerHex = toHex(signer);
    let identity: Identity;
    if (cert) {
      const known = this.identities.peek(signerHex);
      if (known && bytesEqual(known.cert, cert)) {
        identity = known;
      } else {
        // A copy: the identity outlives the message buffer the certificate is a view into (new Uint8Array, not
        // slice: a Buffer's slice is another view).
        const c = this.opts.trust.check(new Uint8Array(cert), now);
        if (!c.ok) return this.reject(c.reason, c.detail);
        if (c.identity.pkiIdHex !== signerHex) return this.reject('pki-id-mismatch');
        identity = c.identity;
        this.identities.set(signerHex, identity);
      }
    } else {
      const known = this.identities.get(signerHex);
      if (!known) return this.reject('unknown-identity', signerHex.slice(0, 16));
      identity = known;
    }
    if (now > identity.notAfter) return this.reject('cert-expired');
    // A known identity skips the certificate check, not the revocation list (it may have changed since).
    if (this.opts.trust.isRevoked(identity.mspId, identity.pkiIdHex)) return this.reject('cert-revoked');
    if (identity.role !== 'peer') return this.reject('bad-role', identity.role);

    const mac = env.env.mac;
    const refused = mac ? this.checkTag(signerHex, payloadBytes, signature, mac) : this.checkSignatures(identity, env.env);
    if (refused) return refused;

    const own = this.opts.ownOrg;
    if (own && subject !== undefined && identity.mspId === own.mspId && isChannelWide(subject, own.prefix)) {
      this.stats.copies++;
      return { ok: false, reason: 'copy' };
    }

    // A signed payload still comes from a possibly hostile insider: its structure is measured before the decoder
    // builds it.
    const shape = scanCbor(payloadBytes, PAYLOAD_LIMITS);
    if (!shape.ok) return this.reject('malformed-payload', shape.reason);
    let raw: unknown;
    try {
      this.stats.payloadDecodes++;
      raw = decodeCbor(payloadBytes);
    } catch {
      return this.reject('malformed-payload');
    }
    const checked = validatePayload(raw);
    if (!checked.ok) return this.reject(checked.unknownKind ? 'unknown-kind' : 'bad-payload', checked.detail);
    const payload = checked.payload;
    if (mac && !MAC_KINDS.has(payload.t)) return this.reject('mac-kind', payload.t);
    const claimed = claimedOriginator(payload);
    if (claimed && !bytesEqual(claimed, identity.pkiId)) return this.reject('signer-mismatch');

    let sec: Secret | null = null;
    if (secret) {
      sec = parseSecret(secret.payload);
      if (!sec) return this.reject('bad-secret', 'structure');
    }
    this.stats.decoded++;
    noteEnvelopeKind(bytes, payload.t);
    return { ok: true, msg: mac ? { payload, signer: identity, secret: null, bytes, tagged: true } : { payload, signer: identity, secret: sec, bytes } };
  }

  /**
   * The payload's signature and the secret part's. Cached by what is signed, not by the envelope's bytes, and
   * the payload apart from the secret part: the same message with or without its certificate, with its secret
   * or stripped of it (an alive message reaches an org peer both ways: on the org subject and on a channel
   * subject) costs one verification per signature. Null when they hold, else the counted refusal.
   */
  private checkSignatures(identity: Identity, env: { payload: Uint8Array; signature: Uint8Array; signer: Uint8Array; secret: { payload: Uint8Array; signature: Uint8Array } | null }): DecodeResult | null {
    if (!this.verifyOnce(identity, env.signer, env.signature, env.payload)) return this.reject('bad-signature');
    if (env.secret && !this.verifyOnce(identity, env.signer, env.secret.signature, env.secret.payload)) return this.reject('bad-secret', 'signature');
    return null;
  }

  private verifyOnce(identity: Identity, signer: Uint8Array, signature: Uint8Array, signed: Uint8Array): boolean {
    const key = verifyKey(signer, signature, signed);
    if (this.verified.get(key)) {
      this.stats.cacheHits++;
      return true;
    }
    this.stats.verifications++;
    if (!this.opts.ed.verify(identity.publicKey, signed, signature)) return false;
    this.verified.set(key, true);
    return true;
  }

  /** A tagged envelope's recipient, key and tag; null when they hold, else the counted refusal. */
  private checkTag(signerHex: string, payload: Uint8Array, tag: Uint8Array, mac: { to: Uint8Array; keyId: Uint8Array }): DecodeResult | null {
    const keys = this.tagKeys;
    if (!keys || !bytesEqual(mac.to, keys.self)) return this.reject('mac-misaddressed');
    const key = keys.recvKey(signerHex);
    if (!key) return this.reject('mac-unknown-key', signerHex.slice(0, 16));
    if (!bytesEqual(key.keyId, mac.keyId)) return this.reject('mac-stale-key', signerHex.slice(0, 16));
    this.stats.tagChecks++;
    return macValid(key.key, payload, tag) ? null : this.reject('bad-mac');
  }
}

function parseSecret(bytes: Uint8Array): Secret | null {
  try {
    const o = decodeCbor(bytes) as Record<string, unknown>;
    const ie = o && typeof o === 'object' && Object.prototype.hasOwnProperty.call(o, 'internalEndpoint') ? o.internalEndpoint : undefined;
    if (typeof ie !== 'string' || ie.length === 0 || ie.length > 256) return null;
    return { internalEndpoint: ie };
  } catch {
    return null;
  }
}

/** The verified-cache key of one signature by one signer over these bytes. */
function verifyKey(signer: Uint8Array, signature: Uint8Array, signed: Uint8Array): string {
  return createHash('sha256').update(signer).update(signature).update(signed).digest('base64');
}
