import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PAYLOAD_KINDS, type Payload } from '../../runtime/wire/messages.ts';
import { encodeEnvelope, parseEnvelope, seal, stripSecret } from '../../runtime/wire/envelope.ts';
import { encodeCbor } from '../../runtime/wire/cbor.ts';
import { generateMaterial, signerOf } from '../../runtime/crypto/material.ts';
import { codecFor, ed, material, peerSigner, trustFor } from '../helpers/material.ts';
import { WireCodec } from '../../runtime/wire/codec.ts';
import { TrustStore } from '../../runtime/crypto/msp.ts';
import { Lru } from '../../runtime/util/lru.ts';
import { issueRevocationList } from '../../runtime/crypto/revocation.ts';
import { samplePayload } from '../helpers/payloads.ts';
import { rngFromSeed } from '../../runtime/rng.ts';

const alice = peerSigner(0, 0);
const bob = peerSigner(1, 1);

test('encodeCbor hands out copies: a later encode (the encoder reuses its buffer) never changes an earlier result', () => {
  const first = encodeCbor({ block: new Uint8Array(4096).fill(1), seq: 1 });
  const before = Buffer.from(first).toString('hex');
  for (let i = 0; i < 20; i++) encodeCbor({ block: new Uint8Array(4096).fill(i + 2), seq: i });
  assert.is(Buffer.from(first).toString('hex'), before);
  assert.is(first.byteLength, first.buffer.byteLength, 'a copy of its own size, not a view of the encoder buffer');
});

test('the hand-written envelope encoder gives the general encoder\'s canonical bytes, for every shape and head size', () => {
  const rng = rngFromSeed(7);
  // Lengths around each head boundary (1, 2, 3 and 5 byte heads).
  const sizes = [1, 23, 24, 255, 256, 4096, 65_535, 65_536, 70_000];
  for (let k = 0; k < 60; k++) {
    const payload = rng.bytes(sizes[k % sizes.length]!);
    const signature = rng.bytes(64);
    const signer = rng.bytes(32);
    const cert = k % 3 === 0 ? null : rng.bytes(sizes[(k + 1) % 5]!);
    const secret = k % 2 === 0 ? null : { payload: rng.bytes(sizes[k % 4]!), signature: rng.bytes(64) };
    const signed = encodeEnvelope({ payload, signature, signer, cert, secret });
    assert.equal(signed, new Uint8Array(encodeCbor([1, payload, signature, signer, cert, secret ? [secret.payload, secret.signature] : null])), `signed #${k}`);
    assert.ok(parseEnvelope(signed).ok);
    const mac = { to: rng.bytes(32), keyId: rng.bytes(8) };
    const tag = rng.bytes(16);
    const tagged = encodeEnvelope({ payload, signature: tag, signer, cert: null, secret: null, mac });
    assert.equal(tagged, new Uint8Array(encodeCbor([2, payload, tag, signer, mac.to, mac.keyId])), `tagged #${k}`);
    assert.ok(parseEnvelope(tagged).ok);
  }
});

test('every payload kind round-trips through seal and decode', () => {
  const codec = codecFor();
  for (const kind of PAYLOAD_KINDS) {
    const p = samplePayload(kind, alice.identity.pkiId);
    const r = codec.decode(seal(p, alice));
    assert.ok(r.ok, `${kind}: ${!r.ok && r.reason} ${!r.ok && r.detail}`);
    if (r.ok) {
      assert.equal(r.msg.payload, p, kind);
      assert.is(r.msg.signer.subject, 'peer0.org1');
      assert.is(r.msg.signer.mspId, 'Org1MSP');
      assert.is(r.msg.secret, null);
    }
  }
  assert.is(codec.rejections.total, 0);
});

