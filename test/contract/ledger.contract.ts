// The Ledger contract: lmdb and memory run this one suite. A store factory may be called again after
// `close()` to reopen the same underlying storage (a restart).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { blockHash, makeBlock, type Block } from '../../runtime/ledger/block.ts';
import type { LedgerStore } from '../../runtime/ledger/ledger.ts';
import { toHex } from '../../runtime/util/bytes.ts';
import { buildChain, genesisOf } from '../helpers/chain.ts';
import { ed, material } from '../helpers/material.ts';
import { generateMaterial } from '../../runtime/crypto/material.ts';

export interface LedgerWorld {
  /** A store over the world's storage; call again after close() to reopen it. */
  store(): LedgerStore;
  cleanup(): Promise<void>;
}

const tamper = (b: Block, f: (c: Block) => void): Block => {
  const c: Block = { ...b, previousHash: b.previousHash.slice(), dataHash: b.dataHash.slice(), data: b.data.map((d) => d.slice()), signature: b.signature.slice() };
  f(c);
  return c;
};

export function ledgerContract(name: string, makeWorld: () => Promise<LedgerWorld>) {
  const test = suite(`ledger contract: ${name}`);

  test('open writes genesis: height 1, tip = genesis hash; reads by number and range', async () => {
    const w = await makeWorld();
    const store = w.store();
    try {
      const { genesis, blocks } = buildChain(5);
      const l = await store.open(genesis);
      assert.is(l.height(), 1);
      assert.is(toHex(l.tipHash()), toHex(blockHash(genesis.block)));
      const r = await l.commit(blocks.slice(0, 2));
      assert.equal(r.rejected, null);
      assert.is(r.committed.length, 2);
      const r2 = await l.commit(blocks.slice(2));
      assert.is(r2.height, 6);
      assert.is(l.height(), 6);
      assert.is(toHex(l.tipHash()), toHex(blockHash(blocks[4]!)));
      assert.equal(l.get(3), blocks[2]);
      assert.is(l.get(6), null);
      assert.is(l.get(-1), null);
      assert.equal(l.range(2, 100).map((b) => b.number), [2, 3, 4, 5]);
      assert.equal(l.range(0, 2).map((b) => b.number), [0, 1]);
      assert.ok(l.getEncoded(0));
    } finally {
      await store.close();
      await w.cleanup();
    }
  });

  test('a restart continues at the committed height; another genesis for the channel is refused', async () => {
    const w = await makeWorld();
    try {
      const { genesis, blocks } = buildChain(3);
      let store = w.store();
      const l = await store.open(genesis);
      await l.commit(blocks);
      await store.close();
      store = w.store();
      const again = await store.open(genesis);
      assert.is(again.height(), 4);
      assert.is(toHex(again.tipHash()), toHex(blockHash(blocks[2]!)));
      const other = generateMaterial({ orgs: ['Org1'], peers: 1, channels: ['channel1'] });
      try {
        await store.open(genesisOf(other));
        assert.unreachable('a foreign genesis must be refused');
      } catch (e) {
        assert.match(String(e), /another chain/, 'the store that has the channel open');
      }
      await store.close();
      store = w.store();
      try {
        await store.open(genesisOf(other));
        assert.unreachable('a foreign genesis must be refused');
      } catch (e) {
        assert.match(String(e), /another chain/, 'a fresh store');
      } finally {
        await store.close();
      }
    } finally {
      await w.cleanup();
    }
  });

  test('tampered signature, dataHash and previousHash; out-of-order and duplicate blocks: refused and counted', async () => {
    const w = await makeWorld();
    const store = w.store();
    try {
      const { genesis, blocks } = buildChain(6);
      const l = await store.open(genesis);
      await l.commit(blocks.slice(0, 2)); // height 3
      const next = blocks[2]!;
      const cases: [Block, string][] = [
        [tamper(next, (c) => (c.signature[0]! ^= 1)), 'bad-block-signature'],
        [tamper(next, (c) => (c.data[0]![0]! ^= 1)), 'bad-data-hash'],
        [tamper(next, (c) => (c.previousHash[0]! ^= 1)), 'bad-previous-hash'],
        [blocks[3]!, 'bad-number'], // a gap: 4 before 3
        [blocks[1]!, 'bad-number'], // a duplicate of 2
      ];
      for (const [b, reason] of cases) {
        const r = await l.commit([b]);
        assert.equal(r.rejected, { number: b.number, reason }, reason);
        assert.is(r.committed.length, 0);
        assert.is(l.height(), 3, `${reason}: nothing committed`);
      }
      // A block re-signed with the right key but over a wrong previous hash is still a fork.
      const fork = makeBlock(3, blockHash(blocks[0]!), next.data, (m) => ed.sign(material().orderer.secret, m));
      assert.equal((await l.commit([fork])).rejected, { number: 3, reason: 'bad-previous-hash' });
      // A block signed by someone else (a peer's key) is refused.
      const forged = makeBlock(3, blockHash(blocks[1]!), next.data, (m) => ed.sign(material().orgs[0]!.peers[0]!.secret, m));
      assert.equal((await l.commit([forged])).rejected, { number: 3, reason: 'bad-block-signature' });
      // The orderer's key signs every channel: a v2 block cut for another channel links and verifies, and is refused.
      const elsewhere = makeBlock(3, blockHash(blocks[1]!), next.data, (m) => ed.sign(material().orderer.secret, m), 1_700_000_000_000, 'some-other-channel');
      assert.equal((await l.commit([elsewhere])).rejected, { number: 3, reason: 'bad-channel' });
      assert.equal(l.rejections.snapshot(), { 'bad-block-signature': 2, 'bad-channel': 1, 'bad-data-hash': 1, 'bad-number': 2, 'bad-previous-hash': 2 });
      // A batch commits its valid prefix and stops at the first bad block.
      const bad = tamper(blocks[4]!, (c) => (c.signature[5]! ^= 1));
      const r = await l.commit([next, blocks[3]!, bad, blocks[5]!]);
      assert.equal(r.committed.map((b) => b.number), [3, 4]);
      assert.equal(r.rejected, { number: 5, reason: 'bad-block-signature' });
      assert.is(l.height(), 5);
      assert.is((await l.commit([blocks[4]!, blocks[5]!])).height, 7);
    } finally {
      await store.close();
      await w.cleanup();
    }
  });

  test('verify: the channel\'s block check, once; commit keeps number, link and dataHash for what it verified', async () => {
    const w = await makeWorld();
    const store = w.store();
    try {
      const { genesis, blocks } = buildChain(5);
      const l = await store.open(genesis);
      assert.equal(l.verify(blocks[0]!, { number: 2 }), { ok: false, reason: 'bad-number' });
      assert.equal(l.verify(blocks[1]!, { previousHash: blockHash(blocks[1]!) }), { ok: false, reason: 'bad-previous-hash' });
      const forged = makeBlock(1, blockHash(genesis.block), blocks[0]!.data, (m) => ed.sign(material().orgs[0]!.peers[0]!.secret, m));
      assert.equal(l.verify(forged), { ok: false, reason: 'bad-block-signature' });
      const elsewhere = makeBlock(1, blockHash(genesis.block), blocks[0]!.data, (m) => ed.sign(material().orderer.secret, m), 1_700_000_000_000, 'some-other-channel');
      assert.equal(l.verify(elsewhere), { ok: false, reason: 'bad-channel' });
      // Verified, then altered: the data in place (dataHash is still checked), the header (checked in full).
      const v1 = l.verify(tamper(blocks[0]!, () => undefined));
      const v2 = l.verify(tamper(blocks[1]!, () => undefined));
      assert.ok(v1.ok && v2.ok);
      v1.block.data[0]![0]! ^= 1;
      v2.block.previousHash[0]! ^= 1;
      assert.equal((await l.commit([v1.block])).rejected, { number: 1, reason: 'bad-data-hash' });
      v1.block.data[0]![0]! ^= 1;
      assert.equal((await l.commit([v1.block, v2.block])).rejected, { number: 2, reason: 'bad-previous-hash' });
      v2.block.previousHash[0]! ^= 1;
      const rest = blocks.slice(2).map((b) => {
        const v = l.verify(b);
        if (!v.ok) throw new Error(`block ${b.number}: ${v.reason}`);
        return v.block;
      });
      const r = await l.commit([v2.block, ...rest]);
      assert.equal({ ...r, committed: r.committed.map((b) => b.number) }, { committed: [2, 3, 4, 5], height: 6, rejected: null });
      assert.equal(l.range(1, 6), blocks);
      assert.equal(l.rejections.snapshot(), { 'bad-data-hash': 1, 'bad-previous-hash': 1 }, 'verify alone counts nothing; commit counts');
    } finally {
      await store.close();
      await w.cleanup();
    }
  });

  test('commits issued together are applied one after another; commits$ reports each', async () => {
    const w = await makeWorld();
    const store = w.store();
    try {
      const { genesis, blocks } = buildChain(30);
      const l = await store.open(genesis);
      const seen: number[] = [];
      const sub = l.commits$.subscribe((c) => seen.push(c.height));
      const results = await Promise.all([l.commit(blocks.slice(0, 10)), l.commit(blocks.slice(10, 20)), l.commit(blocks.slice(20))]);
      sub.unsubscribe();
      assert.equal(results.map((r) => r.height), [11, 21, 31]);
      assert.equal(seen, [11, 21, 31]);
      assert.equal(l.range(1, 31), blocks);
    } finally {
      await store.close();
      await w.cleanup();
    }
  });

  return test;
}
