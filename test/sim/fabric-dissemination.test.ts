// Fabric's gossip, channel and state scenarios about blocks, ported to the whole murmur peer in simulated
// time (digest §7.3, §7.4). Static org leaders (Fabric's default since v2.2) unless the scenario is about
// election, so blocks start flowing at once. TestNoMessagesSelfLoop, TestDissemination, the state-transfer
// scenarios and StateTransferWithoutOrderer run in both profiles (murmur's tree, Fabric's push and pull).
import { test } from '../helpers/test.ts';
import * as assert from 'uvu/assert';
import { Harness, type HarnessOptions } from '../../runtime/sim/harness.ts';
import { signerOf } from '../../runtime/crypto/material.ts';
import { seal } from '../../runtime/wire/envelope.ts';
import { blockHash, encodeBlock, makeBlock } from '../../runtime/ledger/block.ts';
import type { DataMsg, HelloMsg, LeadershipMsg, UpdateMsg } from '../../runtime/wire/messages.ts';
import { bytesEqual } from '../../runtime/util/bytes.ts';
import { CH, height, ONE_TX_BLOCKS, ordererChain, peerChain, produce } from '../helpers/blocks-sim.ts';
import { payloadOf } from '../../runtime/sim/kinds.ts';
import { candidates } from '../../machines/state-transfer.logic.ts';

const staticLeaders: Partial<HarnessOptions> = {
  orderer: ONE_TX_BLOCKS,
  peerOptions: { useLeaderElection: false },
  perPeer: (id) => ({ orgLeader: id.startsWith('peer0.') }),
};
// Fabric's pull runs every pullInterval whoever is ahead (murmur's default pulls only while behind).
const fabricPull: Partial<HarnessOptions> = { ...staticLeaders, peerOptions: { useLeaderElection: false, pull: 'always' } };
/** Block scenarios run in both profiles: murmur's (tree) and Fabric's (push, pull every round). */
const PROFILES = ['murmur', 'fabric'] as const;
const inboxOf = (subject: string) => subject.split('.inbox.')[1] ?? null;
const rejectedOf = (h: Harness, id: string) => h.peers.get(id)!.peer!.status()[0]!.counters.rejected;

test('fabric gossip/TestPull', async () => {
  // Push off (propagateIterations 0), no state transfer: pull alone, every 1 s with 200 ms windows.
  for (const profile of PROFILES) {
    const h = await Harness.create({
      orgs: 1,
      peers: 5,
      seed: 'fabric-pull',
      signer: 'sim',
      ...staticLeaders,
      timings: { propagateIterations: 0, pullInterval: 1000, digestWaitTime: 200, requestWaitTime: 200, responseWaitTime: 200 },
      // murmur profile: push (propagateIterations 0 turns it off) instead of the tree, and Fabric's pull always.
      peerOptions: { useLeaderElection: false, stateEnabled: false, profile, dissemination: 'push', pull: 'always' },
    });
    try {
      await h.advance(10_000);
      await produce(h, 10, 50);
      assert.ok(await h.until(() => h.running().every((p) => height(h, p.id) === 11), 30_000, 250), `heights ${h.running().map((p) => height(h, p.id))}`);
      for (const p of h.running().filter((x) => x.id !== 'peer0.org1')) {
        const c = p.peer!.status()[0]!.counters;
        assert.equal([c.blocksByPull, c.blocksByPush, c.blocksByStateTransfer, p.peer!.status()[0]!.state], [10, 0, 0, 'disabled'], p.id);
      }
    } finally {
      await h.stop();
    }
  }
});

