// Block dissemination and state transfer on the whole peer, in simulated time: push, pull and anti-entropy
// together bring every block to every peer under loss, partitions, late joins and a Byzantine peer.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Harness } from '../../runtime/sim/harness.ts';
import { signerOf } from '../../runtime/crypto/material.ts';
import { seal } from '../../runtime/wire/envelope.ts';
import { blockHash, encodeBlock, makeBlock } from '../../runtime/ledger/block.ts';
import type { DataMsg, StateResMsg, UpdateMsg } from '../../runtime/wire/messages.ts';
import { allCaughtUp, CH, height, leaders, ONE_TX_BLOCKS, ordererChain, peerChain, produce, total } from '../helpers/blocks-sim.ts';
import { payloadOf } from '../../runtime/sim/kinds.ts';

test('3 orgs x 8 peers, 1 000 blocks, 5 % loss: every peer commits every block, ledgers identical', async () => {
  const h = await Harness.create({ orgs: 3, peers: 8, seed: 'dissem-1000', signer: 'sim', link: { loss: 0.05 }, startJitterMs: 1000, orderer: ONE_TX_BLOCKS });
  try {
    assert.ok(await h.until(() => leaders(h).length === 3, 60_000, 500), 'one leader per org');
    await produce(h, 1000, 100);
    assert.ok(await h.until(() => allCaughtUp(h), 120_000, 500), `heights ${h.running().map((p) => height(h, p.id))}`);
    const want = ordererChain(h);
    assert.is(want.length, 1001);
    for (const p of h.running()) assert.equal(peerChain(h, p.id), want, p.id);
    // Every block reached every follower by some gossip path, counted once by source.
    assert.is(total(h, 'blocksFromOrderer') + total(h, 'blocksByPush') + total(h, 'blocksByPull') + total(h, 'blocksByStateTransfer'), 24 * 1000);
    for (const p of h.running()) {
      const rejected = p.peer!.status()[0]!.counters.rejected;
      for (const r of Object.keys(rejected)) assert.not.ok(/^(block-|pull-bad|state-bad|ledger-refused)/.test(r), `${p.id} refused ${r}`);
      assert.ok(['synced', 'syncing'].includes(p.peer!.status()[0]!.state!));
    }
  } finally {
    await h.stop();
  }
});

test('a peer partitioned away for 200 blocks catches up after heal', async () => {
  // Static leaders (Fabric's default), so the cut-off peer cannot elect itself and read the orderer.
  const h = await Harness.create({
    orgs: 2,
    peers: 4,
    seed: 'dissem-partition',
    signer: 'sim',
    orderer: ONE_TX_BLOCKS,
    peerOptions: { useLeaderElection: false },
    perPeer: (id) => ({ orgLeader: id.startsWith('peer0.') }),
  });
  try {
    await h.advance(10_000);
    await produce(h, 20, 100);
    const cut = 'peer2.org2';
    h.partition([[cut]]);
    await produce(h, 200, 100);
    const behind = h.ordering.height(CH) - height(h, cut);
    assert.ok(behind >= 200, `${cut} is ${behind} behind`);
    h.heal();
    const at = h.clock.now();
    assert.ok(await h.until(() => allCaughtUp(h), 120_000, 250), `${cut} at ${height(h, cut)} of ${h.ordering.height(CH)}`);
    assert.equal(peerChain(h, cut), ordererChain(h));
    const row = h.peers.get(cut)!.peer!.status()[0]!;
    assert.ok(row.counters.blocksByStateTransfer! >= 150, `state transfer brought ${row.counters.blocksByStateTransfer}`);
    console.log(`    ${cut} caught up ${behind} blocks ${((h.clock.now() - at) / 1000).toFixed(1)} s after heal`);
  } finally {
    await h.stop();
  }
});

test('a late joiner catches up 2 000 blocks by state transfer', async () => {
  const late = 'peer2.org1';
  const h = await Harness.create({ orgs: 2, peers: 3, seed: 'dissem-late', signer: 'sim', orderer: ONE_TX_BLOCKS });
  try {
    await h.crash(late);
    assert.ok(await h.until(() => leaders(h).length === 2, 60_000, 500));
    await produce(h, 2000, 20);
    assert.ok(await h.until(() => allCaughtUp(h), 60_000, 500));
    await h.start(late);
    const at = h.clock.now();
    assert.ok(await h.until(() => height(h, late) === h.ordering.height(CH), 120_000, 250), `${late} at ${height(h, late)}`);
    assert.equal(peerChain(h, late), ordererChain(h));
    const c = h.peers.get(late)!.peer!.status()[0]!.counters;
    assert.ok(c.blocksByStateTransfer! >= 1990, `by state transfer: ${c.blocksByStateTransfer}`);
    console.log(`    2 000 blocks in ${((h.clock.now() - at) / 1000).toFixed(1)} s (simulated) after start`);
  } finally {
    await h.stop();
  }
});

