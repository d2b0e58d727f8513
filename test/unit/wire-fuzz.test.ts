// Seeded fuzz of the inbound edge: random bytes, random CBOR, truncated, bit-flipped, field-swapped and
// oversized envelopes, signed and tagged (a pairwise key's tag, envelope v2). No exception may escape, nothing
// altered may be accepted, every refusal is counted.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PAYLOAD_KINDS, REJECT_REASONS } from '../../runtime/wire/messages.ts';
import { encodeEnvelope, MAC_KINDS, parseEnvelope, seal } from '../../runtime/wire/envelope.ts';
import { SessionKeys } from '../../runtime/crypto/session-keys.ts';
import { Sealer } from '../../runtime/wire/sealer.ts';
import { Encoder } from 'cbor-x';
import { decodeCbor, encodeCbor } from '../../runtime/wire/cbor.ts';
import { rngFromSeed, type Rng } from '../../runtime/rng.ts';
import { codecFor, peerSigner } from '../helpers/material.ts';
import { samplePayload } from '../helpers/payloads.ts';

const ITERATIONS = 100_000;
const alice = peerSigner(0, 0);
const bob = peerSigner(1, 0);
// alice → bob under an agreed, confirmed pairwise key: every kind a tag may carry, tagged.
const aliceKeys = new SessionKeys({ pkiId: alice.identity.pkiId, incNum: 1 }, new Uint8Array(32).fill(1));
const bobKeys = new SessionKeys({ pkiId: bob.identity.pkiId, incNum: 1 }, new Uint8Array(32).fill(2));
bobKeys.learn(alice.identity.pkiIdHex, { pkiId: alice.identity.pkiId, incNum: 1, dh: aliceKeys.publicKey });
aliceKeys.learn(bob.identity.pkiIdHex, { pkiId: bob.identity.pkiId, incNum: 1, dh: bobKeys.publicKey });
aliceKeys.confirm(bob.identity.pkiIdHex, 1, bobKeys.publicKey);
const tagged = [...MAC_KINDS].map((k) => new Sealer(alice, aliceKeys).to(bob.identity.pkiIdHex, samplePayload(k, alice.identity.pkiId)));
const valid = [...PAYLOAD_KINDS.map((k) => seal(samplePayload(k, alice.identity.pkiId), alice, { secret: k === 'alive' ? { internalEndpoint: 'peer0.org1' } : undefined })), ...tagged];

/** bob's codec: it holds bob's pairwise keys and knows alice (as a peer does once her probe arrived). */
function bobCodec(maxBytes: number) {
  const codec = codecFor({ maxBytes });
  codec.bindTagKeys({ self: bob.identity.pkiId, recvKey: (h) => bobKeys.recvKey(h) });
  codec.learn(alice.identity);
  return codec;
}

function randomCbor(rng: Rng, depth = 0): unknown {
  switch (rng.int(depth > 2 ? 5 : 8)) {
    case 0: return rng.int(1 << 30) - (1 << 29);
    case 1: return rng.bytes(rng.int(70));
    case 2: return ['t', 'ch', 'nonce', 'alive', 'hello', 'data', ''][rng.int(7)];
    case 3: return rng.chance(0.5);
    case 4: return rng.chance(0.5) ? null : rng.next() * 1e6;
    case 5: return Array.from({ length: rng.int(7) }, () => randomCbor(rng, depth + 1));
    case 6: {
      const o: Record<string, unknown> = {};
      for (let i = rng.int(6); i > 0; i--) o[['t', 'ch', 'nonce', 'kind', 'seq', 'block', 'member', 'ts', 'pkiId', 'x'][rng.int(10)]!] = randomCbor(rng, depth + 1);
      if (rng.chance(0.7)) o.t = PAYLOAD_KINDS[rng.int(PAYLOAD_KINDS.length)];
      return o;
    }
    default: return [1, rng.bytes(rng.int(40)), rng.bytes(64), rng.bytes(32), null, null];
  }
}

/** Another encoder's bytes for the same object: its top-level keys in reverse order (cbor-x keeps insertion order). */
const unordered = new Encoder({ useRecords: false, tagUint8Array: false, variableMapSize: true });

/** A valid payload written another way that decodes to the same object: a widened map head, its keys in
 * another order, or a key twice. */
function nonCanonical(rng: Rng, payload: Uint8Array): Uint8Array {
  const n = payload[0]! & 0x1f;
  const way = rng.int(3);
  const entries = Object.entries(decodeCbor(payload) as object);
  if (way === 0 || (way === 1 && entries.length < 2)) return new Uint8Array([0xb8, n, ...payload.subarray(1)]);
  if (way === 1) return unordered.encode(Object.fromEntries(entries.reverse()));
  // The kind key again at the end of the top map, with its value ('t' → the same kind).
  const kind = encodeCbor((codecFor().decode(valid[0]!) as { ok: true; msg: { payload: { t: string } } }).msg.payload.t);
  return new Uint8Array([0xa0 + n + 1, ...payload.subarray(1), 0x61, 0x74, ...kind]);
}