test('fabric gossip/TestNoMessagesSelfLoop', async () => {
  // Twelve peers, so a block also travels beyond the originator's own fan-out (relayed by peers that got it
  // from another relayer, whose links may include the originator): under the tree (murmur) and under push
  // (the fabric profile's dissemination). Positive control: blocks were relayed by peers other than the
  // originator.
  for (const dissemination of ['tree', 'push'] as const) {
    // Few links per peer (a deep tree) and reordering links, so a peer linked to the originator often gets a
    // relayed copy before the originator's own: only the originator filter keeps it from sending one back.
    const h = await Harness.create({
      orgs: 1,
      peers: 12,
      seed: 'fabric-selfloop',
      signer: 'sim',
      ...staticLeaders,
      link: { reorder: 0.3, reorderDelay: { minMs: 5, maxMs: 30 } },
      // Fabric's pull (every round) repairs what the deep tree misses within the window.
      peerOptions: { useLeaderElection: false, dissemination, pull: 'always', tree: { fanout: 2, maxLinks: 3 } },
    });
    try {
      const back: string[] = [];
      let relayedFromRelayers = 0;
      h.network.taps.add((from, subject, bytes) => {
        if (payloadOf(bytes)?.t !== 'data') return;
        if (inboxOf(subject) === 'peer0.org1') back.push(from);
        if (from !== 'peer0.org1') relayedFromRelayers++;
      });
      await h.advance(10_000);
      await produce(h, 20, 100);
      // Push reaches random peers; what it misses, the next pull rounds (every pullInterval) repair.
      await h.until(() => h.running().every((p) => height(h, p.id) === 21), 20_000, 100);
      await h.advance(2000);
      assert.equal(back, [], `${dissemination}: the originator never receives its own blocks back`);
      assert.ok(relayedFromRelayers > 20, `${dissemination}: blocks were relayed beyond the first hop (${relayedFromRelayers})`);
      for (const p of h.running()) assert.is(height(h, p.id), 21, `${dissemination}: ${p.id}`);
    } finally {
      await h.stop();
    }
  }
});

test('fabric gossip/TestDissemination', async () => {
  for (const profile of PROFILES) {
    const h = await Harness.create({ orgs: 1, peers: 10, seed: `fabric-dissemination-${profile}`, signer: 'sim', ...staticLeaders, peerOptions: { useLeaderElection: false, profile }, timings: { publishStateInfoInterval: 1000 } });
    try {
      const commits = new Map<string, number[]>();
      for (const p of h.running()) {
        commits.set(p.id, []);
        h.ledger(p.id)!.commits$.subscribe((c) => commits.get(p.id)!.push(...c.blocks.map((b) => b.number)));
      }
      await h.advance(10_000);
      await produce(h, 10, 100);
      // Push reaches random peers (the fabric profile); what it misses, pull repairs: wait as Fabric's test does.
      await h.until(() => [...commits.values()].every((got) => got.length >= 10), 30_000, 100);
      await h.advance(3000);
      for (const [id, got] of commits) assert.equal(got, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], `${profile}: ${id}: each block delivered exactly once, in order`);
      // The new height spread through StateInfo: every peer sees every other at height 11.
      for (const p of h.running()) {
        const view = p.peer!.stateInfo.get(CH)!.channelPeers();
        assert.is(view.length, 9, p.id);
        assert.ok(view.every((v) => v.height === 11), `${profile}: ${p.id} sees ${view.map((v) => v.height)}`);
      }
      // Fabric's last part: one leadership message gossiped by the first peer reaches each other peer exactly once
      // (nobody forwards or repeats it). It leaves from a second connection of the first peer, so that peer gets it
      // too.
      const boot = h.peers.get('peer0.org1')!;
      const side = h.network.transport({ endpoint: 'boot-side', decoder: boot.codec });
      await side.start();
      const leadership = seal({ t: 'leadership', ch: CH, pkiId: boot.pkiId, ts: { incNum: h.clock.now(), seqNum: 1 }, declaration: true } satisfies LeadershipMsg, signerOf(boot.material, h.ed));
      const got = new Map<string, number>();
      h.network.deliveryTaps.add((_f, to, _s, bytes) => void (bytesEqual(bytes, leadership) && got.set(to, (got.get(to) ?? 0) + 1)));
      side.publish(h.network.subjects.org(boot.mspId, CH), leadership);
      await h.advance(3000);
      assert.equal([...got].filter(([to]) => to.startsWith('peer')).sort(), [...h.peers.keys()].sort().map((id) => [id, 1]), `${profile}: each peer got it once`);
    } finally {
      await h.stop();
    }
  }
});

