// Fabric's discovery, membership and channel scenarios (digest §7.2, §7.3) ported to murmur's simulated
// network. Names follow ../shared/protocol/fabric-scenarios.md.
import { test } from '../helpers/test.ts';
import * as assert from 'uvu/assert';
import { Harness, type SimPeer } from '../../runtime/sim/harness.ts';
import { encodeEnvelope, parseEnvelope, seal } from '../../runtime/wire/envelope.ts';
import { parseSubject } from '../../runtime/transport/subjects.ts';
import { signerOf } from '../../runtime/crypto/material.ts';
import type { MemReqMsg, SessionMsg, LeadershipMsg } from '../../runtime/wire/messages.ts';
import { classify, kindOf, payloadOf } from '../../runtime/sim/kinds.ts';

const fast = { aliveTimeInterval: 300, aliveExpirationTimeout: 3000, reconnectInterval: 3000, pullInterval: 1000, msgExpirationFactor: 20, publishStateInfoInterval: 300, requestStateInfoInterval: 300 };
/** Membership ports run in both profiles: murmur's (alive messages on org subjects) and Fabric's gossiped one. */
const PROFILES = ['murmur', 'fabric'] as const;
const view = (p: SimPeer) => p.peer!.discovery.aliveMembers().map((m) => m.id).sort();
const others = (h: Harness, p: SimPeer, pred: (q: SimPeer) => boolean = () => true) =>
  [...h.peers.values()].filter((q) => q.id !== p.id && q.peer && pred(q)).map((q) => q.id).sort();

test('fabric discovery/TestNoSigningIfNoMembership', async () => {
  for (const profile of PROFILES) {
    const h = await Harness.create({ peerOptions: { profile }, orgs: 1, peers: 1, seed: 1, timings: fast });
    try {
      const signed: (string | null)[] = [];
      h.network.taps.add((_f, _s, b) => void signed.push(kindOf(b)));
      await h.advance(10 * fast.aliveTimeInterval);
      assert.equal(signed, [], 'a lone peer signs and sends nothing');
    } finally {
      await h.stop();
    }
  }
});

test('fabric discovery/TestGossipDiscoverySkipConnectingToLocalhostBootstrap', async () => {
  // Each peer lists itself and the other peer as bootstrap. The tap is on before the peers start (they are
  // restarted under it), and the window spans three reconnect intervals, so the first attempts and every retry
  // are seen; the positive control is that each peer does reach its other bootstrap peer.
  const ids = ['peer0.org1', 'peer1.org1'];
  for (const profile of PROFILES) {
    const h = await Harness.create({ peerOptions: { profile }, orgs: 1, peers: 2, seed: 2, timings: fast, perPeer: (id) => ({ bootstrap: [id, ids.find((x) => x !== id)!] }) });
    try {
      for (const id of ids) await h.crash(id);
      const toSelf: string[] = [];
      const toOther = new Set<string>();
      h.network.taps.add((from, subject) => {
        if (subject === `murmur.inbox.${from}`) toSelf.push(from);
        else if (ids.some((id) => subject === `murmur.inbox.${id}`)) toOther.add(from);
      });
      for (const id of ids) await h.start(id);
      await h.advance(3 * fast.reconnectInterval);
      assert.equal(toSelf, [], 'no peer sends to its own endpoint');
      assert.equal([...toOther].sort(), ids, 'each peer reached its other bootstrap peer');
    } finally {
      await h.stop();
    }
  }
});

test('fabric gossip/TestMembership', async () => {
  // 10 peers of one org, all bootstrapping from peer0 only, form a full view; then the last one updates its
  // metadata and every other peer sees the new metadata.
  for (const profile of PROFILES) {
    const h = await Harness.create({ peerOptions: { profile }, orgs: 1, peers: 10, seed: 3, signer: 'sim', timings: fast, startJitterMs: 500, perPeer: (id) => ({ bootstrap: id === 'peer0.org1' ? [] : ['peer0.org1'] }) });
    try {
      assert.ok(await h.until(() => h.running().every((p) => view(p).length === 9), 20_000, 100));
      const last = h.peers.get('peer9.org1')!;
      const metadataSeen = () => h.running().filter((p) => p !== last).map((p) => new TextDecoder().decode(p.peer!.discovery.member(last.pkiIdHex)?.metadata));
      assert.ok(metadataSeen().every((m) => m === ''), 'no metadata yet');
      last.peer!.discovery.updateMetadata(new TextEncoder().encode('bla bla'));
      assert.ok(await h.until(() => metadataSeen().every((m) => m === 'bla bla'), 10 * fast.aliveTimeInterval, 50), JSON.stringify(metadataSeen()));
    } finally {
      await h.stop();
    }
  }
});

