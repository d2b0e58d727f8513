// Bulk replies go only to an inbox the requester proved it receives on (issue 19): an insider whose alive
// message declares another peer's inbox as its own gets its state requests and grafts answered nowhere, each
// counted `reply-unproven`, and the victim receives none of the blocks; an honest requester is served after
// one probe's answer (test/sim/limits.test.ts counts what it is served).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Harness } from '../../runtime/sim/harness.ts';
import { signerOf } from '../../runtime/crypto/material.ts';
import { seal } from '../../runtime/wire/envelope.ts';
import { payloadOf } from '../../runtime/sim/kinds.ts';
import type { StateReqMsg } from '../../runtime/wire/messages.ts';
import { CH, leaders, ONE_TX_BLOCKS, produce } from '../helpers/blocks-sim.ts';

test("an insider declaring the victim's inbox as its own earns no bulk reply there", async () => {
  const evil = 'peer3.org1';
  const victim = 'peer1.org1';
  const h = await Harness.create({ orgs: 1, peers: 4, seed: 'reply-proof', orderer: ONE_TX_BLOCKS, perPeer: (id) => (id === evil ? { internalEndpoint: victim } : {}) });
  try {
    assert.ok(await h.until(() => leaders(h).length === 1, 60_000, 500));
    await produce(h, 20, 50);
    await h.advance(5000);
    const target = h.running().find((p) => p.id !== evil && p.id !== victim)!;
    assert.is(target.peer!.discovery.endpointFor(h.peers.get(evil)!.pkiIdHex), victim, 'the target believes the lie');
    const signer = signerOf(h.peers.get(evil)!.material, h.ed);
    const rogue = h.network.transport({ endpoint: 'rogue', decoder: h.peers.get(evil)!.codec });
    await rogue.start();
    const toVictim = { stateRes: 0, data: 0 };
    h.network.taps.add((from, subject, bytes) => {
      if (from !== target.id || !subject.endsWith(`.inbox.${victim}`)) return;
      const t = payloadOf(bytes)?.t;
      if (t === 'stateRes' || t === 'data') toVictim[t]++;
    });
    const rejected = () => target.peer!.status()[0]!.counters.rejected;
    for (let s = 0; s < 5; s++) {
      for (let i = 0; i < 4; i++) rogue.send(target.id, seal({ t: 'stateReq', ch: CH, nonce: s * 100 + i, start: 1, end: 10 } satisfies StateReqMsg, signer));
      for (let i = 0; i < 4; i++) rogue.send(target.id, seal({ t: 'graft', ch: CH, seqs: [1 + i, 2 + i], eager: false }, signer));
      await h.advance(1000);
    }
    await h.advance(5000);
    assert.equal(toVictim, { stateRes: 0, data: 0 }, 'nothing the insider asked for reached the victim');
    assert.ok((rejected()['reply-unproven'] ?? 0) >= 20, JSON.stringify(rejected()));
  } finally {
    await h.stop();
  }
});

test.run();