test('fabric pull/LatePeers', async () => {
  // Fabric: p1 pulls from p2 and p3; p3's digest comes later than digestWaitTime, so p1 takes everything from p2
  // and asks p3 for nothing. Here: pull alone (push off, no state transfer); every message from peer2 to peer1
  // takes 500 ms (digestWaitTime is 200 ms), peer0's take 1–5 ms. peer1 is cut off while the blocks are cut and
  // peer2 pulls them, so, as in Fabric's test, both others hold them when peer1 starts pulling (otherwise
  // whether peer2 has anything to offer depends on where the pull rounds fall).
  for (const profile of PROFILES) {
    const h = await Harness.create({
      orgs: 1,
      peers: 3,
      seed: `fabric-late-${profile}`,
      signer: 'sim',
      ...staticLeaders,
      timings: { propagateIterations: 0, pullInterval: 1000, digestWaitTime: 200, requestWaitTime: 200, responseWaitTime: 200 },
      peerOptions: { useLeaderElection: false, stateEnabled: false, profile, dissemination: 'push', pull: 'always' },
    });
    try {
      h.network.setLink('peer2.org1', 'peer1.org1', { latency: { minMs: 500, maxMs: 500 } });
      const seen: string[] = [];
      h.network.taps.add((from, subject, bytes) => {
        const t = payloadOf(bytes)?.t;
        if ((t === 'digest' || t === 'request') && from !== inboxOf(subject)) seen.push(`${t} ${from}→${inboxOf(subject)}`);
      });
      await h.advance(10_000);
      h.network.isolate('peer1.org1');
      await produce(h, 10, 100);
      assert.ok(await h.until(() => height(h, 'peer2.org1') === 11, 30_000, 250), `${profile}: peer2 at ${height(h, 'peer2.org1')}`);
      h.network.heal();
      assert.ok(await h.until(() => height(h, 'peer1.org1') === 11, 30_000, 250), `${profile}: height ${height(h, 'peer1.org1')}`);
      assert.ok(seen.includes('digest peer2.org1→peer1.org1'), `${profile}: the late peer did answer with digests`);
      assert.not.ok(seen.includes('request peer1.org1→peer2.org1'), `${profile}: and was asked for nothing`);
      assert.ok(seen.includes('request peer1.org1→peer0.org1'), `${profile}: everything came from the peer that answered in time`);
    } finally {
      await h.stop();
    }
  }
});

test('fabric channel/BadBlocksDropped', async () => {
  // Real signatures. A same-org insider (peer2's identity, from a second endpoint) pushes an empty block, a
  // block signed by another key, a block with altered transactions, another channel's block, and answers a
  // pull request with a bad block: nothing is stored, forwarded or committed.
  for (const profile of PROFILES) {
    const h = await Harness.create({ orgs: 1, peers: 3, channels: 2, seed: 'fabric-badblocks', ...fabricPull, peerOptions: { ...fabricPull.peerOptions, profile }, timings: { pullInterval: 1000, digestWaitTime: 200, requestWaitTime: 300, responseWaitTime: 300 } });
    try {
      await h.advance(10_000);
      await produce(h, 3, 100);
      await produce(h, 5, 100, 'channel2');
      await h.advance(1000);
      const victim = 'peer1.org1';
      const signer = signerOf(h.peers.get('peer2.org1')!.material, h.ed);
      const rogue = h.network.transport({ endpoint: 'rogue', decoder: h.peers.get('peer2.org1')!.codec });
      await rogue.start();
      const n = height(h, victim);
      const tip = h.ordering.block(CH, n - 1)!;
      const fake = new Uint8Array(32).fill(5);
      const bad = [
        new Uint8Array(0),
        encodeBlock(makeBlock(n, blockHash(tip), [new Uint8Array([1])], (m) => h.ed.sign(fake, m))),
        // The orderer's next block with its transactions altered in flight.
        encodeBlock({ ...makeBlock(n, blockHash(tip), [new Uint8Array([1])], (m) => h.ed.sign(h.material.orderer.secret, m)), data: [new Uint8Array([7])] }),
        encodeBlock(h.ordering.block('channel2', n)!),
      ];
      const seqs = [n, n, n, n];
      const envelopes = bad.map((block, i) => seal({ t: 'data', ch: CH, seq: seqs[i]!, block } satisfies DataMsg, signer));
      const forwarded: Uint8Array[] = [];
      h.network.taps.add((from, _s, bytes) => void (from === victim && forwarded.push(bytes)));
      for (const e of envelopes) rogue.send(victim, e);
      // Pull: the victim's hello reaches peer2; the insider answers the request it provokes with a bad block.
      h.network.taps.add((from, subject, bytes) => {
        const p = payloadOf(bytes);
        if (from !== victim || inboxOf(subject) !== 'peer2.org1' || !p) return;
        if (p.t === 'hello') rogue.send(victim, seal({ t: 'digest', ch: CH, nonce: p.nonce, kind: 'block', digests: [String(n)] }, signer));
        if (p.t === 'request') rogue.send(victim, seal({ t: 'update', ch: CH, nonce: p.nonce, kind: 'block', items: [envelopes[1]!] } satisfies UpdateMsg, signer));
      });
      await h.advance(3000);
      assert.is(height(h, victim), n, 'nothing committed');
      assert.ok(!forwarded.some((f) => envelopes.some((e) => bytesEqual(e, f))), 'nothing forwarded');
      const r = rejectedOf(h, victim);
      // Another channel's block verifies under the same orderer key: its v2 header names the other channel.
      for (const reason of ['block-malformed', 'block-bad-signature', 'block-bad-data-hash', 'block-wrong-channel', 'pull-bad-block'])
        assert.ok(r[reason]! > 0, `${reason}: ${JSON.stringify(r)}`);
      // The genuine chain still flows.
      await produce(h, 2, 100);
      await h.advance(2000);
      assert.equal(peerChain(h, victim), ordererChain(h));
    } finally {
      await h.stop();
    }
  }
});