test('fabric discovery/TestGetFullMembership', async () => {
  for (const profile of PROFILES) {
    const h = await Harness.create({ peerOptions: { profile }, orgs: 1, peers: 15, seed: 4, signer: 'sim', timings: fast, startJitterMs: 500 });
    try {
      assert.ok(await h.until(() => h.running().every((p) => view(p).length === 14), 20_000, 100));
      for (const p of h.running())
        for (const m of p.peer!.discovery.aliveMembers()) assert.is(m.internalEndpoint, m.id, `${p.id} knows ${m.id}'s internal endpoint`);
    } finally {
      await h.stop();
    }
  }
});

test('fabric discovery/TestUpdate', async () => {
  // Five peers; once the last one sees everyone, the first changes its metadata and the last its (external)
  // endpoint at run time: each change reaches the other through the ordinary alive messages.
  for (const profile of PROFILES) {
    const h = await Harness.create({ peerOptions: { profile }, orgs: 1, peers: 5, seed: 41, signer: 'sim', timings: fast });
    try {
      const first = h.peers.get('peer0.org1')!;
      const last = h.peers.get('peer4.org1')!;
      assert.ok(await h.until(() => view(last).length === 4, 20_000, 100));
      const seen = () => ({
        metadata: new TextDecoder().decode(last.peer!.discovery.member(first.pkiIdHex)?.metadata),
        endpoint: first.peer!.discovery.member(last.pkiIdHex)?.endpoint,
      });
      assert.equal(seen(), { metadata: '', endpoint: '' }, 'before the updates');
      // What every receiver would refuse is refused at the source, and nothing changes.
      assert.throws(() => first.peer!.discovery.updateMetadata(new Uint8Array(4097)), /at most 4096 bytes/);
      assert.throws(() => last.peer!.discovery.updateEndpoint('bad endpoint>'), /bad external endpoint/);
      first.peer!.discovery.updateMetadata(new TextEncoder().encode('bla bla'));
      last.peer!.discovery.updateEndpoint('localhost:5511');
      assert.ok(await h.until(() => seen().metadata === 'bla bla' && seen().endpoint === 'localhost:5511', 10 * fast.aliveTimeInterval, 50), JSON.stringify(seen()));
    } finally {
      await h.stop();
    }
  }
});

test('fabric discovery/TestExpiration', async () => {
  for (const profile of PROFILES) {
    const h = await Harness.create({ peerOptions: { profile }, orgs: 1, peers: 5, seed: 5, signer: 'sim', timings: fast });
    try {
      assert.ok(await h.until(() => h.running().every((p) => view(p).length === 4), 20_000, 100));
      await h.crash('peer3.org1');
      await h.crash('peer4.org1');
      assert.ok(await h.until(() => h.running().every((p) => view(p).length === 2), 3 * fast.aliveExpirationTimeout, 100));
      for (const p of h.running()) assert.equal(view(p), others(h, p));
    } finally {
      await h.stop();
    }
  }
});

test('fabric discovery/TestMembershipAfterExpiration', async () => {
  // Anchor peer kept as dead after the alive TTL, others removed; after restart everyone is back.
  for (const profile of PROFILES) {
    const t = { ...fast, msgExpirationFactor: 2 };
    const h = await Harness.create({ peerOptions: { profile }, orgs: 1, peers: 3, seed: 6, timings: t });
    try {
      assert.ok(await h.until(() => h.running().every((p) => view(p).length === 2), 20_000, 100));
      const anchor = h.peers.get('peer0.org1')!;
      const plain = h.peers.get('peer2.org1')!;
      await h.crash(anchor.id);
      await h.crash(plain.id);
      await h.advance(t.aliveExpirationTimeout * (t.msgExpirationFactor + 1) + 1000);
      const table = h.peers.get('peer1.org1')!.peer!.discovery.table;
      assert.is(table.get(anchor.pkiIdHex)?.status, 'dead', 'anchor kept');
      assert.is(table.get(plain.pkiIdHex), undefined, 'non-anchor removed');
      await h.start(anchor.id);
      await h.start(plain.id);
      assert.ok(await h.until(() => h.running().every((p) => view(p).length === 2), 4 * t.reconnectInterval, 100), 'no isolation after restart');
    } finally {
      await h.stop();
    }
  }
});

