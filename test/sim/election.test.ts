// Election on the whole peer (membership, StateInfo, signed leadership messages) in simulated time.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Harness } from '../../runtime/sim/harness.ts';
import { kindOf } from '../../runtime/sim/kinds.ts';
import { seal } from '../../runtime/wire/envelope.ts';
import { signerOf } from '../../runtime/crypto/material.ts';
import type { LeadershipMsg } from '../../runtime/wire/messages.ts';
import { FABRIC_TIMINGS as T } from '../helpers/timings.ts';

function leaders(h: Harness, org?: string): string[] {
  return h
    .running()
    .filter((p) => !org || p.org === org)
    .filter((p) => p.peer!.elections.get('channel1')?.role() === 'leader')
    .map((p) => p.id)
    .sort();
}
const onePerOrg = (h: Harness, orgs: string[]) => () => orgs.every((o) => leaders(h, o).length === 1);

test('3 orgs x 5 peers elect exactly one leader per org, and everyone follows it', async () => {
  const h = await Harness.create({ orgs: 3, peers: 5, seed: 'elect', signer: 'sim', startJitterMs: 2000 });
  try {
    assert.ok(await h.until(onePerOrg(h, ['Org1', 'Org2', 'Org3']), 60_000, 250), `leaders ${leaders(h)}`);
    await h.advance(2 * T.leaderAliveThreshold);
    assert.is(leaders(h).length, 3, 'still one per org');
    for (const p of h.running()) {
      const row = p.peer!.status()[0]!;
      const leader = leaders(h, p.org)[0];
      assert.is(row.leaderId, leader, `${p.id} follows ${row.leaderId}, leader is ${leader}`);
      assert.ok(row.role === 'leader' || row.role === 'follower', row.role!);
    }
  } finally {
    await h.stop();
  }
});

test('leader crash: a new leader within leaderAliveThreshold + leaderElectionDuration (murmur profile)', async () => {
  const h = await Harness.create({ orgs: 1, peers: 4, seed: 'failover', signer: 'sim' });
  try {
    assert.ok(await h.until(onePerOrg(h, ['Org1']), 60_000, 250));
    const old = leaders(h)[0]!;
    await h.crash(old);
    const at = h.clock.now();
    assert.ok(await h.until(() => leaders(h).length === 1, 3 * T.leaderAliveThreshold, 100));
    const took = h.clock.now() - at;
    assert.is.not(leaders(h)[0], old);
    assert.ok(took <= T.leaderAliveThreshold + T.leaderElectionDuration + T.leaderAliveThreshold / 2 + 1000, `failover took ${took} ms`);
  } finally {
    await h.stop();
  }
});

test('partition 2+3 gives two leaders; after heal exactly one remains', async () => {
  const h = await Harness.create({ orgs: 1, peers: 5, seed: 'partition', signer: 'sim' });
  try {
    assert.ok(await h.until(onePerOrg(h, ['Org1']), 60_000, 250));
    const ids = [...h.peers.keys()];
    h.partition([ids.slice(0, 2), ids.slice(2)]);
    assert.ok(await h.until(() => leaders(h).length === 2, 2 * T.aliveExpirationTimeout + 2 * T.leaderAliveThreshold, 250), `two leaders: ${leaders(h)}`);
    h.heal();
    assert.ok(await h.until(() => leaders(h).length === 1, 2 * T.pullInterval + 4 * T.leaderAliveThreshold + T.aliveExpirationTimeout, 250), `one leader after heal: ${leaders(h)}`);
    await h.advance(3 * T.leaderAliveThreshold);
    assert.is(leaders(h).length, 1, 'stable');
  } finally {
    await h.stop();
  }
});

test('declarations of a peer outside the channel view (dead, its certificate still valid) move no one', async () => {
  const h = await Harness.create({ orgs: 1, peers: 4, seed: 'view-only', signer: 'sim' });
  try {
    assert.ok(await h.until(onePerOrg(h, ['Org1']), 60_000, 250));
    // The leader is the preferred peer (fabric: smallest PKI-ID): its declarations would make anyone step down.
    const old = h.peers.get(leaders(h)[0]!)!;
    await h.crash(old.id);
    const rest = h.running();
    assert.ok(await h.until(() => leaders(h).length === 1 && rest.every((p) => p.peer!.discovery.member(old.pkiIdHex)?.status === 'dead'), 4 * T.aliveExpirationTimeout, 250));
    const successor = leaders(h)[0]!;
    const rogue = h.network.transport({ endpoint: 'rogue', decoder: old.codec });
    await rogue.start();
    const signer = signerOf(old.material, h.ed);
    const subject = h.network.subjects.org(old.mspId, 'channel1');
    for (let seq = 1; seq <= 8; seq++) {
      const msg: LeadershipMsg = { t: 'leadership', ch: 'channel1', pkiId: old.pkiId, ts: { incNum: h.clock.now(), seqNum: seq }, declaration: true };
      rogue.publish(subject, seal(msg, signer));
      await h.advance(T.leaderAliveThreshold / 2);
    }
    assert.equal(leaders(h), [successor], 'the successor still leads');
    for (const p of rest) assert.is(p.peer!.status()[0]!.leaderId, successor, `${p.id} follows the successor`);
    await rogue.stop();
  } finally {
    await h.stop();
  }
});

test('static mode: orgLeader leads from the start, standbys never lead, no election messages', async () => {
  const h = await Harness.create({ orgs: 1, peers: 3, seed: 'static', signer: 'sim', peerOptions: { useLeaderElection: false, orgLeader: false } });
  try {
    let leadership = 0;
    h.network.taps.add((_f, _s, bytes) => void (kindOf(bytes) === 'leadership' && leadership++));
    await h.advance(60_000);
    assert.equal(leaders(h), []);
    for (const p of h.running()) assert.is(p.peer!.status()[0]!.role, 'standby');
    assert.is(leadership, 0, 'standbys never send leadership messages');
  } finally {
    await h.stop();
  }
});

test.run();
