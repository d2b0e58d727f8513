import { test } from 'uvu';
import { checkBlockBytes } from '../../actors/block-check.ts';
import { BlockVerifier } from '../../runtime/ledger/verified-block.ts';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nobleEd25519, nodeEd25519 } from '../../runtime/crypto/ed25519.ts';
import { issueCertificate, parseCertificate, pkiIdOf } from '../../runtime/crypto/certificate.ts';
import { TrustStore } from '../../runtime/crypto/msp.ts';
import { issueRevocationList, parseRevocationList } from '../../runtime/crypto/revocation.ts';
import { generateMaterial, readSigner, writeMaterial, parseOrgs } from '../../runtime/crypto/material.ts';
import { localSigner } from '../../runtime/crypto/signer.ts';
import { openGenesis } from '../../runtime/ledger/channel-config.ts';
import { decodeBlock, encodeBlock, makeBlock, verifyBlock, blockHash, ZERO_HASH } from '../../runtime/ledger/block.ts';
import { concatBytes, sha256, utf8, toHex } from '../../runtime/util/bytes.ts';
import { encodeCbor } from '../../runtime/wire/cbor.ts';
import { ed, material, trustFor } from '../helpers/material.ts';

const node = nodeEd25519();
const rand = (n: number) => new Uint8Array(randomBytes(n));

test('noble and node:crypto agree on keys, signatures and verification (random keys and messages)', () => {
  for (let i = 0; i < 200; i++) {
    const sk = rand(32);
    const msg = rand(i % 97);
    const pkN = nobleEd25519.publicKey(sk);
    assert.equal(node.publicKey(sk), pkN);
    const sigN = nobleEd25519.sign(sk, msg);
    const sigX = node.sign(sk, msg);
    assert.equal(sigX, sigN, 'ed25519 signatures are deterministic');
    assert.ok(node.verify(pkN, msg, sigN));
    assert.ok(nobleEd25519.verify(pkN, msg, sigX));
    const bad = new Uint8Array(msg.length + 1);
    bad.set(msg);
    bad[msg.length] = 1;
    assert.not.ok(node.verify(pkN, bad, sigN));
    assert.not.ok(nobleEd25519.verify(pkN, bad, sigN));
  }
});

test('verify rejects wrong sizes instead of throwing', () => {
  for (const impl of [node, nobleEd25519]) {
    assert.not.ok(impl.verify(rand(31), rand(3), rand(64)));
    assert.not.ok(impl.verify(rand(32), rand(3), rand(63)));
  }
});

test('certificate round trip and PKI-ID = SHA-256(mspId ‖ cert)', () => {
  const ca = rand(32);
  const sk = rand(32);
  const c = issueCertificate(
    { role: 'peer', mspId: 'Org1MSP', subject: 'peer0.org1', publicKey: ed.publicKey(sk), notBefore: 1, notAfter: 2 },
    ca,
    ed,
  );
  const p = parseCertificate(c.bytes)!;
  assert.ok(p);
  assert.is(p.subject, 'peer0.org1');
  assert.equal(p.publicKey, ed.publicKey(sk));
  assert.equal(pkiIdOf('Org1MSP', c.bytes), sha256(concatBytes([utf8('Org1MSP'), c.bytes])));
  assert.is(parseCertificate(rand(100)), null);
  assert.is(parseCertificate(c.bytes.subarray(0, c.bytes.length - 1)), null);
});

test('trust store: valid, expired, not yet valid, foreign CA, unknown org, CA as signer, subject outside the org', () => {
  const m = material();
  const trust = trustFor();
  const p = m.orgs[0]!.peers[0]!;
  const now = Date.now();
  const ok = trust.check(p.cert.bytes, now);
  assert.ok(ok.ok);
  if (ok.ok) {
    assert.is(ok.identity.mspId, 'Org1MSP');
    assert.is(ok.identity.subject, 'peer0.org1');
    assert.is(ok.identity.pkiIdHex, toHex(pkiIdOf('Org1MSP', p.cert.bytes)));
  }
  const r = (c: Uint8Array, t = now) => {
    const x = trust.check(c, t);
    return x.ok ? 'ok' : x.reason;
  };
  assert.is(r(p.cert.bytes, p.cert.notAfter + 1), 'cert-expired');
  assert.is(r(p.cert.bytes, p.cert.notBefore - 1), 'cert-not-yet-valid');
  // A cert that claims Org1 but is signed by Org2's CA.
  const forged = issueCertificate({ ...p.cert, subject: 'mallory' }, m.orgs[1]!.ca.secret, ed);
  assert.is(r(forged.bytes), 'bad-cert-signature');
  // An org that is not in any channel.
  const other = generateMaterial({ orgs: ['Org9'], peers: 1, channels: [] });
  assert.is(r(other.orgs[0]!.peers[0]!.cert.bytes), 'unknown-org');
  assert.is(r(m.orgs[0]!.ca.cert.bytes), 'bad-role');
  assert.is(r(rand(50)), 'malformed-cert');
  // Org1's CA issuing a certificate named as another org's peer, or as nobody's: refused; a new name in Org1: fine.
  const as = (subject: string) => issueCertificate({ ...p.cert, subject }, m.orgs[0]!.ca.secret, ed).bytes;
  assert.is(r(as('peer0.org2')), 'cert-subject-outside-org');
  assert.is(r(as('mallory')), 'cert-subject-outside-org');
  assert.is(r(as('org1')), 'cert-subject-outside-org');
  assert.is(r(as('peer0.xorg1')), 'cert-subject-outside-org');
  assert.is(r(as('peer7.org1')), 'ok');
  assert.throws(() => new TrustStore(ed).addOrg('Org1MSP', p.cert.bytes), /not a CA/);
});