test('fabric discovery/TestPeerIsolation', async () => {
  // An isolated peer whose only contact is its bootstrap/anchor peer reconnects after the TTL has passed.
  for (const profile of PROFILES) {
    const t = { ...fast, msgExpirationFactor: 2 };
    const h = await Harness.create({ peerOptions: { profile }, orgs: 1, peers: 2, seed: 7, timings: t });
    try {
      assert.ok(await h.until(() => h.running().every((p) => view(p).length === 1), 20_000, 100));
      h.network.isolate('peer1.org1');
      await h.advance(t.aliveExpirationTimeout * (t.msgExpirationFactor + 2));
      assert.equal(view(h.peers.get('peer1.org1')!), []);
      h.heal();
      assert.ok(await h.until(() => h.running().every((p) => view(p).length === 1), 3 * t.reconnectInterval, 100), 'reconnected through the kept anchor');
    } finally {
      await h.stop();
    }
  }
});

test('fabric discovery/TestMemRespDisclosurePol', async () => {
  // A foreign peer without an external endpoint asks an internal-only peer: no membership response.
  for (const profile of PROFILES) {
    const h = await Harness.create({ peerOptions: { profile }, orgs: 2, peers: 2, seed: 8, timings: fast });
    try {
      await h.advance(3000);
      const asker = h.peers.get('peer1.org2')!;
      const signer = signerOf(asker.material, h.ed);
      const spy = h.network.transport({ endpoint: 'peer1.org2.spy', decoder: asker.codec });
      await spy.start();
      const got: string[] = [];
      spy.inbound$.subscribe((i) => i.msg.payload.t === 'memRes' && got.push(i.msg.signer.subject));
      const own = seal({ t: 'alive', member: { endpoint: 'peer1.org2.spy', pkiId: asker.pkiId, metadata: new Uint8Array() }, ts: { incNum: h.clock.now() * 3, seqNum: 1 } }, signer);
      const req: MemReqMsg = { t: 'memReq', nonce: 99, alive: own };
      // peer1.org1 is internal-only: it must not disclose itself to org2.
      spy.send('peer1.org1', seal(req, signer));
      // peer0.org1 is external and the requester claims an external endpoint: it answers.
      spy.send('peer0.org1', seal({ ...req, nonce: 100 }, signer));
      await h.advance(2000);
      assert.equal(got, ['peer0.org1'], 'only the external peer answered');
      await spy.stop();
    } finally {
      await h.stop();
    }
  }
});

test('fabric gossip/TestMembershipRequestSpoofing', async () => {
  for (const profile of PROFILES) {
    const h = await Harness.create({ peerOptions: { profile }, orgs: 1, peers: 3, seed: 9, timings: fast });
    try {
      assert.ok(await h.until(() => h.running().every((p) => view(p).length === 2), 20_000, 100));
      const g2 = h.peers.get('peer1.org1')!;
      const g3 = h.peers.get('peer2.org1')!;
      const table = h.peers.get('peer0.org1')!.peer!.discovery.table;
      const g3alive = table.get(g3.pkiIdHex)!.envelope;
      const spy = h.network.transport({ endpoint: 'spy', decoder: g2.codec });
      await spy.start();
      // A membership response goes to the endpoint in the embedded alive message: watch what peer0 answers, and where.
      const answers: string[] = [];
      h.network.taps.add((from, subject, bytes) => {
        const p = payloadOf(bytes);
        // Only the answers to the two requests below (other peers' own requests are answered too).
        if (from === 'peer0.org1' && p?.t === 'memRes' && (p.nonce === 4 || p.nonce === 5)) answers.push(/\.inbox\.(.+)$/.exec(subject)?.[1] ?? subject);
      });
      // Positive control (Fabric's): the same request from g3 itself is answered, to g3.
      spy.send('peer0.org1', seal({ t: 'memReq', nonce: 4, alive: g3alive } satisfies MemReqMsg, signerOf(g3.material, h.ed)));
      await h.advance(1000);
      assert.equal(answers, ['peer2.org1'], 'an honest request is answered to its requester');
      // g2 relays g3's alive inside its own membership request: refused, nobody is answered.
      answers.length = 0;
      spy.send('peer0.org1', seal({ t: 'memReq', nonce: 5, alive: g3alive } satisfies MemReqMsg, signerOf(g2.material, h.ed)));
      await h.advance(1000);
      assert.equal(answers, [], 'a request relaying another peer\'s alive is not answered');
      assert.ok(h.peers.get('peer0.org1')!.codec.rejections.get('spoofed-membership-request') >= 1);
      await spy.stop();
    } finally {
      await h.stop();
    }
  }
});

