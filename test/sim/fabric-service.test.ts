// Fabric's gossip/service scenarios (digest §7.1, service level): who runs the deliver client, and Connect.
import { test } from '../helpers/test.ts';
import * as assert from 'uvu/assert';
import { Harness } from '../../runtime/sim/harness.ts';
import { parseEnvelope } from '../../runtime/wire/envelope.ts';
import { payloadOf } from '../../runtime/sim/kinds.ts';
import { PeerMetrics } from '../../runtime/ops/metrics.ts';
import { parsePrometheus } from '../helpers/prometheus.ts';

const fast = { aliveTimeInterval: 300, aliveExpirationTimeout: 3000, reconnectInterval: 1500, pullInterval: 1000, publishStateInfoInterval: 300, requestStateInfoInterval: 300, startupGracePeriod: 1000, membershipSampleInterval: 100, leaderAliveThreshold: 1000, leaderElectionDuration: 500 };
/** Block scenarios run in both profiles: murmur's (tree dissemination) and Fabric's (push). */
const PROFILES = ['murmur', 'fabric'] as const;
const tx = (i: number) => new TextEncoder().encode(`tx-${i}`);
const fromOrderer = (h: Harness, id: string) => h.peers.get(id)!.peer!.status()[0]!.counters.blocksFromOrderer ?? 0;

async function feed(h: Harness, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    h.submit('channel1', tx(i));
    // Longer than the orderer's BatchTimeout: one block per transaction.
    await h.advance(2500);
  }
}

test('fabric service/TestWithStaticDeliverClientLeader', async () => {
  for (const profile of PROFILES) {
    const h = await Harness.create({ orgs: 1, peers: 3, seed: 31, signer: 'sim', timings: fast, peerOptions: { useLeaderElection: false, profile }, perPeer: (id) => ({ orgLeader: id === 'peer0.org1' }) });
    try {
      await feed(h, 5);
      assert.ok(await h.until(() => h.running().every((p) => h.ledger(p.id)!.height() >= 3), 20_000, 100), 'blocks reach every peer');
      assert.ok(fromOrderer(h, 'peer0.org1') > 0, 'the static leader runs the deliver client');
      assert.is(h.peers.get('peer0.org1')!.peer!.status()[0]!.role, 'leader');
    } finally {
      await h.stop();
    }
  }
});

test('fabric service/TestWithStaticDeliverClientNotLeader', async () => {
  for (const profile of PROFILES) {
    const h = await Harness.create({ orgs: 1, peers: 3, seed: 32, signer: 'sim', timings: fast, peerOptions: { useLeaderElection: false, profile }, perPeer: (id) => ({ orgLeader: id === 'peer0.org1' }) });
    try {
      await feed(h, 5);
      await h.advance(5000);
      for (const id of ['peer1.org1', 'peer2.org1']) {
        assert.is(fromOrderer(h, id), 0, `${id} (standby) never reads the orderer`);
        assert.is(h.peers.get(id)!.peer!.status()[0]!.role, 'standby');
      }
    } finally {
      await h.stop();
    }
  }
});

test('fabric election/TestMetrics', async () => {
  // Fabric reads the election's metric, not the role: a lone peer becomes leader and reports
  // gossip_leader_election_leader 1; it yields and reports 0; it becomes leader again and reports 1.
  const h = await Harness.create({ orgs: 1, peers: 1, seed: 36, signer: 'sim', timings: fast, peerOptions: { profile: 'fabric' } });
  try {
    const p = h.peers.get('peer0.org1')!;
    const metrics = new PeerMetrics({ status: () => p.peer!.status() }, { peer: p.id, org: p.mspId });
    const leader = async () => parsePrometheus(await metrics.text()).find((s) => s.name === 'gossip_leader_election_leader' && s.labels.channel === 'channel1')?.value;
    assert.ok(await h.until(() => p.peer!.elections.get('channel1')?.role() === 'leader', 20_000, 100));
    assert.is(await leader(), 1, 'leader');
    p.peer!.elections.get('channel1')!.yield();
    await h.advance(10);
    assert.is(await leader(), 0, 'after yielding');
    assert.ok(await h.until(() => p.peer!.elections.get('channel1')?.role() === 'leader', 20_000, 100));
    assert.is(await leader(), 1, 'leader again');
  } finally {
    await h.stop();
  }
});

