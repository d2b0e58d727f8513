// More of Fabric's gossip, discovery and service scenarios (digest §7.1–7.3) on the simulated network.
import { test } from '../helpers/test.ts';
import * as assert from 'uvu/assert';
import { Harness, type SimPeer } from '../../runtime/sim/harness.ts';
import { MembershipTable } from '../../machines/discovery.logic.ts';
import { loadPeerConfig } from '../../config/load.ts';
import { parseEnvelope, seal } from '../../runtime/wire/envelope.ts';
import { decodeCbor } from '../../runtime/wire/cbor.ts';
import { signerOf } from '../../runtime/crypto/material.ts';
import type { MemReqMsg, StateInfoPullReqMsg, StateInfoSnapshotMsg } from '../../runtime/wire/messages.ts';
import { kindOf } from '../../runtime/sim/kinds.ts';
import { parseSubject } from '../../runtime/transport/subjects.ts';

const fast = { aliveTimeInterval: 300, aliveExpirationTimeout: 3000, reconnectInterval: 1500, pullInterval: 1000, msgExpirationFactor: 20, publishStateInfoInterval: 300, requestStateInfoInterval: 300 };
const electionFast = { startupGracePeriod: 1000, membershipSampleInterval: 100, leaderAliveThreshold: 1000, leaderElectionDuration: 500 };
/** Membership ports run in both profiles: murmur's (alive messages on org subjects) and Fabric's gossiped one. */
const PROFILES = ['murmur', 'fabric'] as const;
const view = (p: SimPeer) => p.peer!.discovery.aliveMembers().map((m) => m.id).sort();

test('fabric discovery/TestHandleAliveMessage_RelearnsMemberAfterConcurrentPurge', () => {
  const t = new MembershipTable();
  const a = (seq: number) => ({ pkiIdHex: 'x', mspId: 'M', id: 'x', endpoint: '', internalEndpoint: 'x', ts: { incNum: 1, seqNum: seq }, metadata: new Uint8Array(), notAfter: Number.MAX_SAFE_INTEGER, envelope: new Uint8Array() });
  t.handleAlive(a(1), 0);
  t.expire(6_000, 1000);
  // Purged while its last timestamp is still kept (until 2 × TTL): the race Fabric's test is about is an alive
  // message arriving right after the purge.
  t.forget(7_000, 5000, () => false);
  assert.is(t.get('x'), undefined, 'purged');
  assert.ok(t.remembers('x'), 'its last timestamp is kept');
  assert.is(t.handleAlive(a(1), 7_001), 'replayed', 'the purged alive itself does not bring it back');
  assert.is(t.handleAlive(a(2), 7_002), 'new', 'a newer alive re-learns the member');
  assert.is(t.get('x')!.status, 'alive');
});

test('fabric discovery/TestMsgStoreExpirationWithMembershipMessages', async () => {
  const t = { ...fast, msgExpirationFactor: 2 };
  for (const profile of PROFILES) {
    const h = await Harness.create({ peerOptions: { profile }, orgs: 1, peers: 3, seed: 21, timings: t });
    try {
      assert.ok(await h.until(() => h.running().every((p) => view(p).length === 2), 20_000, 100));
      // Capture every membership message peer2 sends, then stop it and let the others forget it.
      const captured: Uint8Array[] = [];
      h.network.taps.add((from, _s, b) => void (from === 'peer2.org1' && ['memReq', 'memRes', 'alive', 'ping', 'ack'].includes(kindOf(b) ?? '') && captured.push(b)));
      // (murmur profile: SWIM sends no heartbeat, so collecting them takes a few more periods)
      assert.ok(await h.until(() => captured.length > 3, 20_000, 100), 'captured');
      await h.crash('peer2.org1');
      await h.advance(t.aliveExpirationTimeout * (t.msgExpirationFactor + 1) + 1000);
      const gone = h.peers.get('peer2.org1')!.pkiIdHex;
      assert.is(h.peers.get('peer1.org1')!.peer!.discovery.table.get(gone), undefined, 'forgotten');
      const spy = h.network.transport({ endpoint: 'replayer', decoder: h.peers.get('peer0.org1')!.codec });
      await spy.start();
      for (const b of captured) {
        spy.send('peer1.org1', b);
        spy.publish(h.network.subjects.discoveryOrg('Org1MSP'), b);
      }
      await h.advance(2000);
      assert.ok(captured.length > 3, `${captured.length} messages replayed`);
      assert.not.ok(view(h.peers.get('peer1.org1')!).includes('peer2.org1'), 'replays do not resurrect it');
      await spy.stop();
    } finally {
      await h.stop();
    }
  }
});

