// Block validation before a gossiped block is stored, forwarded or enqueued (actors/block-check.ts).
import { test } from '../helpers/test.ts';
import * as assert from 'uvu/assert';
import { checkBlockBytes } from '../../actors/block-check.ts';
import { blockHash, decodeBlock, encodeBlock, makeBlock } from '../../runtime/ledger/block.ts';
import { ed, material } from '../helpers/material.ts';
import { buildChain } from '../helpers/chain.ts';
import { generateMaterial } from '../../runtime/crypto/material.ts';
import { BlockVerifier } from '../../runtime/ledger/verified-block.ts';

const { genesis, blocks } = buildChain(3);
const key = genesis.ordererPublicKey;
const verifier = () => new BlockVerifier(key, ed, genesis.config.channel);

test('a genuine block passes, with and without its predecessor hash', () => {
  const r = checkBlockBytes(encodeBlock(blocks[1]!), 2, verifier(), blockHash(blocks[0]!));
  assert.ok(r.ok);
  assert.ok(checkBlockBytes(encodeBlock(blocks[1]!), 2, verifier()).ok);
});

test('forged, altered, renumbered, mislinked and malformed blocks are refused with a reason', () => {
  const b = blocks[1]!;
  const other = generateMaterial({ orgs: ['Org1'], peers: 1, channels: ['channel1'] });
  const forged = makeBlock(2, b.previousHash, b.data, (m) => ed.sign(other.orderer.secret, m));
  assert.equal(checkBlockBytes(encodeBlock(forged), 2, verifier()), { ok: false, reason: 'block-bad-signature' });
  const altered = { ...b, data: [new Uint8Array([9, 9, 9])] };
  assert.equal(checkBlockBytes(encodeBlock(altered), 2, verifier()), { ok: false, reason: 'block-bad-data-hash' });
  const rehashed = { ...altered, dataHash: blocks[2]!.dataHash };
  assert.ok(!checkBlockBytes(encodeBlock(rehashed), 2, verifier()).ok, 'a re-hashed block breaks the signature');
  assert.equal(checkBlockBytes(encodeBlock(b), 3, verifier()), { ok: false, reason: 'block-number-mismatch' }, 'a replay under another number');
  assert.equal(checkBlockBytes(encodeBlock(b), 2, verifier(), blockHash(blocks[1]!)), { ok: false, reason: 'block-bad-previous-hash' });
  assert.ok(material().orderer.secret.byteLength > 0);
});

test('fabric state/TestNilAddPayload', () => {
  // Fabric refuses a nil payload with an error; murmur refuses empty and garbage bytes the same way.
  assert.equal(checkBlockBytes(new Uint8Array(0), 1, verifier()), { ok: false, reason: 'block-malformed' });
  assert.equal(checkBlockBytes(new Uint8Array([1, 2, 3]), 1, verifier()), { ok: false, reason: 'block-malformed' });
});

test('decoded and verified blocks are frozen, hashed and encoded once; a plain object is hashed afresh', () => {
  const bytes = encodeBlock(blocks[1]!);
  const d = decodeBlock(bytes)!;
  assert.ok(Object.isFrozen(d) && Object.isFrozen(d.data), 'a decoded block and its data list are frozen');
  assert.is(encodeBlock(d), bytes, 'a decoded block re-sends the bytes it came in');
  // The same block with one head padded (the version as a 1-byte-argument integer): decoded alike, never forwarded as it came.
  const padded = Uint8Array.of(bytes[0]!, 0x18, ...bytes.subarray(1));
  const p = decodeBlock(padded)!;
  assert.equal(p, d, 'a padded encoding decodes to the same block');
  assert.equal(encodeBlock(p), bytes, 'and is re-encoded canonically, not passed on padded');
  assert.is(blockHash(d), blockHash(d), 'its header hash is computed once');
  assert.equal(blockHash(d), blockHash(blocks[1]!));
  // A plain block that is edited keeps giving the hash of what it holds now.
  const loose = { ...blocks[1]! };
  const before = blockHash(loose);
  loose.number = 99;
  assert.not.equal(blockHash(loose), before, 'a plain object is hashed afresh');
  // Verification freezes what it vouches for, so the record cannot go stale.
  const fresh = makeBlock(2, blockHash(blocks[0]!), [new Uint8Array([1, 2])], (m) => ed.sign(material().orderer.secret, m));
  const v = new BlockVerifier(material().orderer.cert.publicKey, ed);
  assert.ok(v.verify(fresh).ok);
  assert.ok(Object.isFrozen(fresh) && Object.isFrozen(fresh.data));
  assert.ok(v.vouches(fresh));
  assert.throws(() => {
    (fresh as { number: number }).number = 3;
  }, 'a verified block cannot be renumbered');
});

test.run();
