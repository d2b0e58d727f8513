// VerifiedBlock (runtime/ledger/verified-block.ts): a block's orderer signature is checked once per peer, and
// only that peer's own verification lets its ledger skip the check.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Ed25519 } from '../../runtime/crypto/ed25519.ts';
import { MemoryLedgerStore } from '../../runtime/ledger/memory.ledger.ts';
import { makeBlock, type Block } from '../../runtime/ledger/block.ts';
import type { Ledger } from '../../runtime/ledger/ledger.ts';
import type { VerifiedBlock } from '../../runtime/ledger/verified-block.ts';
import { ed, material } from '../helpers/material.ts';
import { buildChain } from '../helpers/chain.ts';

function countingEd(): Ed25519 & { verifies: number } {
  const c = {
    verifies: 0,
    name: ed.name,
    publicKey: (s: Uint8Array) => ed.publicKey(s),
    sign: (s: Uint8Array, m: Uint8Array) => ed.sign(s, m),
    verify(pk: Uint8Array, m: Uint8Array, sig: Uint8Array) {
      c.verifies++;
      return ed.verify(pk, m, sig);
    },
  };
  return c;
}

function verified(l: Ledger, b: Block): VerifiedBlock {
  const v = l.verify(b);
  if (!v.ok) throw new Error(`block ${b.number}: ${v.reason}`);
  return v.block;
}

test('a block the ledger verified is committed without a second signature check; another block is checked at commit', async () => {
  const { genesis, blocks } = buildChain(4);
  const e = countingEd();
  const l = await new MemoryLedgerStore(e).open(genesis);
  const v = blocks.slice(0, 2).map((b) => verified(l, b));
  assert.is(e.verifies, 2);
  assert.is((await l.commit(v)).height, 3);
  assert.is(e.verifies, 2, 'no check at commit');
  assert.is((await l.commit(blocks.slice(2))).height, 5);
  assert.is(e.verifies, 4, 'unverified input is checked by the commit rule');
});

test("each peer verifies for itself: another ledger's VerifiedBlock is checked again", async () => {
  const { genesis, blocks } = buildChain(1);
  const ea = countingEd();
  const eb = countingEd();
  const a = await new MemoryLedgerStore(ea).open(genesis);
  const b = await new MemoryLedgerStore(eb).open(genesis);
  const v = verified(a, blocks[0]!);
  assert.is((await b.commit([v])).height, 2);
  assert.equal([ea.verifies, eb.verifies], [1, 1]);
});

test('the brand cannot be forged by a cast: a forged block typed VerifiedBlock is refused', async () => {
  const { genesis, blocks } = buildChain(1);
  const l = await new MemoryLedgerStore(ed).open(genesis);
  const forged = makeBlock(1, blocks[0]!.previousHash, blocks[0]!.data, (m) => ed.sign(material().orgs[0]!.peers[0]!.secret, m)) as VerifiedBlock;
  assert.equal((await l.commit([forged])).rejected, { number: 1, reason: 'bad-block-signature' });
  assert.is(l.height(), 1);
});

test.run();