test('a channel-wide copy of an own-org message is dropped after its signature check, before decoding', () => {
  // alice is of Org1MSP, bob of Org2MSP; this codec is an Org1 peer's.
  const codec = new WireCodec({ trust: trustFor(), ed, now: () => Date.now(), maxBytes: 1 << 20, ownOrg: { mspId: alice.identity.mspId, prefix: 'murmur' } });
  const own = stripSecret(seal(samplePayload('alive', alice.identity.pkiId), alice, { secret: { internalEndpoint: 'peer0.org1' } }));
  const foreign = seal(samplePayload('alive', bob.identity.pkiId), bob);
  assert.equal(codec.decode(own, 'murmur.chan.channel1'), { ok: false, reason: 'copy' });
  assert.is(codec.stats.copies, 1);
  assert.is(codec.stats.payloadDecodes, 0, 'the copy is not decoded');
  assert.ok(codec.decode(own, 'murmur.disc.org.Org1MSP').ok, 'the org-subject copy is the one handled');
  assert.ok(codec.decode(own).ok, 'without a subject nothing is a copy');
  assert.ok(codec.decode(foreign, 'murmur.chan.channel1').ok, 'another org on the channel subject is what it is for');
  assert.is(codec.rejections.total, 0, 'a copy is not a rejection');
  // A forgery naming an own-org signer is still refused and counted as one.
  const env = parseEnvelope(own);
  assert.ok(env.ok);
  if (env.ok) {
    const forged = encodeEnvelope({ ...env.env, signature: bob.sign(env.env.payload) });
    assert.equal(codec.decode(forged, 'murmur.chan.channel1'), { ok: false, reason: 'bad-signature', detail: undefined });
    assert.is(codec.rejections.get('bad-signature'), 1);
  }
});

test('a peer signs its secret part once per internal endpoint, not once per message', () => {
  let signs = 0;
  const counting = { identity: alice.identity, sign: (m: Uint8Array) => (signs++, alice.sign(m)) };
  const alive = (seqNum: number) => ({ ...samplePayload('alive', alice.identity.pkiId), ts: { incNum: 1, seqNum } }) as Payload;
  const a = parseEnvelope(seal(alive(1), counting, { secret: { internalEndpoint: 'peer0.org1' } }));
  const b = parseEnvelope(seal(alive(2), counting, { secret: { internalEndpoint: 'peer0.org1' } }));
  assert.is(signs, 3, 'two payloads, one secret');
  assert.ok(a.ok && b.ok && Buffer.from(a.env.secret!.signature).equals(Buffer.from(b.env.secret!.signature)));
  const c = parseEnvelope(seal(alive(3), counting, { secret: { internalEndpoint: 'peer0.org1:7051' } }));
  assert.is(signs, 5, 'a new endpoint is signed anew');
  assert.ok(c.ok && codecFor().decode(seal(alive(4), counting, { secret: { internalEndpoint: 'peer0.org1:7051' } })).ok);
});

test('the internal endpoint travels in a signed secret that stripSecret removes', () => {
  const codec = codecFor();
  const bytes = seal(samplePayload('alive', alice.identity.pkiId), alice, { secret: { internalEndpoint: 'peer0.org1' } });
  const r = codec.decode(bytes);
  assert.ok(r.ok && r.msg.secret?.internalEndpoint === 'peer0.org1');
  const stripped = stripSecret(bytes);
  assert.ok(stripped.byteLength < bytes.byteLength);
  const s = codec.decode(stripped);
  assert.ok(s.ok && s.msg.secret === null);
  // A secret re-signed by someone else (or altered) is refused.
  const env = parseEnvelope(bytes);
  assert.ok(env.ok);
  if (env.ok) {
    const sp = encodeCbor({ internalEndpoint: 'evil' });
    const forged = encodeEnvelope({ ...env.env, secret: { payload: sp, signature: bob.sign(sp) } });
    const f = codec.decode(forged);
    assert.equal(!f.ok && f.reason, 'bad-secret');
  }
});

test('an altered payload fails its signature', () => {
  const codec = codecFor();
  const env = parseEnvelope(seal(samplePayload('data', alice.identity.pkiId), alice));
  assert.ok(env.ok);
  if (!env.ok) return;
  const altered = encodeCbor({ ...samplePayload('data', alice.identity.pkiId), seq: 13 });
  const r = codec.decode(encodeEnvelope({ ...env.env, payload: altered }));
  assert.equal(!r.ok && r.reason, 'bad-signature');
  assert.is(codec.rejections.get('bad-signature'), 1);
});