test('a signer refuses a key that does not match its certificate', () => {
  const p = material().orgs[0]!.peers[0]!;
  assert.throws(() => localSigner(p.cert.bytes, rand(32), ed), /does not match/);
  const s = localSigner(p.cert.bytes, p.secret, ed);
  assert.ok(ed.verify(p.cert.publicKey, utf8('x'), s.sign(utf8('x'))));
});

test('genesis block checks out; tampering is refused', () => {
  const m = material();
  const g = openGenesis(m.channels[0]!.genesis, ed, 'channel1');
  assert.is(g.config.orgs.length, 2);
  assert.equal(g.config.anchorPeers.map((a) => a.endpoint), ['peer0.org1', 'peer0.org2']);
  assert.throws(() => openGenesis(m.channels[0]!.genesis, ed, 'other'), /channel1/);
  const b = decodeBlock(m.channels[0]!.genesis)!;
  const tampered = encodeBlock({ ...b, data: [concatBytes([b.data[0]!, new Uint8Array([0])])] });
  assert.throws(() => openGenesis(tampered, ed), /bad-data-hash|malformed/);
  const resigned = encodeBlock({ ...b, signature: rand(64) });
  assert.throws(() => openGenesis(resigned, ed), /bad-block-signature/);
});

test('blocks: hash chain, data hash and orderer signature', () => {
  const m = material();
  const sign = (x: Uint8Array) => ed.sign(m.orderer.secret, x);
  const b0 = makeBlock(0, ZERO_HASH, [utf8('a')], sign);
  const b1 = makeBlock(1, blockHash(b0), [utf8('b'), utf8('c')], sign);
  const pk = m.orderer.cert.publicKey;
  assert.equal(verifyBlock(b1, pk, ed, { number: 1, previousHash: blockHash(b0) }), { ok: true });
  assert.equal(verifyBlock(b1, pk, ed, { number: 2 }), { ok: false, reason: 'bad-number' });
  assert.equal(verifyBlock(b1, pk, ed, { previousHash: ZERO_HASH }), { ok: false, reason: 'bad-previous-hash' });
  assert.equal(verifyBlock({ ...b1, data: [utf8('x')] }, pk, ed), { ok: false, reason: 'bad-data-hash' });
  assert.equal(verifyBlock(b1, m.orgs[0]!.ca.cert.publicKey, ed), { ok: false, reason: 'bad-block-signature' });
  assert.equal(decodeBlock(encodeBlock(b1)), b1);
  // The tx boundaries are part of the hash: ["ab"] and ["a","b"] differ.
  assert.not.equal(makeBlock(1, ZERO_HASH, [utf8('ab')], sign).dataHash, makeBlock(1, ZERO_HASH, [utf8('a'), utf8('b')], sign).dataHash);
});

test('blocks v2: the orderer timestamp is signed and hashed; it can be neither altered nor stripped', () => {
  const m = material();
  const sign = (x: Uint8Array) => ed.sign(m.orderer.secret, x);
  const pk = m.orderer.cert.publicKey;
  const b0 = makeBlock(0, ZERO_HASH, [utf8('a')], sign);
  const b1 = makeBlock(1, blockHash(b0), [utf8('b')], sign, 1_700_000_000_123);
  assert.is(b1.timestamp, 1_700_000_000_123);
  assert.equal(decodeBlock(encodeBlock(b1)), b1);
  assert.is(decodeBlock(encodeBlock(b0))!.timestamp, undefined, 'v1 stays v1');
  assert.equal(verifyBlock(b1, pk, ed, { number: 1, previousHash: blockHash(b0) }), { ok: true });
  assert.equal(verifyBlock({ ...b1, timestamp: b1.timestamp! + 1 }, pk, ed), { ok: false, reason: 'bad-block-signature' });
  const { timestamp: _t, ...stripped } = b1;
  assert.equal(verifyBlock(stripped, pk, ed), { ok: false, reason: 'bad-block-signature' });
  assert.not.equal(blockHash(stripped), blockHash(b1), 'the timestamp is part of the chain');
  assert.is(decodeBlock(encodeCbor([2, 1, -5, 'ch', ZERO_HASH, ZERO_HASH, [], new Uint8Array(64)])), null, 'a negative timestamp is malformed');
  assert.is(decodeBlock(encodeCbor([2, 1, 5, 7, ZERO_HASH, ZERO_HASH, [], new Uint8Array(64)])), null, 'a channel that is not a string is malformed');
  assert.throws(() => makeBlock(1, ZERO_HASH, [], sign, 1.5), /whole ms/);
});

