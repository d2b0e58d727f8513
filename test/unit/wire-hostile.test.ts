// Hostile input costs no more than honest input (issue 19): nothing is decoded before its sender and signature
// are checked, a signed payload's structure is measured before the decoder builds it, and an envelope has one
// encoding. `stats.payloadDecodes` counts what reached the CBOR decoder.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeEnvelope, parseEnvelope, seal } from '../../runtime/wire/envelope.ts';
import { scanCbor } from '../../runtime/wire/cbor-scan.ts';
import { compareKeys, decodeCbor, encodeCbor } from '../../runtime/wire/cbor.ts';
import { PAYLOAD_KINDS } from '../../runtime/wire/messages.ts';
import { codecFor, peerSigner } from '../helpers/material.ts';
import { samplePayload } from '../helpers/payloads.ts';

const alice = peerSigner(0, 0);

/** `n` empty CBOR maps in one array: tiny on the wire, a million objects once decoded. */
function emptyMaps(n: number): Uint8Array {
  const b = new Uint8Array(5 + n);
  b[0] = 0x9a; // array, 4-byte count
  new DataView(b.buffer).setUint32(1, n);
  b.fill(0xa0, 5); // empty map
  return b;
}

const envelope = (payload: Uint8Array, signature: Uint8Array, signer: Uint8Array, cert: Uint8Array | null) =>
  encodeEnvelope({ payload, signature, signer, cert, secret: null });

test('1 MB of empty maps from a stranger or with a forged signature is refused before any decode', () => {
  const codec = codecFor();
  const junk = emptyMaps(1_000_000);
  const stranger = codec.decode(envelope(junk, new Uint8Array(64), new Uint8Array(32).fill(7), null));
  assert.equal([stranger.ok, !stranger.ok && stranger.reason], [false, 'unknown-identity']);
  const forged = codec.decode(envelope(junk, new Uint8Array(64), alice.identity.pkiId, alice.identity.cert));
  assert.equal([forged.ok, !forged.ok && forged.reason], [false, 'bad-signature']);
  assert.is(codec.stats.payloadDecodes, 0);
});

test('an insider signing a payload of absurd structure is refused by measure, not by decoding it', () => {
  const codec = codecFor();
  const junk = emptyMaps(1_000_000);
  const r = codec.decode(envelope(junk, alice.sign(junk), alice.identity.pkiId, alice.identity.cert));
  assert.equal([r.ok, !r.ok && r.reason], [false, 'malformed-payload']);
  // Nesting deep enough to overflow a recursive decoder's stack.
  const deep = new Uint8Array(200_000).fill(0x81);
  deep[deep.length - 1] = 0xf6;
  const d = codec.decode(envelope(deep, alice.sign(deep), alice.identity.pkiId, alice.identity.cert));
  assert.equal([d.ok, !d.ok && d.reason], [false, 'malformed-payload']);
  assert.is(codec.stats.payloadDecodes, 0);
  // An honest message still decodes.
  assert.ok(codec.decode(seal(samplePayload('alive', alice.identity.pkiId), alice)).ok);
  assert.is(codec.stats.payloadDecodes, 1);
});

test('only the canonical envelope is accepted: longer heads and trailing bytes are refused', () => {
  const codec = codecFor();
  const bytes = seal(samplePayload('alive', alice.identity.pkiId), alice);
  assert.ok(codec.decode(bytes).ok);
  // The 64-byte signature's head 0x58 0x40 rewritten as 0x59 0x00 0x40: the same value, one byte longer.
  const env = parseEnvelope(bytes);
  assert.ok(env.ok);
  const at = bytes.findIndex((_, i) => bytes[i] === 0x58 && bytes[i + 1] === 0x40 && bytes.subarray(i + 2, i + 66).every((x, k) => x === (env.ok && env.env.signature[k])));
  assert.ok(at > 0);
  const longer = new Uint8Array([...bytes.subarray(0, at), 0x59, 0x00, 0x40, ...bytes.subarray(at + 2)]);
  const r = codec.decode(longer);
  assert.equal([r.ok, !r.ok && r.reason], [false, 'bad-envelope']);
  const trailing = codec.decode(new Uint8Array([...bytes, 0x00]));
  assert.equal([trailing.ok, !trailing.ok && trailing.reason], [false, 'bad-envelope']);
});