test('fabric channel/PullAccessControl', async () => {
  for (const profile of PROFILES) {
    const h = await Harness.create({ orgs: 2, peers: 2, seed: 'fabric-pullacl', external: 'all', ...staticLeaders, peerOptions: { ...staticLeaders.peerOptions, profile }, timings: { pullInterval: 1000 } });
    try {
      const crossOrgPull: string[] = [];
      h.network.taps.add((from, subject, bytes) => {
        const k = payloadOf(bytes)?.t;
        const to = inboxOf(subject);
        if (from !== 'rogue' && to && ['hello', 'digest', 'request', 'update'].includes(k!) && from.split('.')[1] !== to.split('.')[1]) crossOrgPull.push(`${k} ${from}→${to}`);
      });
      await h.advance(10_000);
      await produce(h, 5, 100);
      await h.advance(5000);
      assert.equal(crossOrgPull, [], 'no pull message crosses orgs');
      // A foreign peer's hello gets no digest back and is counted.
      const foreign = signerOf(h.peers.get('peer1.org2')!.material, h.ed);
      const rogue = h.network.transport({ endpoint: 'rogue', decoder: h.peers.get('peer1.org2')!.codec });
      await rogue.start();
      rogue.send('peer0.org1', seal({ t: 'hello', ch: CH, nonce: 77, kind: 'block' } satisfies HelloMsg, foreign));
      await h.advance(500);
      assert.equal(crossOrgPull, []);
      assert.ok(rejectedOf(h, 'peer0.org1')['pull-foreign-org']! > 0);
    } finally {
      await h.stop();
    }
  }
});

test('fabric channel/NotInChannelDropped', async () => {
  // A same-org peer that is not in the channel view (crashed and expired) is not answered when it pulls.
  for (const profile of PROFILES) {
    const h = await Harness.create({ orgs: 1, peers: 3, seed: 'fabric-notinchannel', ...staticLeaders, peerOptions: { ...staticLeaders.peerOptions, profile } });
    try {
      await h.advance(10_000);
      await produce(h, 3, 100);
      await h.crash('peer2.org1');
      await h.advance(40_000);
      assert.not.ok(h.peers.get('peer0.org1')!.peer!.stateInfo.get(CH)!.channelPeers().some((p) => p.id === 'peer2.org1'));
      const signer = signerOf(h.peers.get('peer2.org1')!.material, h.ed);
      const rogue = h.network.transport({ endpoint: 'rogue', decoder: h.peers.get('peer2.org1')!.codec });
      await rogue.start();
      let answered = 0;
      h.network.taps.add((_f, subject, bytes) => void (inboxOf(subject) === 'peer2.org1' && payloadOf(bytes)?.t === 'digest' && answered++));
      rogue.send('peer0.org1', seal({ t: 'hello', ch: CH, nonce: 5, kind: 'block' } satisfies HelloMsg, signer));
      await h.advance(500);
      assert.is(answered, 0);
      assert.ok(rejectedOf(h, 'peer0.org1')['pull-not-in-channel']! > 0);
    } finally {
      await h.stop();
    }
  }
});