test('a message claiming another originator is refused (signer-mismatch)', () => {
  const codec = codecFor();
  for (const kind of ['alive', 'stateInfo', 'leadership', 'identity', 'session'] as const) {
    const r = codec.decode(seal(samplePayload(kind, bob.identity.pkiId), alice));
    assert.equal(!r.ok && r.reason, 'signer-mismatch', kind);
  }
});

test('signer PKI-ID must match the carried certificate', () => {
  const codec = codecFor();
  const env = parseEnvelope(seal(samplePayload('hello', alice.identity.pkiId), alice));
  if (!env.ok) throw new Error('parse');
  const r = codec.decode(encodeEnvelope({ ...env.env, signer: bob.identity.pkiId }));
  assert.equal(!r.ok && r.reason, 'pki-id-mismatch');
});

test('without a certificate the signer must already be known', () => {
  const codec = codecFor();
  const bare = seal(samplePayload('hello', alice.identity.pkiId), alice, { withCert: false });
  const r1 = codec.decode(bare);
  assert.equal(!r1.ok && r1.reason, 'unknown-identity');
  assert.ok(codec.decode(seal(samplePayload('hello', alice.identity.pkiId), alice)).ok);
  assert.ok(codec.decode(bare).ok);
});

test('unknown org, expired certificate and oversized messages are refused and counted', () => {
  const stranger = generateMaterial({ orgs: ['Org9'], peers: 1, channels: [] });
  const s = signerOf(stranger.orgs[0]!.peers[0]!, ed);
  const codec = codecFor({ maxBytes: 2000 });
  const r = codec.decode(seal(samplePayload('hello', s.identity.pkiId), s));
  assert.equal(!r.ok && r.reason, 'unknown-org');
  const late = codecFor({ now: () => alice.identity.notAfter + 1 });
  const e = late.decode(seal(samplePayload('hello', alice.identity.pkiId), alice));
  assert.equal(!e.ok && e.reason, 'cert-expired');
  const big = seal({ t: 'data', ch: 'channel1', seq: 1, block: new Uint8Array(5000) }, alice);
  const o = codec.decode(big);
  assert.equal(!o.ok && o.reason, 'oversized');
  assert.equal(codec.rejections.snapshot(), { oversized: 1, 'unknown-org': 1 });
});

test('a revoked signer is refused from the moment its CA revokes it, though its identity is already known', () => {
  const trust = trustFor();
  const codec = codecFor({ trust });
  const msg = () => seal(samplePayload('hello', alice.identity.pkiId), alice);
  const bare = () => seal(samplePayload('hello', alice.identity.pkiId), alice, { withCert: false });
  assert.ok(codec.decode(msg()).ok);
  assert.ok(codec.decode(bare()).ok, 'known identity, no certificate');
  const ca = material().orgs[0]!.ca;
  assert.ok(trust.applyRevocations(issueRevocationList({ mspId: alice.identity.mspId, issuedAt: 1, revoked: [alice.identity.pkiId] }, ca.secret, ed)).ok);
  const r = (b: Uint8Array) => {
    const x = codec.decode(b);
    return x.ok ? 'ok' : x.reason;
  };
  assert.is(r(bare()), 'cert-revoked');
  assert.is(r(msg()), 'cert-revoked');
  assert.is(codec.rejections.get('cert-revoked'), 2);
  assert.ok(codec.decode(seal(samplePayload('hello', peerSigner(0, 1).identity.pkiId), peerSigner(0, 1))).ok, 'the org\'s other peers are not');
});