test('fabric gossip/TestMultipleOrgEndpointLeakage', async () => {
  // 2 orgs x 5, 2 external peers each: only external peers know foreign peers; no internal endpoint crosses.
  // Fabric checks what the sender puts on the wire to a foreign org, not only what the receiver keeps: a tap
  // (on before the peers start) reads every envelope that leaves an org (to a foreign inbox, a channel subject
  // or the external discovery subject) and every alive envelope embedded in it; none may carry the secret
  // (the internal endpoint). Positive control: the same messages inside the org do carry it.
  const ext = new Set(['peer0.org1', 'peer1.org1', 'peer0.org2', 'peer1.org2']);
  for (const profile of PROFILES) {
    const h = await Harness.create({ peerOptions: { profile }, orgs: 2, peers: 5, seed: 10, signer: 'sim', timings: fast, perPeer: (id) => ({ externalEndpoint: ext.has(id) ? id : '' }) });
    try {
      const ids = [...h.peers.keys()];
      for (const id of ids) await h.crash(id);
      const orgOf = (id: string) => h.peers.get(id)?.org;
      const seen = { crossing: 0, leaked: [] as string[], embeddedCrossing: 0, insideWithSecret: 0 };
      h.network.taps.add((from, subject, bytes) => {
        const c = parseSubject(subject, h.network.subjects.prefix);
        if (!c) return;
        const crossing = c.kind === 'inbox' ? orgOf(c.endpoint) !== orgOf(from) : c.kind === 'channel' || c.kind === 'discoveryExternal';
        const envelopes = [bytes, ...classify(bytes).embedded];
        for (const [i, e] of envelopes.entries()) {
          const env = parseEnvelope(e);
          if (!env.ok) continue;
          if (!crossing) {
            if (env.env.secret) seen.insideWithSecret++;
            continue;
          }
          if (i === 0) seen.crossing++;
          else seen.embeddedCrossing++;
          if (env.env.secret) seen.leaked.push(`${from} → ${subject}: ${kindOf(bytes)}${i ? ' (embedded)' : ''}`);
        }
      });
      for (const id of ids) await h.start(id);
      const want = (p: SimPeer) => others(h, p, (q) => q.org === p.org || (ext.has(p.id) && ext.has(q.id)));
      assert.ok(await h.until(() => h.running().every((p) => JSON.stringify(view(p)) === JSON.stringify(want(p))), 30_000, 100));
      for (const p of h.running())
        for (const m of p.peer!.discovery.table.all()) if (m.mspId !== p.mspId) assert.is(m.internalEndpoint, null);
      assert.equal(seen.leaked.slice(0, 5), [], 'an internal endpoint left its org');
      assert.ok(seen.crossing > 10 && seen.embeddedCrossing > 0, `messages and embedded alive envelopes crossed orgs: ${JSON.stringify({ ...seen, leaked: seen.leaked.length })}`);
      assert.ok(seen.insideWithSecret > 10, 'inside the org the internal endpoint travels');
    } finally {
      await h.stop();
    }
  }
});

test('fabric discovery/TestConvergence', async () => {
  // Fabric: groups {d1: d2 d3 d4}, {d5: d6 d7 d8}, {d9: d10 d11 d12}, each knowing only its boot peer, form three
  // views of 3; a connector d13 bootstrapping from the three boot peers joins them into one view of 12; it stops,
  // and the other 12 keep a full view of 11. Here d1…d13 are peer1…peer12 and the connector peer0 (the channel's
  // anchor peer, so it is down until it connects the groups, and every peer tries its anchor once only).
  // fabric profile: alive messages are gossiped peer to peer, so the groups really are apart until the connector
  // comes. murmur profile: alive messages are published on the org subject, which joins the groups at once;
  // what is asserted there is the full view and that it survives the connector.
  const boots = ['peer1.org1', 'peer5.org1', 'peer9.org1'];
  const bootOf = (id: string) => boots[Math.floor((Number(/peer(\d+)/.exec(id)![1]) - 1) / 4)]!;
  for (const profile of ['fabric', 'murmur'] as const) {
    const h = await Harness.create({
      orgs: 1,
      peers: 13,
      seed: 11,
      signer: 'sim',
      timings: { ...fast, maxConnectionAttempts: 1 },
      peerOptions: { profile },
      perPeer: (id) => ({ bootstrap: id === 'peer0.org1' ? boots : boots.includes(id) ? [] : [bootOf(id)] }),
    });
    try {
      await h.crash('peer0.org1');
      const groups = h.running();
      if (profile === 'fabric') {
        assert.ok(await h.until(() => groups.every((p) => view(p).length === 3), 20_000, 100), `${profile}: three views of 3`);
        for (const p of groups) assert.equal(view(p), groups.filter((q) => q !== p && bootOf(q.id) === bootOf(p.id)).map((q) => q.id).sort(), `${p.id} knows its group only`);
        await h.advance(3 * fast.aliveExpirationTimeout);
        assert.ok(groups.every((p) => view(p).length === 3), 'the groups stay apart without the connector');
      }
      await h.start('peer0.org1');
      assert.ok(await h.until(() => h.running().every((p) => view(p).length === 12), 20_000, 100), `${profile}: one view of 13`);
      await h.crash('peer0.org1');
      assert.ok(await h.until(() => h.running().every((p) => view(p).length === 11), 3 * fast.aliveExpirationTimeout, 100), `${profile}: still full without the connector`);
      await h.advance(3 * fast.aliveExpirationTimeout);
      assert.ok(h.running().every((p) => view(p).length === 11), `${profile}: and it stays full`);
    } finally {
      await h.stop();
    }
  }
});

