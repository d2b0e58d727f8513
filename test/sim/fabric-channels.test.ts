// Fabric's scenarios where peers are in different channels (gossip/TestDataLeakage, gossip/TestConfidentiality,
// state/TestAccessControl, gossip/TestLeaveChannel) on the simulated network. Fabric decides per peer who may
// read a channel (its crypto service's VerifyByChannel); murmur decides by org: a channel's config lists its
// orgs, and a peer of any other org is an outsider however it is configured. So where Fabric makes some peers
// of one org ineligible, these ports make them peers of an org the channel's config does not list, joined to
// the channel anyway (Harness `joins`); the orderer refuses them too (the harness feed checks the config, as
// the bus authorization does for real peers).
import { test } from '../helpers/test.ts';
import * as assert from 'uvu/assert';
import { Harness, type SimPeer } from '../../runtime/sim/harness.ts';
import { peek, payloadOf } from '../../runtime/sim/kinds.ts';
import { parseSubject } from '../../runtime/transport/subjects.ts';
import { seal } from '../../runtime/wire/envelope.ts';
import { signerOf } from '../../runtime/crypto/material.ts';
import type { StateInfoMsg, StateInfoSnapshotMsg } from '../../runtime/wire/messages.ts';
import { toHex as bytesToHex } from '../../runtime/util/bytes.ts';

const fast = { aliveTimeInterval: 300, aliveExpirationTimeout: 3000, reconnectInterval: 1500, pullInterval: 1000, msgExpirationFactor: 20, publishStateInfoInterval: 300, requestStateInfoInterval: 300 };
const election = { startupGracePeriod: 1000, membershipSampleInterval: 100, leaderAliveThreshold: 1000, leaderElectionDuration: 500 };
type Profile = 'murmur' | 'fabric';
/** Block scenarios run in both profiles: murmur's (tree dissemination) and Fabric's (push). */
const PROFILES: Profile[] = ['murmur', 'fabric'];
const tx = (n: number) => new Uint8Array(64).fill(n);
const height = (h: Harness, id: string, ch: string) => h.ledger(id, ch)?.height() ?? 0;
const channelPeers = (p: SimPeer, ch: string) => p.peer!.stateInfo.get(ch)!.channelPeers();

test('fabric gossip/TestDataLeakage', async () => {
  for (const profile of PROFILES) await dataLeakage(profile);
});

