// SWIM failure detection inside an org (murmur profile, machines/swim.logic.ts, actors/swim-prober.ts) in
// simulated time: membership traffic per peer that does not grow with the org, failure detection no slower
// than the heartbeat expiry, refutation of a false suspicion (an insider's included), no false deaths under
// message loss, and a healed partition rejoined.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Harness, type SimPeer } from '../../runtime/sim/harness.ts';
import { seal } from '../../runtime/wire/envelope.ts';
import { signerOf } from '../../runtime/crypto/material.ts';
import { classify } from '../../runtime/sim/kinds.ts';
import type { SuspectMsg } from '../../runtime/wire/messages.ts';
import { suspicionTimeout } from '../../machines/swim.logic.ts';
import { FABRIC_TIMINGS } from '../helpers/timings.ts';

const T = FABRIC_TIMINGS;
const S = suspicionTimeout(T.aliveTimeInterval, T.aliveExpirationTimeout);
const MEMBERSHIP = new Set(['alive', 'ping', 'ack', 'pingReq', 'suspect', 'memReq', 'memRes']);
const orgView = (p: SimPeer) => p.peer!.discovery.aliveMembers().filter((m) => m.mspId === p.mspId).length;
const orgConverged = (h: Harness, perOrg: number) => () => h.running().every((p) => orgView(p) === perOrg - 1);

/** Membership messages each peer receives per second in a steady minute, by kind. */
async function membershipRate(peers: number, membership: 'swim' | 'broadcast'): Promise<Record<string, number>> {
  const h = await Harness.create({ orgs: 3, peers, seed: `swim-rate-${peers}`, signer: 'sim', external: 'none', peerOptions: { membership } });
  try {
    assert.ok(await h.until(orgConverged(h, peers), 120_000, 500), 'converged');
    await h.advance(2 * T.aliveExpirationTimeout);
    const by: Record<string, number> = {};
    const tap = (_f: string, _t: string, _s: string, b: Uint8Array) => {
      const k = classify(b).kind;
      if (k && MEMBERSHIP.has(k)) by[k] = (by[k] ?? 0) + 1;
    };
    h.network.deliveryTaps.add(tap);
    await h.advance(60_000);
    h.network.deliveryTaps.delete(tap);
    for (const k of Object.keys(by)) by[k] = by[k]! / (3 * peers) / 60;
    return by;
  } finally {
    await h.stop();
  }
}
const total = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

test('membership messages per peer stay flat as the org grows: one ping and one ack a period, no heartbeats', async () => {
  const small = await membershipRate(4, 'swim');
  const large = await membershipRate(16, 'swim');
  const period = 1000 / T.aliveTimeInterval;
  for (const r of [small, large]) {
    assert.is(r.alive ?? 0, 0, 'no alive message in a steady org');
    assert.ok(Math.abs((r.ping ?? 0) - period) < 0.1 * period, `pings ${r.ping}`);
    assert.ok(Math.abs((r.ack ?? 0) - period) < 0.1 * period, `acks ${r.ack}`);
  }
  assert.ok(total(large) <= 1.25 * total(small), `12 → 48 peers: ${total(small).toFixed(2)} → ${total(large).toFixed(2)} a second`);
  // The heartbeats SWIM replaces: every org member's alive message reaches every peer every period.
  const broadcast = await membershipRate(16, 'broadcast');
  assert.ok((broadcast.alive ?? 0) >= 15 * period * 0.9, `broadcast: ${broadcast.alive} alive messages a second`);
});

test('a crashed peer is dead everywhere within aliveExpirationTimeout and a period, not before it was silent for an expiry less a period', async () => {
  const h = await Harness.create({ orgs: 2, peers: 6, seed: 'swim-crash', signer: 'sim' });
  try {
    assert.ok(await h.until(orgConverged(h, 6), 60_000, 500));
    await h.advance(30_000);
    const victim = h.peers.get('peer3.org1')!;
    await h.crash(victim.id);
    const at = h.clock.now();
    const org1 = () => h.running().filter((p) => p.org === victim.org);
    const deadEverywhere = () => org1().every((p) => p.peer!.discovery.table.get(victim.pkiIdHex)?.status === 'dead');
    await h.advance(T.aliveExpirationTimeout - T.aliveTimeInterval);
    assert.ok(org1().every((p) => p.peer!.discovery.table.get(victim.pkiIdHex)?.status === 'alive'), 'nobody declares it dead early');
    assert.ok(await h.until(deadEverywhere, 2 * T.aliveTimeInterval + T.aliveExpirationTimeout / 10, 100), 'dead everywhere');
    const took = h.clock.now() - at;
    assert.ok(took <= T.aliveExpirationTimeout + T.aliveTimeInterval + T.aliveExpirationTimeout / 10, `declared dead after ${took} ms`);
    assert.ok(org1().some((p) => p.peer!.discovery.stats.suspected > 0), 'a probe failed and was announced');
    await h.start(victim.id);
    assert.ok(await h.until(orgConverged(h, 6), 3 * T.reconnectInterval, 500), 'rejoined');
  } finally {
    await h.stop();
  }
});

