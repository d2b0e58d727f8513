// Idle cost (issue 25): a quiet network re-sends what it already signed instead of signing afresh. Over a
// minute of simulated idle time, each peer signs at most one alive per aliveTimeInterval (membership requests
// and responses embed the last one) and no StateInfo at all while its height is unchanged (snapshot answers
// carry the last one), whatever the membership and StateInfo pulls in between.
import { QUIET_BACKOFF_MAX } from '../../machines/backoff.logic.ts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Harness, DEFAULT_TIMINGS } from '../../runtime/sim/harness.ts';
import { parseEnvelope } from '../../runtime/wire/envelope.ts';
import { decodeCbor } from '../../runtime/wire/cbor.ts';
import { toHex } from '../../runtime/util/bytes.ts';
import { kindOf } from '../../runtime/sim/kinds.ts';

type P = { t: string; alive?: Uint8Array | Uint8Array[]; elements?: Uint8Array[] };

test('idle peers sign one alive per aliveTimeInterval and no new StateInfo while their height stands', async () => {
  const h = await Harness.create({ orgs: 1, peers: 4, seed: 'idle-signing' });
  try {
    assert.ok(await h.until(() => [...h.peers.values()].every((p) => (p.peer?.discovery.aliveMembers().length ?? 0) === 3), 120_000, 500), 'membership converged');
    await h.advance(20_000);
    // Every signed alive or StateInfo seen on the wire, on its own or embedded, by signer and kind.
    const seen = new Map<string, Set<string>>();
    const note = (env: Uint8Array) => {
      const e = parseEnvelope(env);
      if (!e.ok) return;
      const p = decodeCbor(e.env.payload) as P;
      if (p.t === 'alive' || p.t === 'stateInfo') {
        const key = `${toHex(e.env.signer)} ${p.t}`;
        if (!seen.has(key)) seen.set(key, new Set());
        seen.get(key)!.add(Buffer.from(e.env.signature).toString('hex'));
      }
      for (const inner of [...(Array.isArray(p.alive) ? p.alive : p.alive ? [p.alive] : []), ...(p.elements ?? [])]) note(inner);
    };
    const tap = (_from: string, _subject: string, bytes: Uint8Array) => note(bytes);
    h.network.taps.add(tap);
    const windowMs = 60_000;
    await h.advance(windowMs);
    h.network.taps.delete(tap);
    const maxAlive = Math.ceil(windowMs / DEFAULT_TIMINGS.aliveTimeInterval) + 1;
    for (const p of h.peers.values()) {
      const alive = seen.get(`${p.pkiIdHex} alive`)?.size ?? 0;
      const state = seen.get(`${p.pkiIdHex} stateInfo`)?.size ?? 0;
      assert.ok(alive >= 1 && alive <= maxAlive, `${p.id}: ${alive} distinct alive messages in ${windowMs / 1000} s (at most ${maxAlive})`);
      assert.ok(state <= 1, `${p.id}: ${state} distinct StateInfo messages at an unchanged height`);
    }
  } finally {
    await h.stop();
  }
});

test('murmur profile: repair rounds ask one peer, and nobody pulls blocks while nobody is ahead; the fabric profile keeps Fabric\'s rounds', async () => {
  // Counted per kind over 20 s of idle simulated time (4 peers of one org): per round, membership requests and
  // StateInfo pull requests go to pullPeerNum (3) peers in Fabric, to one in murmur's profile, and block-pull
  // hellos go out only while a peer advertises a greater height (none does: no blocks).
  const counts = async (profile: 'murmur' | 'fabric') => {
    const h = await Harness.create({ orgs: 1, peers: 4, seed: `idle-rounds-${profile}`, peerOptions: { profile } });
    try {
      assert.ok(await h.until(() => [...h.peers.values()].every((p) => (p.peer?.discovery.aliveMembers().length ?? 0) === 3), 120_000, 500));
      await h.advance(20_000);
      const n: Record<string, number> = {};
      const tap = (_f: string, _s: string, bytes: Uint8Array) => {
        const k = kindOf(bytes);
        if (k) n[k] = (n[k] ?? 0) + 1;
      };
      h.network.taps.add(tap);
      await h.advance(20_000);
      h.network.taps.delete(tap);
      return n;
    } finally {
      await h.stop();
    }
  };
  // Rounds per peer in 20 s: pullInterval and requestStateInfoInterval are 4 s (Fabric's), so 5 each, 4 peers.
  const murmur = await counts('murmur');
  const fabric = await counts('fabric');
  assert.is(murmur.hello ?? 0, 0, 'no block pull while nobody is ahead');
  assert.ok((fabric.hello ?? 0) >= 4 * 5 * 3 - 6, `fabric pulls every round: ${fabric.hello}`);
  for (const kind of ['memReq', 'stateInfoPullReq']) {
    assert.ok((murmur[kind] ?? 0) <= 4 * 6, `murmur ${kind}: one peer a round (${murmur[kind]})`);
    assert.ok((fabric[kind] ?? 0) >= 4 * 5 * 3 - 6, `fabric ${kind}: three peers a round (${fabric[kind]})`);
  }
  // murmur's requests carry a digest of what the requester holds; converged, nobody has anything to add, and
  // unanswered rounds back off (machines/backoff.logic.ts): fewer than one request a period per peer.
  assert.ok((murmur.memReq ?? 0) < 4 * 5 && (murmur.stateInfoPullReq ?? 0) < 4 * 5, `murmur backs off while converged: ${murmur.memReq}, ${murmur.stateInfoPullReq}`);
  assert.equal([murmur.memRes ?? 0, murmur.stateInfoSnapshot ?? 0], [0, 0], 'converged: the rounds go unanswered');
  assert.ok((fabric.memRes ?? 0) >= 4 * 5 * 3 - 6 && (fabric.stateInfoSnapshot ?? 0) >= 4 * 5 * 3 - 6, `fabric answers every request (${fabric.memRes}, ${fabric.stateInfoSnapshot})`);
});