async function dataLeakage(profile: Profile): Promise<void> {
  // Fabric: 10 peers, 5 join channel A and 5 channel B; only the first 3 of each may read their channel. A block
  // in each channel reaches the eligible peers of that channel only.
  // Here: channel1 = {Org1}, channel2 = {Org2}; Org1's peers 0–2 join channel1 and Org2's peers 0–2 channel2
  // (eligible); Org3's peers 0–1 join channel1 and 2–3 channel2 (joined, not eligible).
  const joins = (id: string): string[] => {
    const [, n, org] = /^peer(\d+)\.(org\d)$/.exec(id)!.map((x, i) => (i === 1 ? Number(x) : x)) as [string, number, string];
    if (org === 'org1') return n < 3 ? ['channel1'] : [];
    if (org === 'org2') return n < 3 ? ['channel2'] : [];
    return n < 2 ? ['channel1'] : ['channel2'];
  };
  const h = await Harness.create({ orgs: 3, peers: 4, channels: 2, channelOrgs: { channel1: ['Org1'], channel2: ['Org2'] }, joins, seed: `leak-${profile}`, signer: 'sim', timings: { ...fast, ...election }, peerOptions: { profile } });
  try {
    const joined = (ch: string) => h.running().filter((p) => joins(p.id).includes(ch));
    const eligible = (ch: string) => joined(ch).filter((p) => p.org === (ch === 'channel1' ? 'Org1' : 'Org2'));
    // Channel2 starts a block ahead (Fabric gives B's peers ledger height 2, A's 1).
    h.submit('channel2', tx(1));
    assert.ok(await h.until(() => eligible('channel2').every((p) => height(h, p.id, 'channel2') === 2), 20_000, 100), 'channel2 at height 2');
    // Every eligible peer sees the other two eligible peers of its channel, at the channel's height, and nobody else.
    const viewsSettled = () =>
      ['channel1', 'channel2'].every((ch) => eligible(ch).every((p) => channelPeers(p, ch).length === 2 && channelPeers(p, ch).every((q) => q.height === (ch === 'channel1' ? 1 : 2))));
    assert.ok(await h.until(viewsSettled, 20_000, 100), 'per-channel views of the eligible peers');
    await h.advance(3000);
    for (const ch of ['channel1', 'channel2'])
      for (const p of eligible(ch)) {
        const ids = channelPeers(p, ch).map((q) => q.id).sort();
        assert.equal(ids, eligible(ch).filter((q) => q !== p).map((q) => q.id).sort(), `${p.id}'s view of ${ch}`);
      }
    // One block in each channel: the eligible peers of that channel commit it; no one else gets anything.
    h.submit('channel1', tx(2));
    h.submit('channel2', tx(3));
    assert.ok(await h.until(() => eligible('channel1').every((p) => height(h, p.id, 'channel1') === 2) && eligible('channel2').every((p) => height(h, p.id, 'channel2') === 3), 20_000, 100), 'the blocks reach the eligible peers');
    await h.advance(10_000);
    for (const ch of ['channel1', 'channel2'])
      for (const p of joined(ch).filter((q) => !eligible(ch).includes(q))) assert.is(height(h, p.id, ch), 1, `${p.id} (not eligible) holds only the genesis block of ${ch}`);
    for (const p of h.running()) for (const ch of ['channel1', 'channel2']) if (!joins(p.id).includes(ch)) assert.is(h.ledger(p.id, ch), null, `${p.id} has no ${ch} ledger`);
  } finally {
    await h.stop();
  }
}