test("blocks v2: the channel is signed and checked; another channel's block is refused though the same key signed it", () => {
  const m = material();
  const sign = (x: Uint8Array) => ed.sign(m.orderer.secret, x);
  const pk = m.orderer.cert.publicKey;
  const b = makeBlock(1, ZERO_HASH, [utf8('b')], sign, 1_700_000_000_123, 'channel1');
  assert.is(decodeBlock(encodeBlock(b))!.channel, 'channel1');
  assert.equal(verifyBlock(b, pk, ed, { channel: 'channel1' }), { ok: true });
  assert.equal(verifyBlock(b, pk, ed, { channel: 'channel2' }), { ok: false, reason: 'bad-channel' });
  assert.equal(verifyBlock({ ...b, channel: 'channel2' }, pk, ed), { ok: false, reason: 'bad-block-signature' }, 'relabelled: the signature breaks');
  const other = makeBlock(1, ZERO_HASH, [utf8('b')], sign, 1_700_000_000_123, 'channel2');
  assert.not.equal(blockHash(other), blockHash(b), 'the channel is part of the hash');
  assert.equal(checkBlockBytes(encodeBlock(other), 1, new BlockVerifier(pk, ed, 'channel1')), { ok: false, reason: 'block-wrong-channel' });
  assert.ok(checkBlockBytes(encodeBlock(b), 1, new BlockVerifier(pk, ed, 'channel1')).ok);
});

test('crypto material written to disk reads back', () => {
  const dir = mkdtempSync(join(tmpdir(), 'murmur-crypto-'));
  try {
    const m = generateMaterial({ orgs: parseOrgs(2), peers: 2, channels: ['channel1', 'channel2'] });
    const manifest = writeMaterial(m, dir);
    assert.ok(existsSync(join(dir, 'crypto.json')));
    assert.is(manifest.orgs[1]!.peers[1]!.id, 'peer1.org2');
    const s = readSigner(manifest.orgs[1]!.peers[1]!.mspDir, ed);
    assert.is(s.identity.subject, 'peer1.org2');
    assert.is(s.identity.mspId, 'Org2MSP');
    assert.throws(() => readSigner(join(dir, 'nope'), ed), /cannot read the identity/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('org lists parse', () => {
  assert.equal(parseOrgs('3'), ['Org1', 'Org2', 'Org3']);
  assert.equal(parseOrgs('Acme,Beta'), ['Acme', 'Beta']);
  assert.throws(() => parseOrgs('0'));
  assert.throws(() => parseOrgs('a b'));
  assert.throws(() => parseOrgs('A,A'));
});

test.run();

test('revocation lists: only the org CA signs one, a newer one replaces, an older one is refused; revoked certificates fail the check', () => {
  const m = material();
  const [o1, o2] = [m.orgs[0]!, m.orgs[1]!];
  const p = o1.peers[0]!;
  const pki = pkiIdOf(o1.mspId, p.cert.bytes);
  const trust = trustFor(m);
  const now = Date.now();
  const crl = (issuedAt: number, revoked: Uint8Array[], secret = o1.ca.secret, mspId = o1.mspId) => issueRevocationList({ mspId, issuedAt, revoked }, secret, ed);
  assert.ok(trust.check(p.cert.bytes, now).ok);
  // Signed by another org's CA, or naming an unknown org: refused, nothing revoked.
  assert.is(trust.applyRevocations(crl(10, [pki], o2.ca.secret)).ok, false);
  assert.is(trust.applyRevocations(crl(10, [pki], o1.ca.secret, 'Org9MSP')).ok, false);
  assert.is(trust.applyRevocations(rand(100)).ok, false);
  assert.ok(trust.check(p.cert.bytes, now).ok);
  const first = trust.applyRevocations(crl(10, [pki]));
  assert.equal(first.ok && first.revoked, [toHex(pki)]);
  const r = trust.check(p.cert.bytes, now);
  assert.is(!r.ok && r.reason, 'cert-revoked');
  assert.ok(trust.isRevoked(o1.mspId, toHex(pki)));
  assert.not.ok(trust.isRevoked(o2.mspId, toHex(pki)), 'revocation is per org');
  // A replay of an older (or the same) list cannot un-revoke; a newer list without the name does.
  assert.is(trust.applyRevocations(crl(9, [])).ok, false);
  assert.is(trust.applyRevocations(crl(10, [])).ok, false);
  assert.ok(trust.isRevoked(o1.mspId, toHex(pki)));
  assert.ok(trust.applyRevocations(crl(11, [])).ok);
  assert.ok(trust.check(p.cert.bytes, now).ok);
  // Structure: entries must be 32-byte PKI-IDs.
  assert.is(parseRevocationList(crl(12, [new Uint8Array(5)])), null);
});
