// The leader's deliver actor on the whole peer, in simulated time: the harness's in-process orderer cuts
// blocks from submitted transactions; leaders pull them into their in-memory ledgers.
import { test } from '../helpers/test.ts';
import * as assert from 'uvu/assert';
import { Harness } from '../../runtime/sim/harness.ts';
import { blockHash, makeBlock } from '../../runtime/ledger/block.ts';
import { toHex } from '../../runtime/util/bytes.ts';
import { encodeBlock } from '../../runtime/ledger/block.ts';
import { SimClock } from '../../runtime/clock.ts';
import { rngFromSeed } from '../../runtime/rng.ts';
import { MemoryOrderingService } from '../../runtime/orderer/memory.ordering.ts';
import { MemoryLedgerStore } from '../../runtime/ledger/memory.ledger.ts';
import { createDeliver } from '../../actors/deliver.actor.ts';
import { buildChain } from '../helpers/chain.ts';
import { ed } from '../helpers/material.ts';

const CH = 'channel1';
const staticLeaders = { peerOptions: { useLeaderElection: false }, perPeer: (id: string) => ({ orgLeader: id.startsWith('peer0.') }) };
const tx = (i: number) => new TextEncoder().encode(`tx-${i}`.padEnd(64, '.'));

/** The orderer's chain as hex block hashes. */
function ordererChain(h: Harness): string[] {
  const out: string[] = [];
  for (let n = 0; n < h.ordering.height(CH); n++) out.push(toHex(blockHash(h.ordering.block(CH, n)!)));
  return out;
}
function peerChain(h: Harness, id: string): string[] {
  const l = h.ledger(id, CH)!;
  return l.range(0, l.height()).map((b) => toHex(blockHash(b)));
}

test('static leaders commit exactly the orderer\'s chain; others stay at genesis; status counts blocksFromOrderer', async () => {
  const h = await Harness.create({ orgs: 2, peers: 2, seed: 'deliver-1', signer: 'sim', orderer: { batchTimeoutMs: 200, maxMessageCount: 10 }, ...staticLeaders });
  try {
    for (let i = 0; i < 250; i++) {
      assert.ok(h.submit(CH, tx(i)).ok);
      if (i % 25 === 0) await h.advance(50);
    }
    await h.advance(1000);
    const chain = ordererChain(h);
    assert.ok(chain.length >= 26, `${chain.length} blocks`);
    for (const leader of ['peer0.org1', 'peer0.org2']) {
      assert.equal(peerChain(h, leader), chain, leader);
      const row = h.peers.get(leader)!.peer!.status()[0]!;
      assert.is(row.height, chain.length);
      assert.is(row.tipHash, chain.at(-1));
      assert.is(row.role, 'leader');
      assert.is(row.counters.blocksFromOrderer, chain.length - 1);
    }
    for (const other of ['peer1.org1', 'peer1.org2']) {
      // Non-leaders never read the orderer (they get blocks by gossip: test/sim/dissemination.test.ts).
      assert.is(h.peers.get(other)!.peer!.status()[0]!.counters.blocksFromOrderer, 0);
    }
  } finally {
    await h.stop();
  }
});

test('a leader crashed and restarted mid-stream resumes at its ledger height: no gap, no double', async () => {
  const h = await Harness.create({ orgs: 1, peers: 1, seed: 'deliver-2', signer: 'sim', orderer: { batchTimeoutMs: 100, maxMessageCount: 5 }, ...staticLeaders });
  try {
    let i = 0;
    for (; i < 100; i++) h.submit(CH, tx(i));
    await h.advance(300);
    const before = h.ledger('peer0.org1', CH)!.height();
    await h.crash('peer0.org1');
    for (; i < 200; i++) h.submit(CH, tx(i));
    await h.advance(500);
    await h.start('peer0.org1');
    assert.is(h.ledger('peer0.org1', CH)!.height(), before, 'the ledger survived the crash');
    for (; i < 300; i++) h.submit(CH, tx(i));
    await h.advance(1000);
    assert.equal(peerChain(h, 'peer0.org1'), ordererChain(h));
    assert.is(h.ordering.height(CH), 61);
    assert.equal(h.peers.get('peer0.org1')!.peer!.status()[0]!.counters.rejected, {}, 'nothing refused');
  } finally {
    await h.stop();
  }
});

test('ordering outage: the static leader backs off, keeps retrying and catches up once it is back', async () => {
  const h = await Harness.create({
    orgs: 1,
    peers: 1,
    seed: 'deliver-3',
    signer: 'sim',
    orderer: { batchTimeoutMs: 100 },
    ...staticLeaders,
    peerOptions: { useLeaderElection: false, deliveryclient: { connTimeoutMs: 1000, reConnectBackoffThresholdMs: 2000, reconnectTotalTimeThresholdMs: 5000, minimalReconnectIntervalMs: 100 } },
  });
  try {
    h.submit(CH, tx(0));
    await h.advance(500);
    assert.is(h.ledger('peer0.org1', CH)!.height(), 2);
    h.ordering.setAvailable(false);
    for (let i = 1; i < 50; i++) h.submit(CH, tx(i));
    await h.advance(30_000); // well past reconnectTotalTimeThreshold: a static leader never gives up
    assert.is(h.ledger('peer0.org1', CH)!.height(), 2);
    const deliver = h.peers.get('peer0.org1')!.peer!.actor.system.get('channel:channel1')!.getSnapshot().children.deliver;
    const ctx = deliver.getSnapshot().context;
    assert.ok(ctx.failures > 10, `${ctx.failures} failures in a row`);
    assert.equal(deliver.getSnapshot().value, { active: 'backoff' });
    h.ordering.setAvailable(true);
    await h.advance(3000);
    assert.equal(peerChain(h, 'peer0.org1'), ordererChain(h));
    assert.is(deliver.getSnapshot().context.failures, 0);
  } finally {
    await h.stop();
  }
});

