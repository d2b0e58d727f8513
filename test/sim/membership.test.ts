// Membership and discovery in simulated time (issue 4): convergence, dead detection, rejoin, replay,
// forgery, spoofing and disclosure rules.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Harness, type SimPeer } from '../../runtime/sim/harness.ts';
import { seal } from '../../runtime/wire/envelope.ts';
import { signerOf } from '../../runtime/crypto/material.ts';
import type { AliveMsg, MemReqMsg } from '../../runtime/wire/messages.ts';
import { FABRIC_TIMINGS } from '../helpers/timings.ts';

const T = FABRIC_TIMINGS;
const view = (p: SimPeer) => p.peer!.discovery.aliveMembers().map((m) => m.id).sort();
/** Who each peer should see alive: its own org, and, for peers with an external endpoint, the other orgs'
 * external peers (peer0 of each org here). */
function expectedView(h: Harness, p: SimPeer, alive: (id: string) => boolean = () => true): string[] {
  const ext = (id: string) => id.startsWith('peer0.');
  return [...h.peers.values()]
    .filter((q) => q.id !== p.id && alive(q.id) && (q.org === p.org || (ext(p.id) && ext(q.id))))
    .map((q) => q.id)
    .sort();
}
const converged = (h: Harness, alive?: (id: string) => boolean) => () =>
  h.running().every((p) => JSON.stringify(view(p)) === JSON.stringify(expectedView(h, p, alive)));

test('3 orgs x 4 peers converge to full views within a bounded number of alive intervals', async () => {
  const h = await Harness.create({ orgs: 3, peers: 4, seed: 'converge', signer: 'sim', startJitterMs: 1000, link: { latency: { minMs: 1, maxMs: 20 }, loss: 0.02 } });
  try {
    const start = h.clock.now();
    assert.ok(await h.until(converged(h), 6 * T.aliveTimeInterval, 500), 'converged');
    const took = h.clock.now() - start;
    assert.ok(took <= 6 * T.aliveTimeInterval, `took ${took} ms`);
    // Peer ids in status come from discovery.
    const row = h.peers.get('peer1.org1')!.peer!.status()[0]!;
    assert.equal(row.members!.sort(), ['peer0.org1', 'peer2.org1', 'peer3.org1']);
  } finally {
    await h.stop();
  }
});

test('a crashed peer is declared dead by every other peer after aliveExpirationTimeout; it rejoins after restart', async () => {
  const h = await Harness.create({ orgs: 2, peers: 3, seed: 'crash', signer: 'sim' });
  try {
    assert.ok(await h.until(converged(h), 30_000, 500));
    await h.crash('peer0.org2');
    const crashedAt = h.clock.now();
    const seesDead = () => h.running().every((p) => !view(p).includes('peer0.org2'));
    await h.advance(T.aliveExpirationTimeout - T.aliveTimeInterval);
    assert.not.ok(seesDead(), 'not before the timeout');
    assert.ok(await h.until(seesDead, T.aliveExpirationTimeout, 250), 'declared dead');
    const detect = h.clock.now() - crashedAt;
    assert.ok(detect <= T.aliveExpirationTimeout + T.aliveTimeInterval + T.aliveExpirationTimeout / 10 + 1000, `detected after ${detect} ms`);
    for (const p of h.running()) if (p.org === 'Org2' || p.id === 'peer0.org1' || p.id === 'peer0.org3')
      assert.is(p.peer!.discovery.table.get(h.peers.get('peer0.org2')!.pkiIdHex)?.status, 'dead', `${p.id} keeps it as dead`);
    await h.start('peer0.org2');
    assert.ok(await h.until(converged(h), 3 * T.reconnectInterval, 500), 'rejoined');
  } finally {
    await h.stop();
  }
});

test('replayed, forged and spoofed messages change nothing', async () => {
  const h = await Harness.create({ orgs: 2, peers: 2, seed: 'attacks' });
  try {
    assert.ok(await h.until(converged(h), 30_000, 500));
    const victim = h.peers.get('peer1.org1')!;
    // Capture a genuine alive of peer1.org2... then crash it and replay the capture after it is dead.
    const target = h.peers.get('peer1.org2')!;
    const captured = victim.peer!.discovery.table.get(target.pkiIdHex)?.envelope ?? h.peers.get('peer0.org2')!.peer!.discovery.table.get(target.pkiIdHex)!.envelope;
    await h.crash('peer1.org2');
    assert.ok(await h.until(() => h.running().every((p) => !view(p).includes('peer1.org2')), 2 * T.aliveExpirationTimeout, 500));
    const attacker = h.network.transport({ endpoint: 'mallory', decoder: h.peers.get('peer0.org2')!.codec });
    await attacker.start();
    for (let i = 0; i < 5; i++) attacker.publish(h.network.subjects.discoveryOrg('Org2MSP'), captured);
    await h.advance(1000);
    assert.not.ok(view(h.peers.get('peer0.org2')!).includes('peer1.org2'), 'replay did not resurrect it');

    // Forged: an alive claiming peer0.org1's identity but signed by peer1.org2's key.
    const forger = signerOf(target.material, h.ed);
    const before = victim.codec.rejections.total;
    const forged: AliveMsg = { t: 'alive', member: { endpoint: '', pkiId: h.peers.get('peer0.org1')!.pkiId, metadata: new Uint8Array() }, ts: { incNum: h.clock.now() * 2, seqNum: 1 } };
    attacker.publish(h.network.subjects.discoveryOrg('Org1MSP'), seal(forged, forger));
    await h.advance(500);
    assert.ok(victim.codec.rejections.get('signer-mismatch') >= 1, 'forgery refused and counted');
    assert.ok(victim.codec.rejections.total > before);

    // Spoofed membership request: peer1.org2's key relays peer0.org2's alive as if it were its own.
    const relayed = h.peers.get('peer0.org1')!.peer!.discovery.table.get(h.peers.get('peer0.org2')!.pkiIdHex)!.envelope;
    const spoof: MemReqMsg = { t: 'memReq', nonce: 12345, alive: relayed };
    const answers: unknown[] = [];
    const sub = attacker.inbound$.subscribe((i) => answers.push(i));
    attacker.send('peer0.org1', seal(spoof, forger));
    await h.advance(1000);
    sub.unsubscribe();
    assert.ok(h.peers.get('peer0.org1')!.codec.rejections.get('spoofed-membership-request') >= 1);
    assert.is(answers.length, 0, 'no membership response to a spoofed request');
    await attacker.stop();
  } finally {
    await h.stop();
  }
});

test('disclosure: no internal endpoint crosses orgs, internal-only peers stay invisible outside their org', async () => {
  const h = await Harness.create({ orgs: 3, peers: 3, seed: 'disclosure', signer: 'sim' });
  try {
    assert.ok(await h.until(converged(h), 30_000, 500));
    await h.advance(3 * T.pullInterval);
    for (const p of h.running()) {
      for (const m of p.peer!.discovery.table.all()) {
        if (m.mspId !== p.mspId) {
          assert.is(m.internalEndpoint, null, `${p.id} knows ${m.id}'s internal endpoint`);
          assert.ok(m.id.startsWith('peer0.'), `${p.id} sees internal-only foreign peer ${m.id}`);
        }
      }
    }
  } finally {
    await h.stop();
  }
});

test.run();
