// The inbound edge, cheapest refusal first, and nothing decoded before it is known to be signed by a member:
//   bytes → size → envelope (fixed shape read by hand, canonical only: envelope.ts) → signer (a known identity,
//   or a certificate chaining to an org CA, valid now, PKI-ID matching) → signature (and the secret's) →
//   payload structure measured (cbor-scan.ts) → decoded → validated → claimed originator = signer → Verified.
// Every refusal is counted by reason and returned, never thrown. Successful signature checks are cached by what
// is signed (signer, signature, payload, secret; bounded), since gossip delivers the same message several times,
// with or without its certificate. Peers in one process (`murmur up --in-process`) may share that cache: whether
// the signatures verify depends on those bytes alone (the signer's key is named by its PKI-ID, a hash of MSP id
// and certificate), and each codec still checks the signer against its own trust store before it looks there.
import { createHash } from 'node:crypto';
import type { DecodeResult, Identity, InboundDecoder, RejectReason, Secret } from './messages.ts';
import { noteEnvelopeKind, parseEnvelope } from './envelope.ts';
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

export interface CodecStats {
  decoded: number;
  verifications: number;
  cacheHits: number;
  /** Payloads handed to the CBOR decoder: only signed ones of known senders, within PAYLOAD_LIMITS. */
  payloadDecodes: number;
  /** Channel-wide copies of own-org messages dropped undecoded (see CodecOptions.ownOrg). */
  copies: number;
}

/** The most structure a valid payload has: its longest lists (LIMITS.listItems byte strings; at most 1 000 state
 * blocks of a few fields) with room to spare, and maps of lists of maps. */
const PAYLOAD_LIMITS: ScanLimits = { maxItems: 4 * LIMITS.listItems + 1024, maxDepth: 8, canonical: true };

export class WireCodec implements InboundDecoder {
  readonly rejections = new RejectionCounter();
  readonly stats: CodecStats = { decoded: 0, verifications: 0, cacheHits: 0, payloadDecodes: 0, copies: 0 };
  private readonly verified: Lru<string, true>;
  private readonly identities: Lru<string, Identity>;
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
        // A copy: the identity outlives the message buffer the certificate is a view into.
        const c = this.opts.trust.check(cert.slice(), now);
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

    // Keyed by what is signed, not by the envelope's bytes, and the payload apart from the secret part: the same
    // message with or without its certificate, with its secret or stripped of it (an alive message reaches an
    // org peer both ways: on the org subject and on a channel subject) costs one verification per signature.
    const key = verifyKey(signer, signature, payloadBytes);
    if (this.verified.get(key)) {
      this.stats.cacheHits++;
    } else {
      this.stats.verifications++;
      if (!this.opts.ed.verify(identity.publicKey, payloadBytes, signature)) return this.reject('bad-signature');
      this.verified.set(key, true);
    }
    if (secret) {
      const secretKey = verifyKey(signer, secret.signature, secret.payload);
      if (this.verified.get(secretKey)) {
        this.stats.cacheHits++;
      } else {
        this.stats.verifications++;
        if (!this.opts.ed.verify(identity.publicKey, secret.payload, secret.signature)) return this.reject('bad-secret', 'signature');
        this.verified.set(secretKey, true);
      }
    }

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
    const claimed = claimedOriginator(payload);
    if (claimed && !bytesEqual(claimed, identity.pkiId)) return this.reject('signer-mismatch');

    let sec: Secret | null = null;
    if (secret) {
      sec = parseSecret(secret.payload);
      if (!sec) return this.reject('bad-secret', 'structure');
    }
    this.stats.decoded++;
    noteEnvelopeKind(bytes, payload.t);
    return { ok: true, msg: { payload, signer: identity, secret: sec, bytes } };
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