test('fabric gossip/TestConfidentiality', async () => {
  // Fabric: orgs A, B, C, D with 3 peers each, the first 2 with an external endpoint; channels C0 {A, B},
  // C1 {A, C}, C2 {B, C}, C3 {B, D}. Every membership message that crosses orgs (alive, membership request
  // and response, StateInfo, StateInfo snapshot, identity pull) may speak only of the two orgs it travels
  // between, and StateInfo only of peers with an external endpoint; nobody but B knows D, and D knows no one
  // but B. Every peer ends with exactly the membership Fabric computes (an internal-only peer: its org).
  const orgs = ['A', 'B', 'C', 'D'];
  const channelOrgs = { channel1: ['A', 'B'], channel2: ['A', 'C'], channel3: ['B', 'C'], channel4: ['B', 'D'] };
  const external = (id: string) => /^peer[01]\./.test(id);
  for (const profile of PROFILES) {
    const h = await Harness.create({ peerOptions: { profile }, orgs, peers: 3, channels: 4, channelOrgs, seed: 62, signer: 'sim', timings: fast, perPeer: (id) => ({ externalEndpoint: external(id) ? id : '' }) });
    try {
      const ids = [...h.peers.keys()];
      const orgOfPki = new Map([...h.peers.values()].map((p) => [p.pkiIdHex, p.org]));
      const externalPki = new Set([...h.peers.values()].filter((p) => external(p.id)).map((p) => p.pkiIdHex));
      const orgOf = (id: string) => h.peers.get(id)?.org;
      const violations: string[] = [];
      let crossing = 0;
      // Watch from the first message on: stop everyone, tap, start again.
      for (const id of ids) await h.crash(id);
      h.network.deliveryTaps.add((from, to, _subject, bytes) => {
        const src = orgOf(from);
        const dst = orgOf(to);
        if (!src || !dst || src === dst) return;
        const m = peek(bytes);
        if (!m) return;
        const p = m.payload;
        const about: string[] = [];
        const external: string[] = [];
        const pkiOf = (e: Uint8Array, kind: string): string | null => {
          const q = peek(e)?.payload;
          if (!q || q.t !== kind) return null;
          if (q.t === 'alive') return bytesToHex(q.member.pkiId);
          if (q.t === 'stateInfo' || q.t === 'identity') return bytesToHex(q.pkiId);
          return null;
        };
        if (p.t === 'alive') about.push(bytesToHex(p.member.pkiId));
        else if (p.t === 'memReq') about.push(pkiOf(p.alive, 'alive') ?? '');
        else if (p.t === 'memRes') for (const e of [...p.alive, ...p.dead]) about.push(pkiOf(e, 'alive') ?? '');
        else if (p.t === 'stateInfo') external.push(bytesToHex(p.pkiId));
        else if (p.t === 'stateInfoSnapshot') for (const e of p.elements) external.push(pkiOf(e, 'stateInfo') ?? '');
        else if (p.t === 'update' && p.kind === 'identity') for (const e of p.items) about.push(pkiOf(e, 'identity') ?? ''), external.push(pkiOf(e, 'identity') ?? '');
        else return;
        crossing++;
        const orgsIn = about.map((x) => orgOfPki.get(x) ?? `unknown ${x.slice(0, 8)}`);
        for (const o of orgsIn) if (o !== src && o !== dst) violations.push(`${from} → ${to} (${p.t}) speaks of org ${o}`);
        if (dst === 'D' && orgsIn.some((o) => o === 'A' || o === 'C')) violations.push(`${from} → ${to} (${p.t}) tells D of A or C`);
        if ((dst === 'A' || dst === 'C') && orgsIn.includes('D')) violations.push(`${from} → ${to} (${p.t}) tells ${dst} of D`);
        for (const x of external) if (!externalPki.has(x)) violations.push(`${from} → ${to} (${p.t}) carries the StateInfo or identity of internal-only ${x.slice(0, 8)} (org ${orgOfPki.get(x)})`);
      });
      for (const id of ids) await h.start(id);
      // Fabric's expected sizes: x peers per org, y with an external endpoint; an internal-only peer knows its org.
      const x = 3;
      const y = 2;
      const size: Record<string, number> = { A: x + 2 * y, B: x + 3 * y, C: x + 2 * y, D: x + y };
      const want = (p: SimPeer) => (external(p.id) ? size[p.org]! : x) - 1;
      const members = (p: SimPeer) => p.peer!.discovery.aliveMembers().length;
      assert.ok(await h.until(() => h.running().every((p) => members(p) >= want(p)), 30_000, 100), `membership: ${h.running().map((p) => `${p.id} ${members(p)}/${want(p)}`).join(', ')}`);
      await h.advance(7000);
      for (const p of h.running()) assert.is(members(p), want(p), `${p.id} knows ${p.peer!.discovery.aliveMembers().map((m) => m.id).sort().join(' ')}`);
      assert.ok(crossing > 50, `${crossing} membership messages crossed orgs`);
      assert.equal(violations.slice(0, 10), []);
    } finally {
      await h.stop();
    }
  }
});

test('fabric state/TestAccessControl', async () => {
  for (const profile of PROFILES) await accessControl(profile);
});

async function accessControl(profile: Profile): Promise<void> {
  // Fabric: 5 bootstrap peers (the first with 5 blocks) and 10 more, all in the channel's view; only 4 may pull
  // blocks. The authorized ones reach height 6; the others stay at 1.
  // Here: Org1 (in the channel's config) has 4 peers that fetch; Org2's peers join the channel but are not in
  // its config. Blocks come from the orderer to Org1's leader; Org2's peers see Org1 ahead and ask for them by
  // state transfer (positive control: the state servers count the refusals), and get nothing.
  const h = await Harness.create({ orgs: 2, peers: 4, channels: 1, channelOrgs: { channel1: ['Org1'] }, joins: () => ['channel1'], seed: `access-${profile}`, signer: 'sim', timings: { ...fast, ...election }, peerOptions: { profile } });
  try {
    // Five blocks (one transaction each, cut by the batch timeout).
    for (let i = 1; i <= 5; i++) {
      h.submit('channel1', tx(i));
      await h.advance(2500);
    }
    const org = (o: string) => h.running().filter((p) => p.org === o);
    assert.ok(await h.until(() => org('Org1').every((p) => height(h, p.id, 'channel1') === 6), 30_000, 100), `${profile}: Org1 reaches height 6`);
    await h.advance(15_000);
    for (const p of org('Org2')) assert.is(height(h, p.id, 'channel1'), 1, `${p.id} not authorized: genesis only`);
    const refused = org('Org1').reduce((n, p) => n + (p.peer!.status().find((r) => r.channel === 'channel1')?.counters.rejected['state-request-not-in-channel'] ?? 0), 0);
    assert.ok(refused > 0, `${profile}: Org2's state requests were refused (${refused})`);
  } finally {
    await h.stop();
  }
}

