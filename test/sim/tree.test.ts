// Tree dissemination (murmur's default) on whole peers in simulated time: about one payload copy per peer per
// block under loss and crashes, repair without the pull timer, and announcers that lie are skipped.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Harness } from '../../runtime/sim/harness.ts';
import { classify } from '../../runtime/sim/kinds.ts';
import { signerOf } from '../../runtime/crypto/material.ts';
import { seal } from '../../runtime/wire/envelope.ts';
import type { IHaveMsg } from '../../runtime/wire/messages.ts';
import { allCaughtUp, CH, height, leaders, ONE_TX_BLOCKS, ordererChain, peerChain, produce } from '../helpers/blocks-sim.ts';

/** Payload copies delivered to the inboxes of `ids`, and tree control messages (ihave, graft, prune). */
function countCopies(h: Harness, ids: () => Set<string>) {
  const c = { copies: 0, control: 0 };
  h.network.deliveryTaps.add((_from, to, subject, bytes) => {
    if (!subject.includes('.inbox.') || !ids().has(to)) return;
    const k = classify(bytes);
    c.copies += k.blocks;
    if (k.kind === 'ihave' || k.kind === 'graft' || k.kind === 'prune') c.control++;
  });
  return c;
}

const treeStat = (h: Harness, key: 'graftsSent' | 'prunesSent' | 'blocksServed') =>
  h.running().reduce((n, p) => n + (p.peer!.gossip.get(CH)!.tree?.stats[key] ?? 0), 0);

test('3 orgs x 8 peers, 5 % loss, two followers per org crash and return: every block everywhere, ≤ 1.2 copies', async () => {
  const h = await Harness.create({ orgs: 3, peers: 8, seed: 'tree-loss-crash', signer: 'sim', link: { loss: 0.05 }, startJitterMs: 1000, orderer: ONE_TX_BLOCKS });
  try {
    assert.ok(await h.until(() => leaders(h).length === 3, 60_000, 500), 'one leader per org');
    for (const p of h.running()) assert.is(p.peer!.gossip.get(CH)!.mode, 'tree');
    await h.advance(10_000);
    const victims = ['org1', 'org2', 'org3'].flatMap((o) =>
      h
        .running()
        .filter((p) => p.id.endsWith(`.${o}`) && p.peer!.elections.get(CH)!.role() !== 'leader')
        .slice(0, 2)
        .map((p) => p.id),
    );
    // Copies are counted at followers that stay up (leaders read the orderer; victims catch up by state).
    const steady = new Set(h.running().filter((p) => !victims.includes(p.id) && p.peer!.elections.get(CH)!.role() !== 'leader').map((p) => p.id));
    const c = countCopies(h, () => steady);
    const base = h.ordering.height(CH);
    await produce(h, 50, 100);
    for (const v of victims) await h.crash(v);
    await produce(h, 50, 100);
    for (const v of victims) await h.start(v);
    await produce(h, 50, 100);
    assert.ok(await h.until(() => allCaughtUp(h), 60_000, 250), `heights ${h.running().map((p) => height(h, p.id))}`);
    const want = ordererChain(h);
    for (const p of h.running()) assert.equal(peerChain(h, p.id), want, p.id);
    const blocks = h.ordering.height(CH) - base;
    const perPeer = c.copies / (blocks * steady.size);
    assert.ok(perPeer <= 1.2, `copies per peer per block ${perPeer.toFixed(3)}`);
    assert.ok(perPeer >= 0.95, `every steady peer got (about) one copy of each block: ${perPeer.toFixed(3)}`);
    assert.ok(treeStat(h, 'graftsSent') > 0, 'lost payloads were repaired by grafts');
    assert.ok(treeStat(h, 'prunesSent') > 0, 'extra eager links were pruned');
    console.log(`    copies/peer/block ${perPeer.toFixed(3)}, control msgs/peer/block ${(c.control / (blocks * steady.size)).toFixed(2)}, grafts ${treeStat(h, 'graftsSent')}`);
  } finally {
    await h.stop();
  }
});

