import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Harness } from '../../runtime/sim/harness.ts';

const lossy = { latency: { minMs: 2, maxMs: 40 }, loss: 0.05, duplicate: 0.02, reorder: 0.05 };

async function run(seed: string) {
  const h = await Harness.create({ orgs: 4, peers: 5, seed, signer: 'sim', link: lossy, startJitterMs: 2000, peerOptions: { dialTimeoutMs: 500, reconnectIntervalMs: 1000 } });
  try {
    await h.advance(10_000);
    const bound = [...h.peers.values()].map((p) => p.peer!.sessions.list().length);
    return { digest: h.traceDigest(), bound, delivered: h.network.counters.delivered };
  } finally {
    await h.stop();
  }
}

test('a 20-peer in-memory run replays exactly from its seed', async () => {
  const a = await run('seed-1');
  const b = await run('seed-1');
  const c = await run('seed-2');
  assert.ok(a.delivered > 40, `traffic flowed (${a.delivered} deliveries)`);
  assert.is(a.digest, b.digest);
  assert.equal(a.bound, b.bound);
  assert.is.not(a.digest, c.digest);
});

test('every peer binds a session with its anchor peers despite loss (probes are retried)', async () => {
  const h = await Harness.create({ orgs: 3, peers: 3, seed: 7, link: lossy, startJitterMs: 500, peerOptions: { dialTimeoutMs: 500, reconnectIntervalMs: 1000 } });
  try {
    await h.advance(15_000);
    for (const sp of h.peers.values()) {
      const subjects = new Set(sp.peer!.sessions.list().map((b) => b.subject));
      for (const anchor of ['peer0.org1', 'peer0.org2', 'peer0.org3'])
        if (anchor !== sp.id) assert.ok(subjects.has(anchor), `${sp.id} has no session with ${anchor}: ${[...subjects]}`);
    }
  } finally {
    await h.stop();
  }
});

test('crash and restart: the peer comes back with a newer incarnation', async () => {
  const h = await Harness.create({ orgs: 2, peers: 2, seed: 3, peerOptions: { dialTimeoutMs: 500, reconnectIntervalMs: 1000 } });
  try {
    await h.advance(2000);
    const anchor = h.peers.get('peer0.org2')!;
    const before = anchor.peer!.sessions.list().find((b) => b.subject === 'peer1.org1')!;
    assert.ok(before, 'bound before the crash');
    await h.crash('peer1.org1');
    assert.is(h.peers.get('peer1.org1')!.peer, null);
    await h.advance(1000);
    await h.start('peer1.org1');
    await h.advance(2000);
    const after = anchor.peer!.sessions.list().find((b) => b.subject === 'peer1.org1')!;
    assert.ok(after.incNum > before.incNum, `${after.incNum} > ${before.incNum}`);
  } finally {
    await h.stop();
  }
});

test('partition blocks session binding across it; heal lets the retried probe through', async () => {
  const h = await Harness.create({ orgs: 2, peers: 2, seed: 11, peerOptions: { dialTimeoutMs: 500, reconnectIntervalMs: 2000 } });
  try {
    await h.crash('peer1.org1');
    h.partition([['peer0.org1', 'peer1.org1'], ['peer0.org2', 'peer1.org2']]);
    await h.start('peer1.org1');
    await h.advance(1000);
    const seen = () => h.peers.get('peer0.org2')!.peer!.sessions.list().filter((b) => b.subject === 'peer1.org1');
    const incBefore = seen()[0]?.incNum ?? -1;
    await h.advance(1000);
    assert.is(seen()[0]?.incNum ?? -1, incBefore, 'nothing crosses the partition');
    h.heal();
    assert.ok(await h.until(() => (seen()[0]?.incNum ?? -1) > incBefore, 10_000), 'bound after heal');
  } finally {
    await h.stop();
  }
});

test.run();