test('a Byzantine peer sending forged, altered and replayed blocks and bogus pull and state responses changes no ledger', async () => {
  const evil = 'peer4.org1';
  // Pull every round (peer.gossip.murmur.pull: always), so the honest peers solicit the byzantine responses.
  const h = await Harness.create({ orgs: 1, peers: 5, seed: 'dissem-byzantine', orderer: ONE_TX_BLOCKS, timings: { stateCheckInterval: 2000 }, peerOptions: { pull: 'always' } });
  try {
    assert.ok(await h.until(() => leaders(h).length === 1 && leaders(h)[0]!.id !== evil, 60_000, 500), 'an honest leader');
    const signer = signerOf(h.peers.get(evil)!.material, h.ed);
    const rogue = h.network.transport({ endpoint: 'rogue', decoder: h.peers.get(evil)!.codec });
    await rogue.start();
    const honest = () => h.running().filter((p) => p.id !== evil);
    const fakeOrderer = new Uint8Array(32).fill(3);
    const data = (seq: number, msg: Omit<DataMsg, 't' | 'ch'> & Partial<DataMsg>) => seal({ t: 'data', ch: CH, ...msg } as DataMsg, signer);
    const seen: Uint8Array[] = [];
    // Replies to what honest peers ask of the Byzantine peer: forged blocks under the right nonces.
    h.network.taps.add((from, subject, bytes) => {
      if (from === 'rogue') return;
      const p = payloadOf(bytes);
      if (!p) return;
      if (p.t === 'data' && seen.length < 50) seen.push(bytes);
      if (!subject.endsWith(`.inbox.${evil}`)) return;
      const forged = (seq: number) => data(seq, { seq, block: encodeBlock(makeBlock(seq, new Uint8Array(32), [new Uint8Array([6, 6, 6])], (m) => h.ed.sign(fakeOrderer, m))) });
      if (p.t === 'request') {
        rogue.send(from, seal({ t: 'update', ch: CH, nonce: p.nonce, kind: 'block', items: p.digests.map((d) => forged(Number(d))) } satisfies UpdateMsg, signer));
        rogue.send(from, seal({ t: 'update', ch: CH, nonce: p.nonce + 1, kind: 'block', items: [forged(1)] } satisfies UpdateMsg, signer));
      }
      // Advertise the next blocks the orderer has not cut yet (some are still uncut when the asker's digest
      // wait ends): the only advertiser gets asked for them, and answers forgeries.
      const next = h.ordering.height(CH);
      if (p.t === 'hello') rogue.send(from, seal({ t: 'digest', ch: CH, nonce: p.nonce, kind: 'block', digests: Array.from({ length: 16 }, (_, i) => String(next + i)) }, signer));
      if (p.t === 'stateReq') {
        const blocks = [];
        for (let s = p.start; s <= p.end; s++) blocks.push({ seq: s, block: encodeBlock(makeBlock(s, new Uint8Array(32), [], (m) => h.ed.sign(fakeOrderer, m))) });
        rogue.send(from, seal({ t: 'stateRes', ch: CH, nonce: p.nonce, blocks } satisfies StateResMsg, signer));
      }
    });
    const attack = () => {
      const n = h.ordering.height(CH);
      const genuine = h.ordering.block(CH, n - 1)!;
      const forgedNext = makeBlock(n, blockHash(genuine), [new Uint8Array([1])], (m) => h.ed.sign(fakeOrderer, m));
      const altered = { ...genuine, data: [new Uint8Array([9, 9])] };
      const msgs = [
        data(n, { seq: n, block: encodeBlock(forgedNext) }), // forged: not the orderer's signature
        data(n - 1, { seq: n - 1, block: encodeBlock(altered) }), // altered transactions (a duplicate where n − 1 is committed)
        data(n, { seq: n, block: encodeBlock({ ...forgedNext, data: [new Uint8Array([9, 9])] }) }), // altered after signing, a number not yet held
        data(n, { seq: n, block: encodeBlock(genuine) }), // a genuine block replayed under the next number
        ...seen.slice(0, 5), // old envelopes replayed
      ];
      for (const p of honest()) {
        for (const m of msgs) rogue.send(p.id, m);
        rogue.send(p.id, seal({ t: 'stateRes', ch: CH, nonce: 12345, blocks: [{ seq: n, block: encodeBlock(forgedNext) }] } satisfies StateResMsg, signer));
      }
    };
    for (let i = 0; i < 120; i++) {
      await produce(h, 1, 100);
      attack();
    }
    // A follower that lost its blocks must fetch them while the Byzantine peer answers too.
    const victim = honest().find((p) => p.peer!.elections.get(CH)!.role() === 'follower')!.id;
    h.partition([[victim]]);
    await produce(h, 50, 100);
    h.heal();
    assert.ok(await h.until(() => honest().every((p) => height(h, p.id) === h.ordering.height(CH)), 120_000, 250), `heights ${honest().map((p) => height(h, p.id))}`);
    const want = ordererChain(h);
    for (const p of honest()) assert.equal(peerChain(h, p.id), want, p.id);
    const rejected: Record<string, number> = {};
    for (const p of honest()) for (const [k, v] of Object.entries(p.peer!.status()[0]!.counters.rejected)) rejected[k] = (rejected[k] ?? 0) + v;
    for (const r of ['block-bad-signature', 'block-bad-data-hash', 'block-number-mismatch', 'state-unsolicited-response'])
      assert.ok(rejected[r]! > 0, `${r} counted: ${JSON.stringify(rejected)}`);
    assert.ok((rejected['pull-bad-block'] ?? 0) + (rejected['pull-unknown-nonce'] ?? 0) + (rejected['pull-window-closed'] ?? 0) > 0, `bogus pull responses counted: ${JSON.stringify(rejected)}`);
    console.log(`    refused: ${JSON.stringify(rejected)}`);
  } finally {
    await h.stop();
  }
});

test.run();