test('a partition inside an org splits the tree; after heal the tree re-forms at about one copy per block', async () => {
  const h = await Harness.create({ orgs: 1, peers: 10, seed: 'tree-partition', signer: 'sim', orderer: ONE_TX_BLOCKS, peerOptions: { useLeaderElection: false }, perPeer: (id) => ({ orgLeader: id === 'peer0.org1' }) });
  try {
    await h.advance(10_000);
    await produce(h, 20, 100);
    const cut = ['peer6.org1', 'peer7.org1', 'peer8.org1', 'peer9.org1'];
    h.partition([cut]);
    await produce(h, 40, 100);
    for (const id of cut) assert.ok(height(h, id) < h.ordering.height(CH) - 30, `${id} was cut off`);
    h.heal();
    assert.ok(await h.until(() => allCaughtUp(h), 60_000, 250));
    // Membership and links settle; then the measured window.
    await produce(h, 20, 100);
    const all = new Set(h.running().map((p) => p.id));
    const c = countCopies(h, () => all);
    await produce(h, 50, 100);
    assert.ok(await h.until(() => allCaughtUp(h), 30_000, 100));
    const perPeer = c.copies / (50 * (all.size - 1));
    assert.ok(perPeer <= 1.1, `copies per follower per block after heal ${perPeer.toFixed(3)}`);
    for (const id of cut) assert.equal(peerChain(h, id), ordererChain(h), id);
  } finally {
    await h.stop();
  }
});

test('a settled tree refreshes its links every 4 s, not every second, and drops a dead peer as soon as it is declared dead', async () => {
  const h = await Harness.create({ orgs: 1, peers: 6, seed: 'tree-quiet', signer: 'sim', orderer: ONE_TX_BLOCKS, startJitterMs: 1000 });
  try {
    assert.ok(await h.until(() => leaders(h).length === 1, 60_000, 500), 'a leader');
    await produce(h, 10, 100);
    await h.advance(20_000);
    const trees = () => h.running().map((p) => ({ id: p.id, tree: p.peer!.gossip.get(CH)!.tree! }));
    for (const { id, tree } of trees()) assert.ok(tree.tree.size > 0 && tree.tree.unconfirmed().length === 0, `${id}: settled`);
    // Count link refreshes over an idle minute (the timer's; no blocks move).
    let refreshes = 0;
    for (const { tree } of trees()) {
      const t = tree as unknown as { refresh: (force?: boolean) => void };
      const orig = t.refresh.bind(t);
      t.refresh = (force) => (refreshes++, orig(force));
    }
    await h.advance(60_000);
    const perPeerPerMinute = refreshes / trees().length;
    assert.ok(perPeerPerMinute >= 13 && perPeerPerMinute <= 17, `refreshes per peer per idle minute: ${perPeerPerMinute}`);
    // A peer crashes; each survivor drops its link when its membership declares it dead, not at the next tick.
    const victim = h.running().find((p) => p.peer!.elections.get(CH)!.role() !== 'leader')!.id;
    const victimPki = h.peers.get(victim)!.pkiIdHex;
    const survivors = h.running().filter((p) => p.id !== victim);
    const linkedAtDeath: string[] = [];
    for (const p of survivors)
      p.peer!.discovery.events$.subscribe((e) => {
        if (e.type === 'dead' && e.member.pkiIdHex === victimPki) queueMicrotask(() => p.peer!.gossip.get(CH)!.tree!.tree.link(victimPki) && linkedAtDeath.push(p.id));
      });
    await h.crash(victim);
    assert.ok(await h.until(() => survivors.every((p) => !p.peer!.discovery.member(victimPki) || p.peer!.discovery.member(victimPki)!.status !== 'alive'), 60_000, 100), 'declared dead');
    await h.advance(100);
    assert.equal(linkedAtDeath, [], 'no survivor still links the dead peer once it is declared dead');
  } finally {
    await h.stop();
  }
});