test('structure: unknown kinds, bad fields and malformed bytes are named', () => {
  const codec = codecFor();
  const raw = (payload: unknown) => {
    const p = encodeCbor(payload);
    return encodeEnvelope({ payload: p, signature: alice.sign(p), signer: alice.identity.pkiId, cert: alice.identity.cert, secret: null });
  };
  const reason = (b: Uint8Array) => {
    const r = codec.decode(b);
    return r.ok ? 'ok' : r.reason;
  };
  assert.is(reason(raw({ t: 'nope' })), 'unknown-kind');
  assert.is(reason(raw({ t: 'hello', ch: 'channel1', nonce: 0, kind: 'block' })), 'bad-payload');
  assert.is(reason(raw({ t: 'hello', ch: 'chan nel', nonce: 1, kind: 'block' })), 'bad-payload');
  assert.is(reason(raw({ t: 'hello', ch: 'channel1', nonce: 1.5, kind: 'block' })), 'bad-payload');
  assert.is(reason(raw({ t: 'hello', ch: 'channel1', nonce: 1, kind: 'other' })), 'bad-payload');
  assert.is(reason(raw({ t: 'digest', ch: 'channel1', nonce: 1, kind: 'block', digests: [1] })), 'bad-payload');
  assert.is(reason(raw([1, 2])), 'bad-payload');
  assert.is(reason(raw({ t: 'hello', ch: 'channel1', nonce: 1, kind: 'block' })), 'ok');
  // The optional view digest of repair requests: 32 bytes when present.
  assert.is(reason(raw({ t: 'stateInfoPullReq', ch: 'channel1', nonce: 1, view: new Uint8Array(32) })), 'ok');
  assert.is(reason(raw({ t: 'stateInfoPullReq', ch: 'channel1', nonce: 1, view: new Uint8Array(31) })), 'bad-payload');
  assert.is(reason(raw({ t: 'stateInfoPullReq', ch: 'channel1', nonce: 1, view: 'x' })), 'bad-payload');
  assert.is(reason(new Uint8Array([0xff, 0x00])), 'malformed-envelope');
  assert.is(reason(encodeCbor([1, 2, 3])), 'bad-envelope');
});

test('repeated envelopes hit the verification cache', () => {
  const codec = codecFor();
  const bytes = seal(samplePayload('data', alice.identity.pkiId), alice);
  for (let i = 0; i < 5; i++) assert.ok(codec.decode(bytes).ok);
  assert.is(codec.stats.verifications, 1);
  assert.is(codec.stats.cacheHits, 4);
});

test('an alive message with its secret part and the same stripped of it cost one verification per signature', () => {
  // An org peer gets a heartbeat both ways (org subject with the secret, channel subject stripped).
  const codec = codecFor();
  const withSecret = seal(samplePayload('alive', alice.identity.pkiId), alice, { secret: { internalEndpoint: 'peer0.org1' } });
  assert.ok(codec.decode(withSecret).ok);
  assert.ok(codec.decode(stripSecret(withSecret)).ok);
  assert.ok(codec.decode(withSecret).ok);
  assert.equal([codec.stats.verifications, codec.stats.cacheHits], [2, 3], 'payload and secret verified once each');
  // A forged secret on a cached payload is still checked.
  const other = seal(samplePayload('alive', alice.identity.pkiId), alice, { secret: { internalEndpoint: 'elsewhere' } });
  const env = parseEnvelope(withSecret);
  const forged = parseEnvelope(other);
  assert.ok(env.ok && forged.ok);
  if (env.ok && forged.ok) {
    const tampered = encodeEnvelope({ ...env.env, secret: { ...forged.env.secret!, signature: new Uint8Array(64) } });
    assert.is(codec.decode(tampered).ok, false);
  }
});

test('codecs sharing a verification cache (peers in one process) verify an envelope once; each checks trust first', () => {
  const shared = new Lru<string, true>(16);
  const make = (trust = trustFor()) => new WireCodec({ trust, ed, now: () => Date.now(), maxBytes: 1 << 20, verifiedCache: shared });
  const [a, b] = [make(), make()];
  const bytes = seal(samplePayload('alive', alice.identity.pkiId), alice);
  assert.ok(a.decode(bytes).ok);
  assert.ok(b.decode(bytes).ok);
  assert.equal([a.stats.verifications, b.stats.verifications, b.stats.cacheHits], [1, 0, 1]);
  // A codec that does not trust Org1 still refuses it: the shared cache is only asked after the trust check.
  const org2Only = new TrustStore(ed);
  org2Only.addOrg(material().orgs[1]!.mspId, material().orgs[1]!.ca.cert.bytes);
  const c = make(org2Only);
  const r = c.decode(bytes);
  assert.ok(!r.ok && r.reason !== 'bad-signature', JSON.stringify(r));
  assert.is(c.stats.cacheHits, 0);
});

test('trust comes from the channel orgs only', () => {
  assert.equal(trustFor().orgs().sort(), material().orgs.map((o) => o.mspId).sort());
});

test.run();
