// A clock-skewed peer judges certificates by its own clock (issue 8): the harness gives a peer's codec the same
// clock as its actors. Certificates of a simulation are valid from a minute before it starts for ten years, so
// a peer two minutes behind refuses every peer's certificate as not yet valid, one eleven years ahead refuses
// them as expired, and a peer half a minute behind (the fault sets' moderate skew) works normally.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Harness, type SimPeer } from '../../runtime/sim/harness.ts';
import { FAULT_PROFILES, SkewedClock } from '../../runtime/sim/faults.ts';
import { seal } from '../../runtime/wire/envelope.ts';
import { signerOf } from '../../runtime/crypto/material.ts';
import type { AliveMsg } from '../../runtime/wire/messages.ts';

const YEAR_MS = 365 * 24 * 3600_000;
const SKEW: Record<string, number> = { 'peer1.org1': -30_000, 'peer2.org1': -120_000, 'peer3.org1': 11 * YEAR_MS };
const view = (p: SimPeer) => p.peer!.discovery.aliveMembers().map((m) => m.id).sort();

async function skewed(): Promise<Harness> {
  return Harness.create({
    orgs: 1,
    peers: 4,
    seed: 'clock-skew',
    signer: 'sim',
    peerClock: (id, clock) => (SKEW[id] !== undefined ? new SkewedClock(clock, SKEW[id]!, 1) : clock),
  });
}

test('a codec judges certificate validity by its peer\'s clock: before notBefore, after notAfter, within', async () => {
  const h = await skewed();
  try {
    const p0 = h.peers.get('peer0.org1')!;
    const alive: AliveMsg = { t: 'alive', member: { endpoint: 'peer0.org1', pkiId: p0.pkiId, metadata: new Uint8Array() }, ts: { incNum: 1, seqNum: 1 } };
    const bytes = seal(alive, signerOf(p0.material, h.ed));
    const decode = (id: string) => {
      const r = h.peers.get(id)!.codec.decode(bytes);
      return r.ok ? 'ok' : r.reason;
    };
    assert.is(decode('peer1.org1'), 'ok', '30 s behind: still inside the validity window');
    assert.is(decode('peer2.org1'), 'cert-not-yet-valid');
    assert.is(decode('peer3.org1'), 'cert-expired');
    // The same bytes on the unskewed clock: accepted. So only the receiver's clock made the difference.
    assert.is(decode('peer0.org1'), 'ok');
    assert.is(h.clockOf('peer2.org1').now(), h.clock.now() - 120_000);
  } finally {
    await h.stop();
  }
});

test('a peer skewed beyond the validity window sees nobody and nobody hears of it (refusals counted); moderate skew converges', async () => {
  const h = await skewed();
  try {
    const [p0, p1, p2, p3] = ['peer0.org1', 'peer1.org1', 'peer2.org1', 'peer3.org1'].map((id) => h.peers.get(id)!) as [SimPeer, SimPeer, SimPeer, SimPeer];
    // peer0 and peer1 (30 s behind) see each other; neither counts a certificate refusal.
    const ok = await h.until(() => view(p0).includes('peer1.org1') && view(p1).includes('peer0.org1'), 30_000, 500);
    assert.ok(ok, `peer0 sees ${view(p0)}, peer1 sees ${view(p1)}`);
    await h.advance(15_000);
    for (const p of [p0, p1]) {
      assert.is(p.codec.rejections.get('cert-not-yet-valid'), 0, p.id);
      assert.is(p.codec.rejections.get('cert-expired'), 0, p.id);
    }
    // The far-skewed peers accept no other peer's message: every certificate is refused and counted.
    assert.equal(view(p2), [], 'two minutes behind: nobody alive');
    assert.equal(view(p3), [], 'eleven years ahead: nobody alive');
    assert.ok(p2.codec.rejections.get('cert-not-yet-valid') >= 3, JSON.stringify(p2.codec.rejections.snapshot()));
    assert.is(p2.codec.rejections.get('cert-expired'), 0);
    assert.ok(p3.codec.rejections.get('cert-expired') >= 3, JSON.stringify(p3.codec.rejections.snapshot()));
    assert.is(p3.codec.rejections.get('cert-not-yet-valid'), 0);
    // Their own certificates are fine by true time, but they cannot verify their bootstrap peer's answer to the
    // session probe, so they never send it a membership request (nor sign alive messages, knowing nobody): the
    // unskewed peers do not hear of them either, as in Fabric, where their handshake fails.
    assert.not.ok(view(p0).includes('peer2.org1') || view(p0).includes('peer3.org1'), `peer0 sees ${view(p0)}`);
    // The skewed clock is the peer's, kept across a restart (not re-drawn with a new origin).
    const clock = h.clockOf('peer2.org1');
    await h.restart('peer2.org1');
    assert.is(h.clockOf('peer2.org1'), clock);
  } finally {
    await h.stop();
  }
});

test('the fault sets\' skews stay inside the certificates\' one-minute head start for their stated run lengths', () => {
  for (const [name, minutes] of [['default', 65], ['heavy', 19]] as const) {
    const s = FAULT_PROFILES[name].skew!;
    assert.ok(s.offsetMs + s.drift * minutes * 60_000 < 60_000, `${name}: ${s.offsetMs} ms + ${s.drift} over ${minutes} min`);
  }
});

test.run();