test('fabric channel/BlockExpiration', async () => {
  // Block TTL = pullInterval × 100: with pullInterval 100 ms, blocks leave the gossip store after 10 s and are
  // no longer offered to pulls.
  for (const profile of PROFILES) {
    const h = await Harness.create({ orgs: 1, peers: 2, seed: 'fabric-expiry', signer: 'sim', ...fabricPull, peerOptions: { ...fabricPull.peerOptions, profile }, timings: { pullInterval: 100, digestWaitTime: 20, requestWaitTime: 30, responseWaitTime: 30 } });
    try {
      await h.advance(5000);
      await produce(h, 3, 10);
      const store = () => h.peers.get('peer0.org1')!.peer!.gossip.get(CH)!.intake.store;
      assert.is(store().size, 3);
      let digests = 0;
      h.network.taps.add((from, _s, bytes) => void (from === 'peer0.org1' && payloadOf(bytes)?.t === 'digest' && digests++));
      // Positive controls: before the TTL the blocks are held and advertised to pulls.
      await h.advance(2000);
      assert.ok(digests > 0, 'a store with blocks advertises them');
      await h.advance(7000);
      assert.is(store().size, 3, 'still held just before the TTL');
      await h.advance(1500);
      assert.is(store().size, 0, 'expired');
      digests = 0;
      await h.advance(2000);
      assert.is(digests, 0, 'an empty store advertises nothing');
    } finally {
      await h.stop();
    }
  }
});

test('fabric state/TestNewGossipStateProvider_SendingManyMessages', async () => {
  for (const profile of PROFILES) {
    const h = await Harness.create({ orgs: 1, peers: 12, seed: `fabric-many-${profile}`, signer: 'sim', ...staticLeaders, peerOptions: { useLeaderElection: false, profile }, timings: { stateCheckInterval: 2000 } });
    try {
      const late = [...h.peers.keys()].slice(2);
      for (const id of late) await h.crash(id);
      await h.advance(5000);
      await produce(h, 10, 100);
      for (const id of late) await h.start(id);
      assert.ok(await h.until(() => late.every((id) => height(h, id) === 11), 60_000, 250), `heights ${late.map((id) => height(h, id))}`);
      for (const id of late) assert.is(h.peers.get(id)!.peer!.status()[0]!.counters.blocksByStateTransfer, 10, id);
    } finally {
      await h.stop();
    }
  }
});

test('fabric state/TestNewGossipStateProvider_BatchingOfStateRequest', async () => {
  // murmur: requests are at least state.batchSize wide (peer.gossip.murmur.state.batchSize, here set to that
  // floor of 10 so the batching is visible) and several are out at once, so both go before either answer.
  for (const profile of PROFILES) {
    const window = { inFlight: 4, batchSize: 10, minResponseTimeout: 200, retryBackoff: 1000 };
    const h = await Harness.create({ orgs: 1, peers: 2, seed: `fabric-batching-${profile}`, signer: 'sim', ...staticLeaders, peerOptions: { useLeaderElection: false, profile, stateWindow: window }, timings: { stateCheckInterval: 2000 } });
    try {
      await h.crash('peer1.org1');
      await h.advance(5000);
      await produce(h, 15, 100);
      const kinds: string[] = [];
      const ranges: string[] = [];
      h.network.taps.add((_f, subject, bytes) => {
        const p = payloadOf(bytes);
        if (p?.t === 'stateReq' || p?.t === 'stateRes') kinds.push(`${p.t}→${inboxOf(subject)}`);
        if (p?.t === 'stateReq') ranges.push(`${p.start}-${p.end}`);
      });
      await h.start('peer1.org1');
      assert.ok(await h.until(() => height(h, 'peer1.org1') === 16, 30_000, 250));
      const want = profile === 'fabric' ? ['stateReq→peer0.org1', 'stateRes→peer1.org1', 'stateReq→peer0.org1', 'stateRes→peer1.org1'] : ['stateReq→peer0.org1', 'stateReq→peer0.org1', 'stateRes→peer1.org1', 'stateRes→peer1.org1'];
      assert.equal(kinds, want, `${profile}: 15 blocks in exactly 2 responses (batchSize 10)`);
      assert.equal(ranges, ['1-10', '11-15'], profile);
    } finally {
      await h.stop();
    }
  }
});