test('fabric election/TestStop', async () => {
  // Three peers elect a leader; then the leader's election stops (Fabric's LeaderElectionService.Stop; a peer's
  // election stops when it leaves the channel): after one leaderAliveThreshold it sends nothing more, for five
  // more, while the other two carry on (Fabric stops all three; one is enough to watch, and the others keep a
  // view in which the stopped peer would still have someone to declare to).
  const h = await Harness.create({ orgs: 1, peers: 3, seed: 35, signer: 'sim', timings: fast });
  try {
    const sent = new Map<string, number>();
    h.network.taps.add((from, _subject, b) => {
      if (payloadOf(b)?.t === 'leadership') sent.set(from, (sent.get(from) ?? 0) + 1);
    });
    const leaders = () => h.running().filter((p) => p.peer!.elections.get('channel1')?.role() === 'leader').map((p) => p.id);
    assert.ok(await h.until(() => leaders().length === 1, 20_000, 100), 'a leader');
    const leader = leaders()[0]!;
    const before = sent.get(leader) ?? 0;
    await h.advance(fast.leaderAliveThreshold);
    assert.ok((sent.get(leader) ?? 0) > before, 'the leader declares while its election runs');
    assert.ok(await h.leaveChannel(leader, 'channel1'));
    await h.advance(fast.leaderAliveThreshold);
    const afterStop = sent.get(leader) ?? 0;
    const othersBefore = [...sent].filter(([id]) => id !== leader).reduce((n, [, c]) => n + c, 0);
    await h.advance(5 * fast.leaderAliveThreshold);
    assert.is(sent.get(leader) ?? 0, afterStop, 'nothing is sent once the election stopped');
    assert.ok([...sent].filter(([id]) => id !== leader).reduce((n, [, c]) => n + c, 0) > othersBefore, 'the others carry on');
  } finally {
    await h.stop();
  }
});

test('fabric service/TestLeaderElectionWithDeliverClient', async () => {
  // 10 peers with dynamic election: exactly one of them consumes the ordering service.
  for (const profile of PROFILES) {
    const h = await Harness.create({ peerOptions: { profile }, orgs: 1, peers: 10, seed: 33, signer: 'sim', timings: fast, startJitterMs: 500 });
    try {
      assert.ok(await h.until(() => h.running().filter((p) => p.peer!.elections.get('channel1')?.role() === 'leader').length === 1, 20_000, 100));
      await feed(h, 5);
      assert.ok(await h.until(() => h.running().every((p) => h.ledger(p.id)!.height() >= 6), 20_000, 100));
      const consuming = h.running().filter((p) => fromOrderer(h, p.id) > 0).map((p) => p.id);
      assert.is(consuming.length, 1, `one deliver client: ${consuming}`);
    } finally {
      await h.stop();
    }
  }
});

test('fabric discovery/TestConnect', async () => {
  // 10 peers, each told only about the next one (a ring of bootstrap peers): full membership everywhere.
  const n = 10;
  const h = await Harness.create({ orgs: 1, peers: n, seed: 34, signer: 'sim', timings: fast, perPeer: (id) => ({ bootstrap: [`peer${(Number(/\d+/.exec(id)![0]) + 1) % n}.org1`] }) });
  try {
    assert.ok(await h.until(() => h.running().every((p) => p.peer!.discovery.aliveMembers().length === n - 1), 20_000, 100));
  } finally {
    await h.stop();
  }
  // Fabric's second assertion: the first membership request to a target of another org carries no secret
  // (internal endpoint). Two orgs of three, every peer external, anchors peer0: every peer's requests to the
  // foreign anchor are read off the wire from the start; positive control: requests inside the org carry it.
  const g = await Harness.create({ orgs: 2, peers: 3, seed: 35, signer: 'sim', timings: fast, external: 'all' });
  try {
    const ids = [...g.peers.keys()];
    for (const id of ids) await g.crash(id);
    const orgOf = (id: string) => g.peers.get(id)?.org;
    const first = new Map<string, boolean>();
    let insideWithSecret = 0;
    g.network.taps.add((from, subject, bytes) => {
      const to = /\.inbox\.(.+)$/.exec(subject)?.[1];
      const p = payloadOf(bytes) as { t?: string; alive?: Uint8Array } | null;
      if (!to || p?.t !== 'memReq' || !(p.alive instanceof Uint8Array)) return;
      const alive = parseEnvelope(p.alive);
      if (!alive.ok) return;
      if (orgOf(to) === orgOf(from)) insideWithSecret += alive.env.secret ? 1 : 0;
      else if (!first.has(`${from}→${to}`)) first.set(`${from}→${to}`, alive.env.secret !== null);
    });
    for (const id of ids) await g.start(id);
    await g.advance(5000);
    assert.ok(first.size >= 4, `requests to a foreign anchor seen: ${[...first.keys()]}`);
    assert.equal([...first].filter(([, secret]) => secret).map(([k]) => k), [], 'a first request to a foreign peer carried the internal endpoint');
    assert.ok(insideWithSecret > 0, 'requests inside the org carry it');
  } finally {
    await g.stop();
  }
});

test.run();
