// Data written before: a block stream holding v1 blocks (no channel in their header, as orderers wrote them before
// v2 blocks) still opens. The orderer continues after its last v1 block with v2 blocks, and a peer's deliver
// session reads the whole mixed chain into its ledger.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { startNatsServer } from '../../runtime/nats-server.ts';
import { DeliverFeed } from '../../runtime/orderer/deliver.feed.ts';
import { DeliverService } from '../../runtime/orderer/deliver.service.ts';
import { LmdbLedgerStore } from '../../runtime/ledger/lmdb.ledger.ts';
import { encodeBlock } from '../../runtime/ledger/block.ts';
import { subjects } from '../../runtime/transport/subjects.ts';
import { realClock } from '../../runtime/clock.ts';
import { cryptoRng } from '../../runtime/rng.ts';
import { createDeliver } from '../../actors/deliver.actor.ts';
import { startStreamOrderer } from '../helpers/jetstream-orderer.ts';
import { JetStreamBlockLog } from '../../runtime/orderer/jetstream.log.ts';
import { FABRIC_DELIVER_TIMINGS } from '../../machines/deliver.logic.ts';
import { buildChain } from '../helpers/chain.ts';
import { ed } from '../helpers/material.ts';
import { until } from '../helpers/deadline.ts';

test('a stream of v1 blocks opens: the orderer continues after its last block, a peer reads the mixed chain', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'murmur-legacy-'));
  const server = await startNatsServer({ port: 0 });
  const nc = await connect({ servers: server.url });
  const { genesis, blocks } = buildChain(5);
  assert.ok(blocks.every((b) => b.channel === undefined), 'the helper builds v1 blocks');
  // As an orderer of before wrote them: genesis, then v1 blocks 1..5.
  await new JetStreamBlockLog(nc).ensure(genesis);
  const js = nc.jetstream();
  for (const b of blocks) await js.publish(subjects().blocks('channel1'), encodeBlock(b));
  const orderer = await startStreamOrderer(nc, genesis, { perBlock: 1, timeoutMs: 10, maxPendingBatches: 100 });
  const service = new DeliverService(nc, { prefix: 'murmur', channels: () => ['channel1'] }).start();
  const store = new LmdbLedgerStore(join(dir, 'peer'), ed);
  const ledger = await store.open(genesis);
  const deliver = createDeliver({ channel: 'channel1', ledger, feed: new DeliverFeed(() => nc, { token: 'p' }), clock: realClock, rng: cryptoRng(), timings: FABRIC_DELIVER_TIMINGS });
  try {
    assert.is(orderer.height('channel1'), 6, 'the tip is the last v1 block');
    for (let i = 0; i < 3; i++) assert.ok(orderer.submit('channel1', new TextEncoder().encode(`after ${i}`)).ok);
    await until(() => orderer.height('channel1') === 9, 10_000, 'three v2 blocks appended', 10);
    deliver.start('static');
    await until(() => ledger.height() === 9, 10_000, 'the peer holding the mixed chain', 10);
    const got = ledger.range(1, 9);
    assert.equal(got.map((b) => b.channel ?? null), [null, null, null, null, null, 'channel1', 'channel1', 'channel1']);
    assert.equal(ledger.rejections.snapshot(), {});
  } finally {
    deliver.dispose();
    service.stop();
    await orderer.stop();
    await store.close();
    await nc.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