test('fabric state/TestLargeBlockGap', async () => {
  for (const profile of PROFILES) {
    // A peer 499 blocks behind commits them strictly in order, and its buffer never exceeds 2 × 20 + 10 (murmur:
    // 2 × 20 + the window's blocks in flight, 4 requests × 50).
    const bound = profile === 'fabric' ? 2 * 20 + 10 : 2 * 20 + 4 * 50;
    const h = await Harness.create({ orgs: 1, peers: 2, seed: `fabric-gap-${profile}`, signer: 'sim', ...staticLeaders, peerOptions: { useLeaderElection: false, profile }, timings: { stateCheckInterval: 2000 } });
    try {
      await h.crash('peer1.org1');
      await h.advance(5000);
      await produce(h, 499, 5);
      await h.start('peer1.org1');
      const d = h.peers.get('peer1.org1')!.peer!.gossip.get(CH)!;
      const order: number[] = [];
      h.ledger('peer1.org1')!.commits$.subscribe((c) => order.push(...c.blocks.map((b) => b.number)));
      let maxBuffer = 0;
      h.network.taps.add(() => void (maxBuffer = Math.max(maxBuffer, d.intake.queue.size)));
      assert.ok(await h.until(() => height(h, 'peer1.org1') === 500, 60_000, 100), `height ${height(h, 'peer1.org1')}`);
      assert.equal(order, Array.from({ length: 499 }, (_, i) => i + 1));
      assert.ok(maxBuffer <= bound, `buffer reached ${maxBuffer}`);
    } finally {
      await h.stop();
    }
  }
});

test('fabric state/TestLedgerHeightFromProperties', async () => {
  // Fabric: peers without properties (here: without a StateInfo) are never selected for state transfer.
  // peer2 is alive in membership but never publishes a StateInfo; peer1, behind by 5 blocks, catches up by
  // state transfer from peer0 and never asks peer2. The selection by advertised height first (the machine's rule):
  const view = [
    { id: 'a', height: 5 },
    { id: 'b', height: 11 },
  ];
  assert.equal(candidates(view, 10, []), ['b'], 'only a peer whose height covers the range');
  assert.equal(candidates(view, 12, []), [], 'none covers it');
  for (const profile of PROFILES) {
    const h = await Harness.create({ orgs: 1, peers: 3, seed: 'fabric-properties', signer: 'sim', ...staticLeaders, peerOptions: { ...staticLeaders.peerOptions, profile }, timings: { stateCheckInterval: 2000 } });
    try {
      for (const id of ['peer1.org1', 'peer2.org1']) await h.crash(id);
      await h.advance(5000);
      await produce(h, 5, 100);
      await h.start('peer2.org1');
      h.peers.get('peer2.org1')!.peer!.stateInfo.get(CH)!.stop();
      const asked: string[] = [];
      h.network.taps.add((from, subject, bytes) => void (from === 'peer1.org1' && payloadOf(bytes)?.t === 'stateReq' && asked.push(inboxOf(subject)!)));
      await h.start('peer1.org1');
      const p1 = h.peers.get('peer1.org1')!.peer!;
      const peer2 = h.peers.get('peer2.org1')!.pkiIdHex;
      assert.ok(await h.until(() => height(h, 'peer1.org1') === 6, 60_000, 250), `height ${height(h, 'peer1.org1')}`);
      // (murmur catches up within a second, possibly before membership has brought peer2 to peer1.)
      assert.ok(await h.until(() => p1.discovery.aliveMembers().some((m) => m.pkiIdHex === peer2), 30_000, 250), 'peer2 is alive in membership');
      assert.not.ok(p1.stateInfo.get(CH)!.channelPeers().some((p) => p.pkiIdHex === peer2), 'but not in the channel view');
      assert.ok(asked.includes('peer0.org1'), `state requests went to peer0: ${asked}`);
      assert.not.ok(asked.includes('peer2.org1'), 'and never to the peer without properties');
    } finally {
      await h.stop();
    }
  }
});