test('fabric gossip/TestMembershipConvergence', async () => {
  // Fabric: 3 boot peers and 12 more, each bootstrapping from boot (i mod 3): three views of 5. A connector
  // bootstrapping from the three boot peers (metadata "Connector") joins them: everyone sees 15 and its metadata.
  // It stops: everyone is back to 14 and still knows each other. A new connector ("Connector2") joins again.
  // Here Fabric's peer i is peer(i+1) and the connector is peer0 (the channel's anchor peer, down until it
  // connects the groups; every peer tries its anchor once only). fabric profile: alive messages are gossiped, so
  // the groups are apart until the connector comes; murmur profile: the org subject joins them at once, and the
  // rest is asserted.
  const idOf = (i: number) => `peer${i + 1}.org1`;
  const groupOf = (id: string) => (Number(/peer(\d+)/.exec(id)![1]) - 1) % 3;
  const connector = 'peer0.org1';
  for (const profile of ['fabric', 'murmur'] as const) {
    const h = await Harness.create({
      orgs: 1,
      peers: 16,
      seed: 22,
      signer: 'sim',
      timings: { ...fast, maxConnectionAttempts: 1 },
      peerOptions: { profile },
      perPeer: (id) => ({ bootstrap: id === connector ? [0, 1, 2].map(idOf) : groupOf(id) === Number(/peer(\d+)/.exec(id)![1]) - 1 ? [] : [idOf(groupOf(id))] }),
    });
    try {
      await h.crash(connector);
      const peers = h.running();
      if (profile === 'fabric') {
        assert.ok(await h.until(() => peers.every((p) => view(p).length === 4), 20_000, 100), 'three views of 5');
        for (const p of peers) assert.ok(view(p).every((id) => groupOf(id) === groupOf(p.id)), `${p.id} knows its group only`);
      }
      const metadataOf = (p: SimPeer) => new TextDecoder().decode(p.peer!.discovery.member(h.peers.get(connector)!.pkiIdHex)?.metadata);
      const joined = async (tag: string) => {
        await h.start(connector);
        h.peers.get(connector)!.peer!.discovery.updateMetadata(new TextEncoder().encode(tag));
        assert.ok(await h.until(() => peers.every((p) => view(p).length === 15 && metadataOf(p) === tag), 20_000, 100), `${profile}: everyone sees the connector "${tag}"`);
      };
      await joined('Connector');
      await h.crash(connector);
      await h.advance(15_000);
      assert.ok(peers.every((p) => view(p).length === 14), `${profile}: connector evicted, everyone still knows each other`);
      await joined('Connector2');
    } finally {
      await h.stop();
    }
  }
});

test('fabric gossip/TestConnectToAnchorPeers', async () => {
  // Peers know nobody but the channel's anchor peer, which starts late: they keep trying and converge.
  for (const profile of PROFILES) {
    const h = await Harness.create({ peerOptions: { profile }, orgs: 1, peers: 10, seed: 23, signer: 'sim', timings: fast, perPeer: () => ({ bootstrap: [] }) });
    try {
      await h.crash('peer0.org1');
      await h.advance(5000);
      assert.ok(h.running().every((p) => view(p).length === 0), 'nobody found anybody without the anchor');
      await h.start('peer0.org1');
      assert.ok(await h.until(() => h.running().every((p) => view(p).length === 9), 6 * fast.reconnectInterval, 100), 'full channel view through the anchor');
    } finally {
      await h.stop();
    }
  }
});