test('a signed payload has one encoding: no longer heads, no key twice, only text keys; an honest one passes', () => {
  const codec = codecFor();
  const signed = (payload: Uint8Array) => codec.decode(envelope(payload, alice.sign(payload), alice.identity.pkiId, alice.identity.cert));
  const reason = (payload: Uint8Array) => {
    const r = signed(payload);
    return r.ok ? 'ok' : r.reason;
  };
  // {t: 'prune', ch: 'c'} as murmur's encoder writes it, then three encodings that decode to the same object.
  const text = (s: string) => [0x60 + s.length, ...Buffer.from(s)];
  const honest = new Uint8Array([0xa2, ...text('t'), ...text('prune'), ...text('ch'), ...text('c')]);
  assert.is(reason(honest), 'ok');
  assert.is(reason(new Uint8Array([0xb8, 0x02, ...text('t'), ...text('prune'), ...text('ch'), ...text('c')])), 'malformed-payload', 'a one-byte count written in two');
  assert.is(reason(new Uint8Array([0xa3, ...text('t'), ...text('prune'), ...text('ch'), ...text('x'), ...text('ch'), ...text('c')])), 'malformed-payload', 'a key twice');
  assert.is(reason(new Uint8Array([0xa3, ...text('t'), ...text('prune'), ...text('ch'), ...text('c'), 0x01, 0x02])), 'malformed-payload', 'an integer key');
  assert.is(reason(new Uint8Array([0xa2, ...text('ch'), ...text('c'), ...text('t'), ...text('prune')])), 'malformed-payload', 'keys in another order');
  // The scanner alone: the same rules only when asked for canonical input.
  const lim = { maxItems: 100, maxDepth: 4 };
  const dup = new Uint8Array([0xa2, ...text('a'), 0x01, ...text('a'), 0x02]);
  assert.ok(scanCbor(dup, lim).ok);
  assert.not.ok(scanCbor(dup, { ...lim, canonical: true }).ok);
  assert.ok(scanCbor(new Uint8Array([0xa2, ...text('a'), 0xa1, ...text('a'), 0x01, ...text('b'), 0x02]), { ...lim, canonical: true }).ok, 'the same key in a nested map is another map\'s');
});

test('murmur writes map keys in one order, whatever order an object holds them in; decode → encode gives the signed bytes', () => {
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
  // Shorter key first, then by bytes; integer-like keys (which a JS object lists first) take their place too.
  const a = encodeCbor({ b: 1, seq: 2, a: { z: 1, y: 2 }, '10': 3, '9': 4 });
  const b = encodeCbor({ '9': 4, a: { y: 2, z: 1 }, '10': 3, seq: 2, b: 1 });
  assert.is(hex(a), hex(b));
  assert.equal(Object.keys(decodeCbor(a) as object), ['9', '10', 'a', 'b', 'seq'], 'decoded (a JS object lists integer keys first)');
  assert.is(hex(a).slice(0, 10), 'a561390461', 'the first key on the wire is 9, then a');
  assert.ok(scanCbor(a, { maxItems: 100, maxDepth: 4, canonical: true }).ok);
  assert.equal([compareKeys('b', 'aa') < 0, compareKeys('é', 'zz') === 0 ? 'tie' : compareKeys('é', 'zz') < 0, compareKeys('z', 'é') < 0], [true, false, true], 'by UTF-8 length, then bytes');
  // Every payload kind round-trips to the bytes that were signed.
  const codec = codecFor();
  for (const kind of PAYLOAD_KINDS) {
    const bytes = seal(samplePayload(kind, alice.identity.pkiId), alice);
    const r = codec.decode(bytes);
    assert.ok(r.ok, `${kind}: ${!r.ok && r.reason}`);
    const env = parseEnvelope(bytes);
    if (!r.ok || !env.ok) continue;
    assert.is(hex(encodeCbor(r.msg.payload)), hex(env.env.payload), kind);
  }
});

test('the same message with and without its certificate is verified once', () => {
  const codec = codecFor();
  const bytes = seal(samplePayload('alive', alice.identity.pkiId), alice);
  const env = parseEnvelope(bytes);
  assert.ok(env.ok);
  if (!env.ok) return;
  assert.ok(codec.decode(bytes).ok);
  assert.ok(codec.decode(encodeEnvelope({ ...env.env, cert: null })).ok);
  assert.equal([codec.stats.verifications, codec.stats.cacheHits], [1, 1]);
});

test('scanCbor: counts, depth, lies about counts, truncation and trailing bytes', () => {
  const lim = { maxItems: 100, maxDepth: 3 };
  assert.equal(scanCbor(new Uint8Array([0x82, 0x01, 0xa1, 0x61, 0x61, 0xf6]), lim), { ok: true, items: 5 });
  assert.not.ok(scanCbor(emptyMaps(101), lim).ok);
  assert.not.ok(scanCbor(new Uint8Array([0x81, 0x81, 0x81, 0x81, 0x01]), lim).ok);
  assert.not.ok(scanCbor(new Uint8Array([0x9a, 0xff, 0xff, 0xff, 0xff, 0x01]), { maxItems: 1e9, maxDepth: 3 }).ok, 'a count beyond the bytes');
  assert.not.ok(scanCbor(new Uint8Array([0x45, 0x01]), lim).ok, 'a truncated byte string');
  assert.not.ok(scanCbor(new Uint8Array([0x01, 0x01]), lim).ok, 'trailing bytes');
  assert.ok(scanCbor(new Uint8Array([0xfb, 0x42, 0x78, 0, 0, 0, 0, 0, 0]), lim).ok, 'a float64');
  assert.not.ok(scanCbor(new Uint8Array([0x9f, 0xff]), lim).ok, 'indefinite length');
});

test.run();