test('fabric gossip/TestLeaveChannel', async () => {
  // Fabric: 3 peers in channel A, bootstrapping in a ring; once each sees the other two, p2 leaves: p0 and p1
  // then see one peer in the channel, p2 sees none. Here also: a block after the leave reaches p0 and p1, not p2.
  const ring: Record<string, string> = { 'peer0.org1': 'peer2.org1', 'peer1.org1': 'peer0.org1', 'peer2.org1': 'peer1.org1' };
  for (const profile of PROFILES) {
    const h = await Harness.create({ peerOptions: { profile }, orgs: 1, peers: 3, seed: 64, signer: 'sim', timings: { ...fast, ...election }, perPeer: (id) => ({ bootstrap: [ring[id]!] }) });
    try {
      const [p0, p1, p2] = ['peer0.org1', 'peer1.org1', 'peer2.org1'].map((id) => h.peers.get(id)!);
      const count = (p: SimPeer) => channelPeers(p, 'channel1').length;
      assert.ok(await h.until(() => [p0, p1, p2].every((p) => count(p!) === 2), 20_000, 100), 'everyone sees the other two in the channel');
      const p2ledger = h.ledger('peer2.org1', 'channel1')!;
      assert.ok(await h.leaveChannel('peer2.org1', 'channel1'));
      assert.ok(await h.until(() => count(p0!) === 1 && count(p1!) === 1 && count(p2!) === 0, 20_000, 100), `after the leave: ${[p0, p1, p2].map((p) => count(p!))}`);
      await h.advance(5000);
      assert.equal([p0, p1, p2].map((p) => count(p!)), [1, 1, 0], 'and it stays so');
      assert.equal(channelPeers(p0!, 'channel1').map((q) => q.id), ['peer1.org1']);
      assert.not.ok(h.running().find((p) => p.id === 'peer2.org1')!.peer!.status().some((r) => r.channel === 'channel1'), 'p2 reports no channel1 row');
      // A block after the leave: p0 and p1 commit it, p2 does not.
      h.submit('channel1', tx(9));
      assert.ok(await h.until(() => height(h, 'peer0.org1', 'channel1') === 2 && height(h, 'peer1.org1', 'channel1') === 2, 20_000, 100), 'the block reaches p0 and p1');
      await h.advance(10_000);
      assert.is(p2ledger.height(), 1, 'p2 committed nothing after leaving');
      assert.is(h.ledger('peer2.org1', 'channel1'), null, 'p2 lists no channel1 ledger');
    } finally {
      await h.stop();
    }
  }
});