test('fabric gossip/TestAnchorPeer', async () => {
  // A membership request to a foreign anchor peer carries no internal endpoint.
  const reqs: { from: string; to: string; secret: boolean }[] = [];
  for (const profile of PROFILES) {
    const h = await Harness.create({ peerOptions: { profile }, orgs: 2, peers: 2, seed: 24, timings: fast });
    try {
      h.network.taps.add((from, subject, b) => {
        if (kindOf(b) !== 'memReq') return;
        const env = parseEnvelope(b);
        if (!env.ok) return;
        const inner = parseEnvelope((decodeCbor(env.env.payload) as MemReqMsg).alive);
        reqs.push({ from, to: subject.replace('murmur.inbox.', ''), secret: inner.ok && inner.env.secret !== null });
      });
      await h.crash('peer0.org1');
      await h.start('peer0.org1');
      await h.advance(3000);
      const foreign = reqs.filter((r) => r.from.endsWith('org1') && r.to.endsWith('org2'));
      const own = reqs.filter((r) => r.from.endsWith('org1') && r.to.endsWith('org1'));
      assert.ok(foreign.length > 0 && own.length > 0);
      assert.ok(foreign.every((r) => !r.secret), 'no internal endpoint to another org');
      assert.ok(own.every((r) => r.secret), 'own org gets it');
    } finally {
      await h.stop();
    }
  }
});

test('fabric channel/InterOrgSnapshotFiltering', async () => {
  for (const profile of PROFILES) {
    const h = await Harness.create({ peerOptions: { profile }, orgs: 2, peers: 3, seed: 25, timings: fast });
    try {
      const answering = h.peers.get('peer0.org1')!;
      assert.ok(await h.until(() => answering.peer!.stateInfo.get('channel1')!.channelPeers().length === 3, 20_000, 100));
      // peer0.org2 (external) asks peer0.org1 for a StateInfo snapshot; a spy takes its inbox to read the answer.
      const asker = h.peers.get('peer0.org2')!;
      await h.crash(asker.id);
      const spy = h.network.transport({ endpoint: asker.id, decoder: asker.codec });
      await spy.start();
      const answers: string[][] = [];
      spy.inbound$.subscribe((i) => {
        if (i.msg.payload.t !== 'stateInfoSnapshot') return;
        answers.push((i.msg.payload as StateInfoSnapshotMsg).elements.map((e) => { const r = asker.codec.decode(e); return r.ok ? r.msg.signer.subject : '?'; }).sort());
      });
      spy.send(answering.id, seal({ t: 'stateInfoPullReq', ch: 'channel1', nonce: 42 } satisfies StateInfoPullReqMsg, signerOf(asker.material, h.ed)));
      await h.advance(500);
      assert.is(answers.length, 1);
      assert.not.ok(answers[0]!.some((s) => s === 'peer1.org1' || s === 'peer2.org1'), `internal-only peers of org1 withheld: ${answers[0]}`);
      assert.ok(answers[0]!.includes('peer0.org1'));
      await spy.stop();
    } finally {
      await h.stop();
    }
  }
});

test('fabric service/TestWithStaticDeliverClientBothStaticAndLeaderElection', () => {
  assert.throws(() => loadPeerConfig({ env: { CORE_PEER_GOSSIP_USELEADERELECTION: 'true', CORE_PEER_GOSSIP_ORGLEADER: 'true' } }), /useLeaderElection[\s\S]*orgLeader|orgLeader[\s\S]*useLeaderElection/);
});