test('fabric discovery/TestInitiateSync', async () => {
  // Fabric: 10 peers with alive gossip turned off, each syncing membership with 9 peers every third of the
  // expiration timeout; after four expiration timeouts everyone knows the other 9 (and keeps them alive: the sync
  // requests carry fresh alive messages). fabric profile only: murmur's profile publishes alive messages on the
  // org subject, there is no gossip to turn off.
  const h = await Harness.create({
    orgs: 1,
    peers: 10,
    seed: 42,
    signer: 'sim',
    timings: fast,
    peerOptions: { profile: 'fabric', discovery: { aliveFanout: 0, syncPeerNum: 9, syncPeriod: fast.aliveExpirationTimeout / 3 } },
    perPeer: () => ({ bootstrap: ['peer0.org1', 'peer1.org1'] }),
  });
  try {
    let alives = 0;
    h.network.taps.add((_f, _s, b) => {
      if (kindOf(b) === 'alive') alives++;
    });
    await h.advance(4 * fast.aliveExpirationTimeout);
    for (const p of h.running()) assert.is(view(p).length, 9, p.id);
    assert.is(alives, 0, 'no alive message was gossiped');
  } finally {
    await h.stop();
  }
});

test('fabric comm/TestHandshake', async () => {
  // The signed session binding replaces the TLS handshake: the same attacks must fail.
  for (const profile of PROFILES) {
    const h = await Harness.create({ peerOptions: { profile }, orgs: 1, peers: 2, seed: 12, timings: fast });
    try {
      await h.advance(2000);
      const victim = h.peers.get('peer0.org1')!;
      const mallory = h.peers.get('peer1.org1')!;
      const spy = h.network.transport({ endpoint: 'spy', decoder: mallory.codec });
      await spy.start();
      const answers: SessionMsg[] = [];
      spy.inbound$.subscribe((i) => i.msg.payload.t === 'session' && answers.push(i.msg.payload as SessionMsg));
      const good: SessionMsg = { t: 'session', pkiId: mallory.pkiId, inbox: 'spy', incNum: 1, nonce: 7, to: null, probe: true, dh: new Uint8Array(32) };
      const s = signerOf(mallory.material, h.ed);
      const rejected = () => victim.codec.rejections.snapshot();
      const provenBefore = victim.peer!.sessions.proven.peek(mallory.pkiIdHex)?.inbox;
      // Fabric's negatives, each as the signed session binding meets it:
      // no certificate, from a sender the victim has never seen → refused.
      const env = parseEnvelope(seal(good, s));
      assert.ok(env.ok);
      if (!env.ok) return;
      spy.send(victim.id, encodeEnvelope({ ...env.env, cert: null, signer: new Uint8Array(32).fill(9) }));
      // bad signature (the signature itself, the certificate intact) → refused.
      const badSig = new Uint8Array(env.env.signature);
      badSig[0]! ^= 1;
      spy.send(victim.id, encodeEnvelope({ ...env.env, signature: badSig }));
      // identity/PKI-ID mismatch: claims another peer's PKI-ID → refused.
      spy.send(victim.id, seal({ ...good, pkiId: victim.pkiId }, s));
      // no PKI-ID → refused as a malformed payload.
      spy.send(victim.id, seal({ ...good, pkiId: new Uint8Array(0) } as SessionMsg, s));
      // the TLS-binding mismatch's analogue: an answer to a probe the victim never sent proves nothing.
      spy.send(victim.id, seal({ ...good, probe: false, to: victim.pkiId, nonce: 999, incNum: 2 ** 50 }, s));
      // a first message of another type is no handshake: nothing answers it with a binding.
      spy.send(victim.id, seal({ t: 'prune', ch: 'channel1' }, s));
      await h.advance(500);
      assert.equal(answers, [], 'no binding for forged handshakes');
      const r = rejected();
      for (const reason of ['unknown-identity', 'bad-signature', 'signer-mismatch', 'bad-payload']) assert.ok((r[reason] ?? 0) >= 1, `${reason}: ${JSON.stringify(r)}`);
      assert.is(victim.peer!.sessions.proven.peek(mallory.pkiIdHex)?.inbox, provenBefore, 'an unasked answer proves no inbox');
      // The genuine probe is answered, addressed to the prober, with the same nonce.
      spy.send(victim.id, seal(good, s));
      await h.advance(500);
      assert.is(answers.length, 1);
      assert.is(answers[0]!.nonce, 7);
      assert.equal(answers[0]!.to, mallory.pkiId);
      await spy.stop();
    } finally {
      await h.stop();
    }
  }
});