function mutate(rng: Rng): { bytes: Uint8Array; altered: boolean; nonCanonical?: boolean } {
  const base = valid[rng.int(valid.length)]!;
  switch (rng.int(8)) {
    case 0: return { bytes: rng.bytes(rng.int(600)), altered: true };
    case 1: return { bytes: encodeCbor(randomCbor(rng)), altered: true };
    case 2: return { bytes: base.subarray(0, rng.int(base.length)), altered: true };
    case 3: {
      const b = new Uint8Array(base);
      const flips = 1 + rng.int(3);
      for (let i = 0; i < flips; i++) b[rng.int(b.length)]! ^= 1 << rng.int(8);
      return { bytes: b, altered: true };
    }
    case 4: {
      // A structurally valid envelope around a random payload, signed by a real peer: must fail structure.
      const p = encodeCbor(randomCbor(rng));
      return { bytes: encodeEnvelope({ payload: p, signature: alice.sign(p), signer: alice.identity.pkiId, cert: alice.identity.cert, secret: null }), altered: false };
    }
    case 5: {
      const env = parseEnvelope(base);
      if (!env.ok) throw new Error('fixture');
      const other = parseEnvelope(valid[rng.int(valid.length)]!);
      if (!other.ok) throw new Error('fixture');
      // A tag is 16 bytes, a signature 64: a swap across the two forms is refused by shape.
      const swapped = encodeEnvelope({ ...env.env, signature: other.env.signature });
      return { bytes: swapped, altered: !Buffer.from(other.env.signature).equals(Buffer.from(env.env.signature)) };
    }
    case 6: {
      // Signed by the real sender, so only the canonical rule can refuse it.
      const env = parseEnvelope(base);
      if (!env.ok) throw new Error('fixture');
      const p = nonCanonical(rng, env.env.payload);
      return { bytes: encodeEnvelope({ payload: p, signature: alice.sign(p), signer: alice.identity.pkiId, cert: alice.identity.cert, secret: null }), altered: true, nonCanonical: true };
    }
    default: {
      const big = new Uint8Array(70_000 + rng.int(10_000));
      big.set(base);
      return { bytes: big, altered: true };
    }
  }
}

test(`${ITERATIONS} fuzzed inputs: no exception escapes, nothing altered is accepted, all refusals counted`, () => {
  const rng = rngFromSeed('wire-fuzz-1');
  const codec = bobCodec(64 * 1024);
  let escaped = 0;
  let refused = 0;
  let alteredAccepted = 0;
  let nonCanonicalAccepted = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    const { bytes, altered, nonCanonical } = mutate(rng);
    try {
      const r = codec.decode(bytes);
      if (r.ok && nonCanonical) nonCanonicalAccepted++;
      if (!r.ok) {
        refused++;
        assert.ok(r.reason !== 'copy' && REJECT_REASONS.includes(r.reason), r.reason);
      } else if (altered && !valid.some((v) => Buffer.from(v).equals(Buffer.from(bytes)))) {
        // A bit flip may only be accepted if it left the signed payload and signer untouched (e.g. in the
        // optional certificate's framing); the payload must then equal an original payload exactly.
        const orig = valid.map((v) => codecFor().decode(v)).find((o) => o.ok && Buffer.from(encodeCbor(o.msg.payload)).equals(Buffer.from(encodeCbor(r.msg.payload))));
        if (!orig) alteredAccepted++;
      }
    } catch {
      escaped++;
    }
  }
  assert.is(escaped, 0, 'exceptions escaped the decoder');
  assert.is(alteredAccepted, 0, 'an altered message was accepted');
  assert.is(nonCanonicalAccepted, 0, 'a second encoding of a signed payload was accepted');
  assert.is(codec.rejections.total, refused, 'every refusal is counted');
  const counted = codec.rejections.snapshot();
  for (const reason of ['oversized', 'malformed-envelope', 'bad-envelope', 'bad-payload', 'bad-signature', 'malformed-payload', 'bad-mac', 'mac-misaddressed', 'mac-stale-key']) assert.ok((counted[reason] ?? 0) > 0, `no ${reason} seen: ${JSON.stringify(counted)}`);
  console.log(`    fuzz: ${refused} refused of ${ITERATIONS}: ${JSON.stringify(counted)}`);
});

test.run();