test('fabric service/TestLeaderElectionWithRealGossip', async () => {
  // Fabric: 10 peers of one org in chanA, peers 1, 3, 5, 7 also in chanB: one leader per channel, chanB's among
  // its members; the leaders stop → one new leader per channel, chanB's again among its remaining members.
  // (Fabric stops peers 0 and 1, which its PKI-ID order made the leaders; here the leaders are whoever won.)
  const inB = new Set(['peer1.org1', 'peer3.org1', 'peer5.org1', 'peer7.org1']);
  for (const profile of PROFILES) {
    const h = await Harness.create({ peerOptions: { profile }, orgs: 1, peers: 10, channels: 2, joins: (id) => (inB.has(id) ? ['channel1', 'channel2'] : ['channel1']), seed: 26, signer: 'sim', timings: { ...fast, ...electionFast } });
    try {
      const leaders = (ch: string) => h.running().filter((p) => p.peer!.elections.get(ch)?.role() === 'leader').map((p) => p.id);
      const one = () => leaders('channel1').length === 1 && leaders('channel2').length === 1;
      assert.ok(await h.until(one, 20_000, 100));
      assert.ok(inB.has(leaders('channel2')[0]!), `chanB's leader ${leaders('channel2')} is one of its members`);
      assert.equal(h.running().filter((p) => p.peer!.elections.has('channel2')).map((p) => p.id).sort(), [...inB].sort(), 'only chanB\'s members run its election');
      const old = new Set([...leaders('channel1'), ...leaders('channel2')]);
      for (const id of old) await h.crash(id);
      assert.ok(await h.until(() => one() && ![...leaders('channel1'), ...leaders('channel2')].some((id) => old.has(id)), 20_000, 100), 'new leaders');
      await h.advance(5000);
      assert.ok(one(), `still one leader per channel: ${leaders('channel1')} / ${leaders('channel2')}`);
      assert.ok(inB.has(leaders('channel2')[0]!), 'chanB\'s new leader is one of its members');
    } finally {
      await h.stop();
    }
  }
});

test('fabric gossip/TestBootstrapPeerMisConfiguration', async () => {
  // Fabric: p (org A) lists two bootstrap peers, bs1 of org B and bs2 of org A. bs1 gets connection attempts
  // only (at least 3 handshakes: Fabric retries the refused connection), never a membership request; bs2 gets
  // a membership request. Here: peer0.org1 bootstraps from peer0.org2 and peer1.org1; channel1 lists Org1 only,
  // so no Org2 peer is an anchor peer of it. Every message peer0.org1 sends to each inbox is recorded from its
  // first start; murmur's probe is the signed session message, answered once (no retry is needed to know).
  for (const profile of PROFILES) {
    const h = await Harness.create({ peerOptions: { profile }, orgs: 2, peers: 2, channelOrgs: { channel1: ['Org1'] }, seed: 66, signer: 'sim', timings: fast, perPeer: (id) => (id === 'peer0.org1' ? { bootstrap: ['peer0.org2', 'peer1.org1'] } : {}) });
    try {
      const ids = [...h.peers.keys()];
      for (const id of ids) await h.crash(id);
      const sent = new Map<string, string[]>();
      h.network.taps.add((from, subject, bytes) => {
        const c = parseSubject(subject, h.network.subjects.prefix);
        if (from !== 'peer0.org1' || c?.kind !== 'inbox') return;
        sent.set(c.endpoint, [...(sent.get(c.endpoint) ?? []), kindOf(bytes) ?? 'junk']);
      });
      for (const id of ids) await h.start(id);
      const p = h.peers.get('peer0.org1')!;
      assert.ok(await h.until(() => view(p).includes('peer1.org1'), 20_000, 100), 'p joins through its own org\'s bootstrap peer');
      await h.advance(10 * fast.reconnectInterval);
      const toForeign = sent.get('peer0.org2') ?? [];
      assert.ok(toForeign.length >= 1 && toForeign.every((k) => k === 'session'), `the foreign bootstrap peer got only session probes: ${toForeign} org2: ${JSON.stringify(h.peers.get('peer0.org2')!.codec.rejections.snapshot())} ${JSON.stringify(h.peers.get('peer0.org2')!.peer!.inbound.unhandled)}`);
      assert.ok((sent.get('peer1.org1') ?? []).includes('memReq'), 'the same-org bootstrap peer got a membership request');
      assert.ok(p.codec.rejections.get('bootstrap-foreign-org') >= 1, `the misconfiguration is counted: ${JSON.stringify(p.codec.rejections.snapshot())}`);
      assert.not.ok(view(p).includes('peer0.org2'));
    } finally {
      await h.stop();
    }
  }
});

test.run();