test('a block the orderer did not sign is refused and counted; the leader stays on the true chain', async () => {
  const h = await Harness.create({ orgs: 1, peers: 1, seed: 'deliver-4', signer: 'sim', orderer: { batchTimeoutMs: 100 }, ...staticLeaders });
  try {
    h.submit(CH, tx(0));
    await h.advance(500);
    const l = h.ledger('peer0.org1', CH)!;
    assert.is(l.height(), 2);
    // A byzantine log: block 2 signed by a peer's key instead of the orderer's.
    const forged = makeBlock(2, l.tipHash(), [tx(99)], (m) => h.ed.sign(h.material.orgs[0]!.peers[0]!.secret, m));
    h.ordering.inject(CH, forged);
    await h.advance(5000);
    assert.is(l.height(), 2);
    const row = h.peers.get('peer0.org1')!.peer!.status()[0]!;
    assert.ok(row.counters.rejected['bad-block-signature']! >= 1, JSON.stringify(row.counters.rejected));
  } finally {
    await h.stop();
  }
});

test('fabric service/TestLeaderYield', async () => {
  const h = await Harness.create({
    orgs: 1,
    peers: 2,
    seed: 'deliver-yield',
    signer: 'sim',
    peerOptions: { deliveryclient: { connTimeoutMs: 500, reConnectBackoffThresholdMs: 1000, reconnectTotalTimeThresholdMs: 5000, minimalReconnectIntervalMs: 100 } },
  });
  const leaderOf = () => h.running().filter((p) => p.peer!.elections.get(CH)?.role() === 'leader').map((p) => p.id);
  try {
    assert.ok(await h.until(() => leaderOf().length === 1, 60_000, 250), 'a leader is elected');
    const first = leaderOf()[0]!;
    h.submit(CH, tx(0));
    assert.ok(await h.until(() => h.ledger(first, CH)!.height() === 2, 10_000), 'the leader delivers');
    h.ordering.setAvailable(false);
    assert.ok(await h.until(() => leaderOf()[0] !== first && leaderOf().length === 1, 60_000, 250), `leadership moved (leaders: ${leaderOf()})`);
    const second = leaderOf()[0]!;
    h.ordering.setAvailable(true);
    h.submit(CH, tx(1));
    assert.ok(await h.until(() => h.ledger(second, CH)!.height() === 3, 30_000), 'the new leader delivers from its own height');
    assert.equal(peerChain(h, second), ordererChain(h));
  } finally {
    await h.stop();
  }
});

test('a full commit buffer pauses the subscription (not a failure) and resumes from the ledger height', async () => {
  const clock = new SimClock(0);
  const ordering = new MemoryOrderingService({ clock });
  const { genesis, blocks } = buildChain(100);
  await ordering.ensure(genesis);
  for (const b of blocks) await ordering.append(CH, b, encodeBlock(b));
  const store = new MemoryLedgerStore(ed);
  const ledger = await store.open(genesis);
  const timings = { connTimeoutMs: 1000, reConnectBackoffThresholdMs: 1000, reconnectTotalTimeThresholdMs: 10_000, minimalReconnectIntervalMs: 100 };
  const d = createDeliver({ channel: CH, ledger, feed: ordering, clock, rng: rngFromSeed(1), timings, maxBuffered: 8 });
  const seen: number[] = [];
  d.delivered$.subscribe((x) => seen.push(x.block.number));
  d.start('static');
  for (let i = 0; i < 200 && ledger.height() < 101; i++) {
    clock.advance(5);
    await new Promise((r) => setImmediate(r));
  }
  assert.is(ledger.height(), 101);
  assert.equal(seen, blocks.map((b) => b.number), 'each block handed on once, in order');
  assert.is(d.actor.getSnapshot().context.connects, 1, 'no failure, no new session');
  assert.is(d.actor.getSnapshot().context.failures, 0);
  assert.equal(d.stats()!.errors, {});
  assert.ok(d.stats()!.pauses >= 1, `paused ${d.stats()!.pauses} times`);
  d.dispose();
});

test('same seed, same run: deliver is deterministic in simulated time', async () => {
  const once = async () => {
    const h = await Harness.create({ orgs: 2, peers: 2, seed: 'deliver-det', signer: 'sim', orderer: { batchTimeoutMs: 150, maxMessageCount: 7 }, ...staticLeaders });
    try {
      for (let i = 0; i < 60; i++) {
        h.submit(CH, tx(i));
        await h.advance(13);
      }
      await h.advance(1000);
      return [h.traceDigest(), peerChain(h, 'peer0.org2').join(',')];
    } finally {
      await h.stop();
    }
  };
  assert.equal(await once(), await once());
});

test.run();
