// A ledger whose storage fails (a full disk, injected: MemoryLedgerStore.failWith) on the whole peer in
// simulated time: the peer keeps running and loses nothing, reports the failure (status `storage`), retries
// with a backoff instead of spinning, and catches up with an intact chain once the storage works again.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Harness } from '../../runtime/sim/harness.ts';
import { allCaughtUp, CH, height, leaders, ONE_TX_BLOCKS, ordererChain, peerChain, produce } from '../helpers/blocks-sim.ts';

test('a follower whose disk is full keeps running, backs off, reports it, and resumes with an intact chain', async () => {
  const h = await Harness.create({ orgs: 1, peers: 4, seed: 'storage-full', orderer: ONE_TX_BLOCKS });
  try {
    assert.ok(await h.until(() => leaders(h).length === 1, 60_000, 500));
    await produce(h, 20, 50);
    assert.ok(await h.until(() => allCaughtUp(h), 30_000, 250));
    const victim = h.running().find((p) => p.id !== leaders(h)[0]!.id)!;
    const row = () => victim.peer!.status()[0]!;
    assert.equal(row().storage, { ok: true, failures: 0, lastError: null });
    const before = height(h, victim.id);
    h.ledgerStore(victim.id).failWith(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }));
    // Thirty simulated seconds of blocks arriving while nothing can be written.
    await produce(h, 60, 500);
    assert.is(height(h, victim.id), before, 'nothing committed while the storage fails');
    const failing = row().storage!;
    assert.is(failing.ok, false);
    assert.match(failing.lastError ?? '', /ENOSPC/);
    // Backoff (100 ms doubling to 5 s): a handful of attempts in 30 s, not one per block or per millisecond.
    assert.ok(failing.failures >= 5 && failing.failures <= 20, `${failing.failures} failed commits in 30 s`);
    assert.ok(victim.peer!.actor.getSnapshot().matches('running'), 'the peer keeps running');
    h.ledgerStore(victim.id).failWith(null);
    assert.ok(await h.until(() => allCaughtUp(h), 30_000, 250), `victim at ${height(h, victim.id)} of ${h.ordering.height(CH)}`);
    assert.equal(peerChain(h, victim.id), ordererChain(h));
    assert.is(row().storage!.ok, true);
    assert.is(row().storage!.failures, failing.failures, 'no failure after the storage came back');
    console.log(`    ${failing.failures} failed commits in 30 s of a full disk; caught up ${h.ordering.height(CH) - before} blocks after`);
  } finally {
    await h.stop();
  }
});

test.run();