test('fabric state/TestGossipReception', async () => {
  // A block gossiped for one channel is committed on that channel only; the other channel's ledger ignores it.
  // Fabric hands the wrong channel's block to the state provider itself: here channel2's block 1, signed by the
  // leader of the org, arrives as a data message of channel1 and reaches channel1's intake, which refuses it
  // (the orderer signs every channel's blocks with one key; the block names its channel). Then the right block
  // is committed.
  for (const profile of PROFILES) {
    const h = await Harness.create({ orgs: 1, peers: 2, channels: 2, seed: 'fabric-reception', signer: 'sim', ...staticLeaders, peerOptions: { ...staticLeaders.peerOptions, profile } });
    try {
      await h.advance(5000);
      await produce(h, 1, 100, 'channel2');
      await h.advance(1000);
      assert.is(height(h, 'peer1.org1', 'channel2'), 2);
      assert.is(height(h, 'peer1.org1', 'channel1'), 1, 'the other channel is untouched');
      const leader = h.peers.get('peer0.org1')!;
      const rogue = h.network.transport({ endpoint: 'rogue', decoder: leader.codec });
      await rogue.start();
      const wrong = h.ledger('peer0.org1', 'channel2')!.getEncoded(1)!;
      const rejected = () => h.peers.get('peer1.org1')!.peer!.status().find((r) => r.channel === 'channel1')!.counters.rejected['block-wrong-channel'] ?? 0;
      rogue.send('peer1.org1', seal({ t: 'data', ch: 'channel1', seq: 1, block: wrong } satisfies DataMsg, signerOf(leader.material, h.ed)));
      await h.advance(1000);
      assert.is(rejected(), 1, 'the intake refused the wrong channel\'s block');
      assert.is(height(h, 'peer1.org1', 'channel1'), 1, 'and committed nothing');
      await rogue.stop();
      await produce(h, 1, 100, 'channel1');
      await h.advance(1000);
      assert.is(height(h, 'peer1.org1', 'channel1'), 2);
      assert.equal(peerChain(h, 'peer1.org1', 'channel1'), ordererChain(h, 'channel1'));
    } finally {
      await h.stop();
    }
  }
});

test('fabric integration/StateTransferWithoutOrderer', async () => {
  for (const profile of PROFILES) {
    // Org1 elects its leader, Org2 has a static leader; state transfer everywhere. Peers stopped while blocks were
    // cut come back after the ordering service is gone and still reach the others' height, from peers alone.
    const h = await Harness.create({
      orgs: 2,
      peers: 3,
      seed: `fabric-no-orderer-${profile}`,
      peerOptions: { profile },
      signer: 'sim',
      orderer: ONE_TX_BLOCKS,
      timings: { stateCheckInterval: 2000 },
      perPeer: (id) => (id.endsWith('org2') ? { useLeaderElection: false, orgLeader: id === 'peer0.org2' } : {}),
    });
    try {
      assert.ok(await h.until(() => h.running().some((p) => p.org === 'Org1' && p.peer!.elections.get(CH)!.role() === 'leader'), 60_000, 500));
      await produce(h, 10, 100);
      const stopped = ['peer2.org1', 'peer2.org2'];
      for (const id of stopped) await h.crash(id);
      await produce(h, 20, 100);
      await h.advance(3000);
      const base = height(h, 'peer0.org2');
      assert.is(base, 31);
      h.ordering.setAvailable(false);
      for (const id of stopped) await h.start(id);
      assert.ok(await h.until(() => stopped.every((id) => height(h, id) === base), 60_000, 250), `${profile}: heights ${stopped.map((id) => height(h, id))}`);
      for (const id of stopped) {
        assert.equal(peerChain(h, id), ordererChain(h), id);
        assert.is(h.peers.get(id)!.peer!.status()[0]!.counters.blocksFromOrderer, 0, `${id} never read the orderer`);
      }
    } finally {
      await h.stop();
    }
  }
});

test.run();