test("an insider's false suspicion is refuted and nobody declares its victim dead; another org's is refused", async () => {
  const h = await Harness.create({ orgs: 2, peers: 4, seed: 'swim-insider', signer: 'sim' });
  try {
    assert.ok(await h.until(orgConverged(h, 4), 60_000, 500));
    const victim = h.peers.get('peer2.org1')!;
    const insider = h.peers.get('peer1.org1')!;
    const witness = h.peers.get('peer3.org1')!;
    const held = witness.peer!.discovery.table.get(victim.pkiIdHex)!.ts;
    const mallory = h.network.transport({ endpoint: 'mallory', decoder: insider.codec });
    await mallory.start();
    const suspect: SuspectMsg = { t: 'suspect', pkiId: victim.pkiId, ts: held };
    mallory.publish(h.network.subjects.discoveryOrg(victim.mspId), seal(suspect, signerOf(insider.material, h.ed)));
    await h.advance(100);
    assert.ok(witness.peer!.discovery.suspicions.has(victim.pkiIdHex) || victim.peer!.discovery.stats.refuted > 0, 'the claim was heard');
    await h.advance(2 * S);
    assert.ok(victim.peer!.discovery.stats.refuted >= 1, 'the victim refuted');
    for (const p of h.running().filter((q) => q.org === victim.org && q !== victim)) {
      const r = p.peer!.discovery.table.get(victim.pkiIdHex)!;
      assert.is(r.status, 'alive', `${p.id} keeps it alive`);
      assert.ok(r.ts.seqNum > held.seqNum || r.ts.incNum > held.incNum, `${p.id} holds the refutation`);
      assert.not.ok(p.peer!.discovery.suspicions.has(victim.pkiIdHex));
    }
    // A peer of another org has no say over this org's members.
    const foreigner = h.peers.get('peer1.org2')!;
    const before = witness.codec.rejections.snapshot()['suspect-foreign-org'] ?? 0;
    mallory.publish(h.network.subjects.discoveryOrg(victim.mspId), seal(suspect, signerOf(foreigner.material, h.ed)));
    await h.advance(100);
    assert.is((witness.codec.rejections.snapshot()['suspect-foreign-org'] ?? 0) - before, 1, 'counted');
    assert.not.ok(witness.peer!.discovery.suspicions.has(victim.pkiIdHex), 'no suspicion');
  } finally {
    await h.stop();
  }
});

test('with 5 % message loss no live peer is declared dead; a partitioned peer is dead, then alive again after the heal', async () => {
  const h = await Harness.create({ orgs: 1, peers: 8, seed: 'swim-loss', signer: 'sim', link: { loss: 0.05, latency: { minMs: 1, maxMs: 30 } } });
  try {
    assert.ok(await h.until(orgConverged(h, 8), 120_000, 500));
    let deaths = 0;
    const subs = h.running().map((p) => p.peer!.discovery.events$.subscribe((e) => e.type === 'dead' && deaths++));
    await h.advance(300_000);
    assert.is(deaths, 0, 'no false death in five minutes');
    const suspected = h.running().reduce((n, p) => n + p.peer!.discovery.stats.suspected, 0);
    const refuted = h.running().reduce((n, p) => n + p.peer!.discovery.stats.refuted, 0);
    assert.ok(refuted >= Math.min(1, suspected), `suspicions ${suspected}, refutations ${refuted}`);
    for (const s of subs) s.unsubscribe();
    const lone = h.peers.get('peer5.org1')!;
    h.partition([[lone.id], h.running().filter((p) => p !== lone).map((p) => p.id)]);
    const others = () => h.running().filter((p) => p !== lone);
    const cutOff = await h.until(() => others().every((p) => p.peer!.discovery.table.get(lone.pkiIdHex)?.status === 'dead'), 2 * T.aliveExpirationTimeout, 500);
    if (!cutOff) console.log(others().map((p) => `${p.id}:${p.peer!.discovery.table.get(lone.pkiIdHex)?.status}:${JSON.stringify(p.peer!.discovery.suspicions.get(lone.pkiIdHex))}@${h.clock.now()}:${JSON.stringify(p.peer!.discovery.table.get(lone.pkiIdHex)?.ts)}:${JSON.stringify(p.peer!.discovery.prober!.stats)}`));
    assert.ok(cutOff, 'dead while cut off');
    h.heal();
    assert.ok(await h.until(orgConverged(h, 8), 3 * T.reconnectInterval, 500), 'alive again everywhere after the heal');
  } finally {
    await h.stop();
  }
});

test.run();