test('fabric channel/NoSigningWithEmptyMembership', async () => {
  for (const profile of PROFILES) {
    const h = await Harness.create({ peerOptions: { profile }, orgs: 1, peers: 1, seed: 13, timings: fast });
    try {
      h.peers.get('peer0.org1')!.peer!.stateInfo.get('channel1')!.setHeight(5);
      let stateInfos = 0;
      h.network.taps.add((_f, _s, b) => void (kindOf(b) === 'stateInfo' && stateInfos++));
      await h.advance(10 * fast.publishStateInfoInterval);
      assert.is(stateInfos, 0);
    } finally {
      await h.stop();
    }
  }
});

test('fabric channel/PeriodicStateInfoPublish', async () => {
  // Only the periodic publish may carry the new heights here: the StateInfo pull rounds are a minute apart.
  for (const profile of PROFILES) {
    const h = await Harness.create({ peerOptions: { profile }, orgs: 1, peers: 2, seed: 14, timings: { ...fast, requestStateInfoInterval: 60_000 } });
    try {
      const tracker = (id: string) => h.peers.get(id)!.peer!.stateInfo.get('channel1')!;
      assert.ok(await h.until(() => tracker('peer1.org1').channelPeers().length === 1, 10_000, 100));
      for (const height of [2, 3, 4]) {
        tracker('peer0.org1').setHeight(height);
        assert.ok(await h.until(() => tracker('peer1.org1').maxHeight() === height, 2 * fast.publishStateInfoInterval, 50), `height ${height} published`);
      }
    } finally {
      await h.stop();
    }
  }
});

test('fabric channel/ForeignLeadershipFiltered', async () => {
  for (const profile of PROFILES) {
    const h = await Harness.create({ peerOptions: { profile }, orgs: 2, peers: 2, seed: 15, timings: fast });
    try {
      await h.advance(3000);
      const foreign = h.peers.get('peer0.org2')!;
      const victim = h.peers.get('peer0.org1')!;
      const spy = h.network.transport({ endpoint: 'spy', decoder: foreign.codec });
      await spy.start();
      const decl: LeadershipMsg = { t: 'leadership', ch: 'channel1', pkiId: foreign.pkiId, ts: { incNum: h.clock.now() * 3, seqNum: 1 }, declaration: true };
      spy.publish(h.network.subjects.org('Org1MSP', 'channel1'), seal(decl, signerOf(foreign.material, h.ed)));
      await h.advance(500);
      assert.ok(victim.codec.rejections.get('foreign-leadership') >= 1, 'a foreign org cannot take part in my org\'s election');
      await spy.stop();
    } finally {
      await h.stop();
    }
  }
});

test('fabric election/AdapterPeersSameOrgOnly', async () => {
  for (const profile of PROFILES) {
    const h = await Harness.create({ peerOptions: { profile }, orgs: 2, peers: 3, seed: 16, timings: fast, external: 'all' });
    try {
      await h.advance(5000);
      for (const p of h.running()) {
        const snap = p.peer!.status()[0]!;
        assert.ok(snap.members!.length === 5, `${p.id} sees both orgs (${snap.members})`);
        const e = p.peer!.actor.getSnapshot().children['channel:channel1']!.getSnapshot() as unknown as { children: { election: { getSnapshot(): { context: { viewSize: number } } } } };
        assert.is(e.children.election.getSnapshot().context.viewSize, 2, `${p.id}: election counts only its own org`);
      }
    } finally {
      await h.stop();
    }
  }
});

