// Per-requester limits on what a peer serves (peer.gossip.murmur.limits), on the whole peer in simulated time:
// an insider flooding state requests or grafts gets a burst and then the configured rate, the rest refused and
// counted; honest catch-up is not affected.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Harness } from '../../runtime/sim/harness.ts';
import { signerOf } from '../../runtime/crypto/material.ts';
import { seal } from '../../runtime/wire/envelope.ts';
import { payloadOf } from '../../runtime/sim/kinds.ts';
import type { StateReqMsg } from '../../runtime/wire/messages.ts';
import { CH, leaders, ONE_TX_BLOCKS, produce } from '../helpers/blocks-sim.ts';

test('an insider flooding state requests and grafts is served its burst and then the rate, the rest counted', async () => {
  const evil = 'peer3.org1';
  // The figures (20 state requests, 100 grafts a second) set explicitly: murmur's state default is 200.
  const h = await Harness.create({ orgs: 1, peers: 4, seed: 'limits-flood', orderer: ONE_TX_BLOCKS, peerOptions: { limits: { stateRequestsPerSecond: 20, graftsPerSecond: 100 } } });
  try {
    assert.ok(await h.until(() => leaders(h).length === 1, 60_000, 500));
    await produce(h, 20, 50);
    const target = h.running().find((p) => p.id !== evil)!;
    const signer = signerOf(h.peers.get(evil)!.material, h.ed);
    const rogue = h.network.transport({ endpoint: 'rogue', decoder: h.peers.get(evil)!.codec });
    await rogue.start();
    // Replies go to the requester's own endpoint (discovery's): count what the target sends there.
    const replies = { stateRes: 0, data: 0 };
    h.network.taps.add((from, subject, bytes) => {
      if (from !== target.id || !subject.endsWith(`.inbox.${evil}`)) return;
      const t = payloadOf(bytes)?.t;
      if (t === 'stateRes' || t === 'data') replies[t]++;
    });
    const rejected = () => target.peer!.status()[0]!.counters.rejected;
    // Ten seconds of 100 state requests and 500 grafts a second.
    for (let s = 0; s < 10; s++) {
      for (let i = 0; i < 100; i++) rogue.send(target.id, seal({ t: 'stateReq', ch: CH, nonce: s * 1000 + i, start: 1, end: 1 } satisfies StateReqMsg, signer));
      for (let i = 0; i < 500; i++) rogue.send(target.id, seal({ t: 'graft', ch: CH, seqs: [1 + (i % 10)], eager: false }, signer));
      await h.advance(1000);
    }
    console.log(`    served ${replies.stateRes} state responses and ${replies.data} graft replies to 1 000 requests and 5 000 grafts`);
    // 20 state requests a second (burst 40), 100 grafts a second (burst 200).
    assert.ok(replies.stateRes >= 40 + 9 * 20 && replies.stateRes <= 40 + 10 * 20, `state responses: ${replies.stateRes}`);
    assert.ok(replies.data <= 200 + 10 * 100, `graft replies: ${replies.data}`);
    assert.ok((rejected()['state-request-rate'] ?? 0) >= 1000 - (40 + 10 * 20), JSON.stringify(rejected()));
    assert.ok((rejected()['tree-graft-rate'] ?? 0) >= 5000 - (200 + 10 * 100), JSON.stringify(rejected()));
  } finally {
    await h.stop();
  }
});

test.run();