test('fabric channel/StateInfoSnapshotValidation', async () => {
  // Fabric: a StateInfo snapshot answering a pull is checked element by element: an element of another channel
  // (Fabric: a wrong channel MAC), of a peer not in the channel, or not signed by the peer it names changes
  // nothing; a valid one is taken. Here a rogue answers peer0.org1's real pull requests (their nonces read off
  // the wire) before the honest responder does, one crafted snapshot per request.
  // channel1 = {Org1}, channel2 = {Org1, Org2}; Org2's peers join channel2 only. The fabric profile, so the honest
  // responder answers every request (murmur's stays silent when nothing differs) and the test can see it came
  // second; the checks of snapshot elements are the same in both profiles.
  const h = await Harness.create({ orgs: 2, peers: 2, channels: 2, channelOrgs: { channel1: ['Org1'], channel2: ['Org1', 'Org2'] }, seed: 65, signer: 'sim', timings: fast, peerOptions: { profile: 'fabric' },
    // The rogue answers at once; every other link takes 5 ms, so its answer arrives before the honest one.
    link: { latency: (from) => (from === 'rogue' ? 0 : 5) } });
  try {
    // x has an external endpoint, so it knows peer0.org2 (an unknown originator would be skipped unseen).
    const x = h.peers.get('peer0.org1')!;
    const r = h.peers.get('peer1.org1')!;
    const f = h.peers.get('peer0.org2')!;
    const heightOf = (ch: string, id: string) => channelPeers(x, ch).find((q) => q.id === id)?.height ?? null;
    assert.ok(await h.until(() => heightOf('channel1', r.id) === 1 && heightOf('channel2', r.id) === 1 && heightOf('channel2', f.id) === 1, 20_000, 100), 'x sees r in both channels and f in channel2');
    const rogue = h.network.transport({ endpoint: 'rogue', decoder: x.codec });
    await rogue.start();
    let pending: Uint8Array[] | null = null;
    let answered = 0;
    h.network.taps.add((from, subject, bytes) => {
      const to = parseSubject(subject, h.network.subjects.prefix);
      const p = payloadOf(bytes);
      if (!pending || from !== x.id || to?.kind !== 'inbox' || p?.t !== 'stateInfoPullReq' || p.ch !== 'channel1') return;
      rogue.send(x.id, seal({ t: 'stateInfoSnapshot', ch: 'channel1', nonce: p.nonce, elements: pending } satisfies StateInfoSnapshotMsg, signerOf(r.material, h.ed)));
      pending = null;
      answered++;
    });
    const far = { incNum: h.clock.now() + 1e9, seqNum: 1 };
    const stateInfo = (ch: string, about: typeof r, signer: typeof r, height: number) =>
      seal({ t: 'stateInfo', ch, pkiId: about.pkiId, ts: far, props: { height, leftChannel: false } } satisfies StateInfoMsg, signerOf(signer.material, h.ed));
    const answer = async (elements: Uint8Array[]) => {
      const before = answered;
      const late = x.codec.rejections.get('unsolicited-response');
      pending = elements;
      assert.ok(await h.until(() => answered > before, 10_000, 50), 'a pull request was answered by the rogue');
      await h.advance(500);
      // The honest answer came second: the rogue's took the nonce.
      assert.ok(x.codec.rejections.get('unsolicited-response') > late, 'the rogue answered first');
    };
    const notInChannel = () => x.codec.rejections.get('not-in-channel');
    // Another channel's StateInfo (signed by the peer it names) inside a channel1 snapshot.
    await answer([stateInfo('channel2', r, r, 7)]);
    assert.is(heightOf('channel1', r.id), 1, 'an element of another channel is not taken');
    assert.is(heightOf('channel2', r.id), 1, 'nor counted for its own channel');
    // The StateInfo of a peer whose org is not in channel1.
    const refusedBefore = notInChannel();
    await answer([stateInfo('channel1', f, f, 7)]);
    assert.is(heightOf('channel1', f.id), null, 'a peer not in the channel does not enter its view');
    assert.ok(notInChannel() > refusedBefore, `and is counted not-in-channel: ${JSON.stringify(x.codec.rejections.snapshot())}`);
    // peer1.org1's StateInfo signed by another peer.
    await answer([stateInfo('channel1', r, f, 7)]);
    assert.is(heightOf('channel1', r.id), 1, 'an element not signed by the peer it names is not taken');
    // Positive control: the same element, signed by peer1.org1, is taken.
    await answer([stateInfo('channel1', r, r, 7)]);
    assert.is(heightOf('channel1', r.id), 7, 'a valid element is taken');
    await rogue.stop();
  } finally {
    await h.stop();
  }
});

test.run();