test('fabric discovery/TestValidation', async () => {
  // Fabric: p3 is p1's bootstrap peer and p1 is p2's, so p1 receives alive messages alone, inside membership
  // requests and inside membership responses (with alive and, once p3 stopped, dead peers). Fabric validates an
  // alive message when it enters the store, and again every time it comes inside a membership request.
  // murmur verifies each signature once per peer (the codec's verified cache), whichever way it arrives: every
  // signed alive message p1 received, alone or inside a request or response, with its secret part or without,
  // cost p1 exactly one verification per signature. Counted by wrapping p1's signature port. The fabric
  // profile, so membership syncs are answered as in Fabric (murmur's same-org sync stays silent when views agree,
  // and the response listing the dead p3 would never come).
  const verified = new Map<string, number>();
  const boot: Record<string, string[]> = { 'peer0.org1': ['peer2.org1'], 'peer1.org1': ['peer0.org1'], 'peer2.org1': [] };
  const h = await Harness.create({
    orgs: 1,
    peers: 3,
    seed: 67,
    timings: fast,
    peerOptions: { profile: 'fabric' },
    perPeer: (id) => ({ bootstrap: boot[id]! }),
    peerEd: (id, ed) =>
      id !== 'peer0.org1'
        ? ed
        : { ...ed, name: ed.name, publicKey: (k) => ed.publicKey(k), sign: (k, m) => ed.sign(k, m), verify: (pub, msg, sig) => (verified.set(Buffer.from(sig).toString('hex'), (verified.get(Buffer.from(sig).toString('hex')) ?? 0) + 1), ed.verify(pub, msg, sig)) },
  });
  try {
    const [p1, , p3] = ['peer0.org1', 'peer1.org1', 'peer2.org1'].map((id) => h.peers.get(id)!);
    // Every alive signature (and secret-part signature) p1 receives, by route; p1's own are left out.
    const received = new Map<string, Set<string>>();
    let deadInResponse = 0;
    h.network.deliveryTaps.add((_from, to, _subject, bytes) => {
      if (to !== p1!.id) return;
      const c = classify(bytes);
      const route = c.kind === 'alive' ? 'alone' : c.kind === 'memReq' ? 'request' : c.kind === 'memRes' ? 'response' : null;
      if (!route) return;
      const payload = payloadOf(bytes);
      if (payload?.t === 'memRes' && payload.dead.length) deadInResponse++;
      for (const e of c.kind === 'alive' ? [bytes] : c.embedded) {
        const env = parseEnvelope(e);
        if (!env.ok || Buffer.from(env.env.signer).equals(Buffer.from(p1!.pkiId))) continue;
        for (const sig of [env.env.signature, env.env.secret?.signature]) {
          if (!sig) continue;
          const k = Buffer.from(sig).toString('hex');
          received.set(k, (received.get(k) ?? new Set()).add(route));
        }
      }
    });
    assert.ok(await h.until(() => h.running().every((p) => view(p).length === 2), 20_000, 100), 'full membership');
    await h.crash(p3!.id);
    assert.ok(await h.until(() => view(p1!).length === 1 && deadInResponse > 0, 30_000, 100), 'p3 dead, and a membership response listing it reached p1');
    await h.advance(3000);
    const routes = new Set([...received.values()].flatMap((r) => [...r]));
    assert.equal([...routes].sort(), ['alone', 'request', 'response'], 'p1 received alive messages by every route');
    const twice = [...received.keys()].filter((k) => (verified.get(k) ?? 0) > 1);
    const never = [...received.keys()].filter((k) => !verified.has(k));
    assert.ok(received.size > 20, `${received.size} alive signatures reached p1`);
    assert.equal(twice.map((k) => `${k.slice(0, 8)} ×${verified.get(k)} via ${[...received.get(k)!]}`), [], 'no signature verified twice');
    assert.equal(never.length, 0, 'and none left unverified');
  } finally {
    await h.stop();
  }
});