test('an announcer that never delivers is skipped; announcements from another org are refused', async () => {
  const liar = 'peer3.org1';
  const h = await Harness.create({ orgs: 2, peers: 4, seed: 'tree-liar', orderer: ONE_TX_BLOCKS, timings: { stateCheckInterval: 2000 } });
  try {
    assert.ok(await h.until(() => leaders(h).length === 2 && !leaders(h).some((p) => p.id === liar), 60_000, 500), 'honest leaders');
    await h.advance(10_000);
    const signer = signerOf(h.peers.get(liar)!.material, h.ed);
    const foreign = signerOf(h.peers.get('peer1.org2')!.material, h.ed);
    const rogue = h.network.transport({ endpoint: 'rogue', decoder: h.peers.get(liar)!.codec });
    await rogue.start();
    const honest = () => h.running().filter((p) => p.id.endsWith('.org1') && p.id !== liar);
    // The liar's own peer is silenced, so the grafts it draws go unanswered.
    h.partition([[liar]]);
    const announce = (s: typeof signer) => {
      const n = h.ordering.height(CH);
      const blocks = [n, n + 1, n + 2].map((seq) => ({ seq, hash: new Uint8Array(32).fill(seq % 256) }));
      for (const p of honest()) rogue.send(p.id, seal({ t: 'ihave', ch: CH, blocks } satisfies IHaveMsg, s));
    };
    const at = h.clock.now();
    for (let i = 0; i < 60; i++) {
      announce(signer);
      if (i % 10 === 0) announce(foreign);
      await produce(h, 1, 100);
    }
    assert.ok(await h.until(() => honest().every((p) => height(h, p.id) === h.ordering.height(CH)), 30_000, 100), `heights ${honest().map((p) => height(h, p.id))}`);
    for (const p of honest()) assert.equal(peerChain(h, p.id), ordererChain(h), p.id);
    let skipped = 0;
    let failures = 0;
    let foreignRefused = 0;
    for (const p of honest()) {
      const t = p.peer!.gossip.get(CH)!.tree!.tree;
      skipped += t.stats.skippedAnnouncements;
      failures += t.stats.failures;
      assert.ok(t.skipped(signer.identity.pkiIdHex, h.clock.now()), `${p.id} skips the liar`);
      foreignRefused += p.peer!.status()[0]!.counters.rejected['tree-foreign-org'] ?? 0;
    }
    assert.ok(failures >= 3 * honest().length, `unanswered grafts counted: ${failures}`);
    assert.ok(skipped > 0, 'later announcements of the liar were ignored');
    assert.ok(foreignRefused > 0, 'announcements signed by another org refused');
    // A graft that lists one block 32 times is served once: a graft does not amplify.
    const tgt = honest()[0]!;
    const served = () => tgt.peer!.gossip.get(CH)!.tree!.stats.blocksServed;
    const served0 = served();
    rogue.send(tgt.id, seal({ t: 'graft', ch: CH, seqs: Array(32).fill(h.ordering.height(CH) - 1), eager: false }, signer));
    await h.advance(100);
    assert.is(served() - served0, 1, 'one copy for 32 listings');
    // The lies cost at most the graft timeouts before the skip: blocks kept flowing to the honest peers.
    assert.ok(h.clock.now() - at < 60 * 100 + 5_000);
    // A same-org peer that left the channel view: its announcements are refused and counted; its link requests
    // are dropped uncounted (at start they race its StateInfo, and the opener asks again).
    const gone = 'peer2.org1';
    const goneSigner = signerOf(h.peers.get(gone)!.material, h.ed);
    await h.crash(gone);
    const target = 'peer1.org1';
    assert.ok(await h.until(() => !h.peers.get(target)!.peer!.gossip.get(CH)!.intake.orgPeers().some((x) => x.id === gone), 120_000, 1000), `${gone} left the view`);
    const notIn = () => h.peers.get(target)!.peer!.status()[0]!.counters.rejected['tree-not-in-channel'] ?? 0;
    const before = notIn();
    rogue.send(target, seal({ t: 'graft', ch: CH, seqs: [], eager: true }, goneSigner));
    rogue.send(target, seal({ t: 'ihave', ch: CH, blocks: [] } satisfies IHaveMsg, goneSigner));
    await h.advance(100);
    assert.is(notIn(), before, 'link requests and acknowledgements are not counted');
    rogue.send(target, seal({ t: 'ihave', ch: CH, blocks: [{ seq: h.ordering.height(CH), hash: new Uint8Array(32) }] } satisfies IHaveMsg, goneSigner));
    await h.advance(100);
    assert.is(notIn(), before + 1, 'an announcement from outside the view is counted');
  } finally {
    await h.stop();
  }
});

test.run();
