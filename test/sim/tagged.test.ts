// Pairwise keys on whole peers (runtime/crypto/session-keys.ts): once peers have probed each other, the
// point-to-point messages of every block travel tagged instead of signed, what must stay transferable stays
// signed, nothing honest is ever refused for its tag, and a restarted peer (new incarnation, new keys) is back
// on tags after its probes while every block still reaches it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Harness } from '../../runtime/sim/harness.ts';
import { parseEnvelope, MAC_KINDS } from '../../runtime/wire/envelope.ts';
import { payloadOf } from '../../runtime/sim/kinds.ts';
import type { PayloadKind } from '../../runtime/wire/messages.ts';
import { allCaughtUp, leaders, ONE_TX_BLOCKS, produce } from '../helpers/blocks-sim.ts';

/** Envelopes sent between peers, by kind, signed or tagged. */
function countSeals(h: Harness) {
  const c = { tagged: new Map<string, number>(), signed: new Map<string, number>() };
  h.network.taps.add((_from, _subject, bytes) => {
    const env = parseEnvelope(bytes);
    const t = payloadOf(bytes)?.t;
    if (!env.ok || !t) return;
    const m = env.env.mac ? c.tagged : c.signed;
    m.set(t, (m.get(t) ?? 0) + 1);
  });
  return {
    ...c,
    reset() {
      c.tagged.clear();
      c.signed.clear();
    },
  };
}

const tagRefusals = (h: Harness) =>
  h.running().reduce((n, p) => {
    const r = p.codec.rejections.snapshot();
    return n + Object.entries(r).reduce((k, [reason, v]) => k + (reason.startsWith('mac-') || reason === 'bad-mac' ? v : 0), 0);
  }, 0);

test('per block, payloads down the tree, announcements, grafts and state messages go tagged; alive, StateInfo and leadership stay signed', async () => {
  const h = await Harness.create({ orgs: 2, peers: 5, seed: 'tagged', orderer: ONE_TX_BLOCKS, startJitterMs: 500 });
  try {
    assert.ok(await h.until(() => leaders(h).length === 2, 60_000, 500), 'one leader per org');
    await h.advance(5000);
    const seals = countSeals(h);
    await produce(h, 40, 100);
    assert.ok(await h.until(() => allCaughtUp(h), 20_000, 250), 'every block everywhere');
    const tagged = [...seals.tagged.keys()] as PayloadKind[];
    assert.ok((seals.tagged.get('ihave') ?? 0) > 40, `announcements tagged: ${seals.tagged.get('ihave')}`);
    assert.is(seals.signed.get('ihave') ?? 0, 0, 'no announcement signed once keys are agreed');
    for (const k of tagged) assert.ok(MAC_KINDS.has(k), `${k} may not be tagged`);
    assert.ok((seals.tagged.get('data') ?? 0) > 40 * 8 * 0.8, `payloads tagged: ${seals.tagged.get('data')} (signed ${seals.signed.get('data')})`);
    for (const k of ['alive', 'stateInfo', 'leadership', 'session'] as const) assert.is(seals.tagged.get(k) ?? 0, 0, `${k} stays signed`);
    assert.is(tagRefusals(h), 0, 'no honest message refused for its tag');
    // What a peer keeps to serve a third peer (a graft, a pull update) is a signed envelope another peer takes,
    // never the tagged one it received.
    const [p, q] = h.running().filter((x) => x.id.endsWith('.org1'));
    const intake = p!.peer!.gossip.get('channel1')!.intake;
    const seqs = intake.storedSeqs();
    assert.ok(seqs.length > 10, `the window holds blocks (${seqs.length})`);
    for (const seq of seqs) {
      const r = q!.codec.decode(intake.envelopeOf(seq)!);
      assert.ok(r.ok && !r.msg.tagged && r.msg.payload.t === 'data' && r.msg.payload.seq === seq, `block ${seq} served signed`);
    }
  } finally {
    await h.stop();
  }
});

test('a restarted peer gets new keys: blocks still reach it, and messages to it are tagged again', async () => {
  const h = await Harness.create({ orgs: 1, peers: 4, seed: 'tagged-restart', orderer: ONE_TX_BLOCKS });
  try {
    assert.ok(await h.until(() => leaders(h).length === 1, 60_000, 500));
    await h.advance(5000);
    const victim = h.running().find((p) => p.peer!.elections.get('channel1')?.role() !== 'leader')!.id;
    await produce(h, 10, 100);
    await h.restart(victim);
    const seals = new Map<string, { tagged: number; signed: number }>();
    h.network.taps.add((from, subject, bytes) => {
      if (!subject.endsWith(`.inbox.${victim}`) || from === victim) return;
      const env = parseEnvelope(bytes);
      if (!env.ok || payloadOf(bytes)?.t !== 'ihave') return;
      const s = seals.get(from) ?? { tagged: 0, signed: 0 };
      if (env.env.mac) s.tagged++;
      else s.signed++;
      seals.set(from, s);
    });
    await h.advance(5000);
    await produce(h, 30, 100);
    assert.ok(await h.until(() => allCaughtUp(h), 30_000, 250), 'the restarted peer holds every block');
    const toVictim = [...seals.values()].reduce((a, s) => ({ tagged: a.tagged + s.tagged, signed: a.signed + s.signed }), { tagged: 0, signed: 0 });
    assert.ok(toVictim.tagged > 0, `announcements to the restarted peer are tagged again (${JSON.stringify(toVictim)})`);
    const victimPeer = h.peers.get(victim)!;
    const stale = victimPeer.codec.rejections.snapshot()['mac-stale-key'] ?? 0;
    const unknown = victimPeer.codec.rejections.snapshot()['mac-unknown-key'] ?? 0;
    assert.ok(stale + unknown < 20, `few messages under old keys reach it (${stale} stale, ${unknown} unknown)`);
    assert.is(tagRefusals(h) - stale - unknown, 0, 'nothing misaddressed or forged on the way');
  } finally {
    await h.stop();
  }
});

test.run();