test('murmur profile: quiet repair rounds back off to QUIET_BACKOFF_MAX periods and return to full pace when a member joins or a height changes', async () => {
  const h = await Harness.create({ orgs: 1, peers: 4, seed: 'idle-backoff' });
  try {
    const p0 = h.peers.get('peer0.org1')!;
    await h.crash('peer3.org1');
    assert.ok(await h.until(() => p0.peer!.discovery.aliveMembers().length === 2, 120_000, 500));
    await h.advance(120_000);
    const factors = () => [p0.peer!.discovery.backoff.current, p0.peer!.stateInfo.get('channel1')!.backoff.current];
    assert.equal(factors(), [QUIET_BACKOFF_MAX, QUIET_BACKOFF_MAX], 'converged: both kinds of round at the longest wait');
    await h.start('peer3.org1');
    assert.ok(await h.until(() => p0.peer!.discovery.aliveMembers().length === 3, 30_000, 100));
    assert.is(p0.peer!.discovery.backoff.current, 1, 'a member joined: membership rounds at full pace');
    await h.advance(120_000);
    assert.equal(factors(), [QUIET_BACKOFF_MAX, QUIET_BACKOFF_MAX], 'and back off again');
    p0.peer!.stateInfo.get('channel1')!.setHeight(5);
    assert.is(p0.peer!.stateInfo.get('channel1')!.backoff.current, 1, 'a height changed: StateInfo rounds at full pace');
  } finally {
    await h.stop();
  }
});

test('murmur profile: a quiet repair round still repairs: a StateInfo lost while a peer was cut off reaches it by the next rounds', async () => {
  const h = await Harness.create({ orgs: 1, peers: 4, seed: 'idle-repair' });
  try {
    const peer = (id: string) => h.peers.get(id)!.peer!;
    assert.ok(await h.until(() => [...h.peers.values()].every((p) => (p.peer?.discovery.aliveMembers().length ?? 0) === 3), 120_000, 500));
    const seenBy1 = () => peer('peer1.org1').stateInfo.get('channel1')!.channelPeers().find((q) => q.id === 'peer0.org1')?.height;
    assert.ok(await h.until(() => seenBy1() === 1, 4 * DEFAULT_TIMINGS.publishStateInfoInterval, 100), 'peer1 holds peer0\'s StateInfo');
    // peer1 is cut off while peer0 publishes height 5 (published once, when it changes).
    h.partition([['peer1.org1'], ['peer0.org1', 'peer2.org1', 'peer3.org1']]);
    peer('peer0.org1').stateInfo.get('channel1')!.setHeight(5);
    await h.advance(2 * DEFAULT_TIMINGS.publishStateInfoInterval);
    h.heal();
    assert.is(seenBy1(), 1, 'the publish was lost');
    const rounds = DEFAULT_TIMINGS.requestStateInfoInterval;
    assert.ok(await h.until(() => seenBy1() === 5, 4 * rounds, 100), `repaired within four rounds (sees ${seenBy1()})`);
  } finally {
    await h.stop();
  }
});

test('murmur profile: while heights keep moving the StateInfo repair rounds stay backed off, and a height lost as they settle is still repaired', async () => {
  // Heights in flight make every pull answer differ from what the requester holds; the next publication repairs
  // a moving height anyway, so the rounds must not return to full pace (a full snapshot per peer per period).
  const h = await Harness.create({ orgs: 1, peers: 4, seed: 'moving-heights' });
  try {
    const tracker = (id: string) => h.peers.get(id)!.peer!.stateInfo.get('channel1')!;
    assert.ok(await h.until(() => [...h.peers.values()].every((p) => (p.peer?.discovery.aliveMembers().length ?? 0) === 3), 120_000, 500));
    await h.advance(120_000);
    let snapshots = 0;
    const tap = (_f: string, _s: string, b: Uint8Array) => void (kindOf(b) === 'stateInfoSnapshot' && snapshots++);
    h.network.taps.add(tap);
    const rounds = DEFAULT_TIMINGS.requestStateInfoInterval;
    const windowMs = 15 * rounds;
    let height = 1;
    for (let t = 0; t < windowMs; t += 200) {
      height++;
      for (const id of h.peers.keys()) tracker(id).setHeight(height);
      await h.advance(200);
    }
    h.network.taps.delete(tap);
    // Full pace would be a round per peer per period, each answered: 4 × 15 = 60.
    assert.ok(snapshots <= 20, `${snapshots} snapshots while heights moved`);
    assert.ok(tracker('peer0.org1').backoff.current > 1, 'rounds backed off');
    // peer1 misses peer0's last height as the heights settle; its rounds repair it.
    const seenBy1 = () => tracker('peer1.org1').channelPeers().find((q) => q.id === 'peer0.org1')?.height;
    h.partition([['peer1.org1'], ['peer0.org1', 'peer2.org1', 'peer3.org1']]);
    const before = seenBy1();
    tracker('peer0.org1').setHeight(height + 1);
    await h.advance(2 * DEFAULT_TIMINGS.publishStateInfoInterval);
    h.heal();
    assert.is(seenBy1(), before, 'the last publish was lost');
    assert.ok(await h.until(() => seenBy1() === height + 1, (QUIET_BACKOFF_MAX + 1) * rounds, 100), `repaired (sees ${seenBy1()})`);
  } finally {
    await h.stop();
  }
});

test.run();