test('fabric discovery/TestMsgStoreExpiration', async () => {
  // Fabric: 4 peers, the first two the bootstrap peers of all; the other two stop. Once the survivors see only
  // each other, within aliveExpirationTimeout × (msgExpirationFactor + 5) the stopped peers are gone from every
  // map of theirs (alive and dead membership, timestamps, the alive message store), and membership stays.
  // murmur's maps: the membership table, every channel's StateInfo cache and the session table (bindings and
  // proven inboxes). What murmur keeps longer, on purpose: the last timestamp of a forgotten peer (a replay
  // guard, no message), until 2 × TTL after its last alive, then that goes too.
  for (const profile of PROFILES) {
    const h = await Harness.create({ peerOptions: { profile }, orgs: 1, peers: 4, channels: 2, seed: 68, timings: fast, perPeer: (id) => ({ bootstrap: ['peer0.org1', 'peer1.org1'].filter((b) => b !== id) }) });
    try {
      const [a, b, c, d] = ['peer0.org1', 'peer1.org1', 'peer2.org1', 'peer3.org1'].map((id) => h.peers.get(id)!) as [SimPeer, SimPeer, SimPeer, SimPeer];
      assert.ok(await h.until(() => h.running().every((p) => view(p).length === 3), 20_000, 100), 'full membership');
      assert.ok(await h.until(() => [a, b].every((p) => [c, d].every((q) => p.peer!.sessions.bindings.has(q.pkiIdHex) && p.peer!.stateInfo.get('channel2')!.holds(q.pkiIdHex))), 20_000, 100), 'sessions and StateInfo hold the soon-stopped peers');
      await h.crash(c.id);
      await h.crash(d.id);
      assert.ok(await h.until(() => [a, b].every((p) => view(p).length === 1), 3 * fast.aliveExpirationTimeout, 100), 'survivors see only each other');
      const held = (p: SimPeer, q: SimPeer): string[] =>
        [
          p.peer!.discovery.member(q.pkiIdHex) ? 'membership' : '',
          ...[...p.peer!.stateInfo].map(([ch, t]) => (t.holds(q.pkiIdHex) ? `StateInfo ${ch}` : '')),
          p.peer!.sessions.bindings.has(q.pkiIdHex) ? 'session binding' : '',
          p.peer!.sessions.provenInbox(q.pkiIdHex) ? 'proven inbox' : '',
        ].filter(Boolean);
      const gone = () => [a, b].every((p) => [c, d].every((q) => held(p, q).length === 0));
      const ttl = fast.aliveExpirationTimeout * fast.msgExpirationFactor;
      assert.ok(await h.until(gone, fast.aliveExpirationTimeout * (fast.msgExpirationFactor + 5), 500), `still held: ${[a, b].flatMap((p) => [c, d].map((q) => `${p.id}: ${q.id} in ${held(p, q)}`))}`);
      assert.equal([a, b].map((p) => view(p)), [['peer1.org1'], ['peer0.org1']], 'membership stays');
      assert.ok(a.peer!.discovery.table.remembers(c.pkiIdHex), 'the replay guard still holds the last timestamp');
      await h.advance(2 * ttl);
      assert.not.ok([a, b].some((p) => [c, d].some((q) => p.peer!.discovery.table.remembers(q.pkiIdHex))), 'and drops it after 2 × TTL');
    } finally {
      await h.stop();
    }
  }
});

test('fabric discovery/TestDisclosurePolicyWithPull', async () => {
  // Fabric: two groups of 5 ("orgs"), the peers with even ports external; every peer ends with exactly the view
  // the disclosure policy allows (its group, plus the other group's external peers if it is external itself),
  // no internal endpoint crosses groups, and once peer 0 stops, exactly the peers that knew it list it dead.
  // Here the groups are two orgs (ports 8610–8614: Org1's peer0–4, external peer0, 2, 4; 8615–8619: Org2's,
  // external peer1, 3), on one channel. Fabric's test bootstraps across groups (its discovery layer knows no
  // orgs); murmur asks only a bootstrap peer of its own org (TestBootstrapPeerMisConfiguration), so each org
  // bootstraps from its own peers. Also: no peer ever had to refuse an alive message it should not have been
  // sent (undisclosable-alive): the senders keep the policy, not only the receivers.
  const ext = new Set(['peer0.org1', 'peer2.org1', 'peer4.org1', 'peer1.org2', 'peer3.org2']);
  for (const profile of PROFILES) {
    const h = await Harness.create({ peerOptions: { profile }, orgs: 2, peers: 5, seed: 69, signer: 'sim', timings: fast, perPeer: (id) => ({ externalEndpoint: ext.has(id) ? id : '' }) });
    try {
      const want = (p: SimPeer) => others(h, p, (q) => q.org === p.org || (ext.has(p.id) && ext.has(q.id)));
      assert.ok(await h.until(() => h.running().every((p) => JSON.stringify(view(p)) === JSON.stringify(want(p))), 30_000, 100), `views: ${h.running().map((p) => `${p.id}: ${view(p)}`).join('; ')}`);
      await h.advance(5000);
      for (const p of h.running()) {
        assert.equal(view(p), want(p), `${p.id}'s view`);
        for (const m of p.peer!.discovery.aliveMembers()) if (m.mspId !== p.mspId) assert.is(m.internalEndpoint, null, `${p.id} knows ${m.id}'s internal endpoint`);
      }
      const knew = new Set(h.running().filter((p) => view(p).includes('peer0.org1')).map((p) => p.id));
      assert.equal([...knew].sort(), ['peer1.org1', 'peer1.org2', 'peer2.org1', 'peer3.org1', 'peer3.org2', 'peer4.org1'], 'its org and the other org\'s external peers knew peer0.org1');
      await h.crash('peer0.org1');
      await h.advance(6000);
      for (const p of h.running()) {
        const dead = p.peer!.discovery.table.dead().map((m) => m.id);
        assert.equal(dead, knew.has(p.id) ? ['peer0.org1'] : [], `${p.id} lists dead: ${dead}`);
      }
      for (const p of h.running()) assert.is(p.codec.rejections.get('undisclosable-alive'), 0, `${p.id} was sent an alive message the policy forbids`);
    } finally {
      await h.stop();
    }
  }
});

test.run();
