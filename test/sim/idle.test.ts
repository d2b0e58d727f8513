// Idle cost (issue 25): a quiet network re-sends what it already signed instead of signing afresh. Over a
// minute of simulated idle time, each peer signs at most one alive per aliveTimeInterval (membership requests
// and responses embed the last one) and no StateInfo at all while its height is unchanged (snapshot answers
// carry the last one), whatever the membership and StateInfo pulls in between.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Harness, DEFAULT_TIMINGS } from '../../runtime/sim/harness.ts';
import { parseEnvelope } from '../../runtime/wire/envelope.ts';
import { decodeCbor } from '../../runtime/wire/cbor.ts';
import { toHex } from '../../runtime/util/bytes.ts';

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

test.run();
