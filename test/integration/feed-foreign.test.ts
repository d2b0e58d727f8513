// The feed tolerates foreign entries (issue 18): on a server without authorization anyone may publish to a
// channel's block subject. Garbage, JSON, another channel's valid block, a replay of an old block and a forged
// next block (bad signature) land in the stream mid-run; the orderer keeps appending after the last block of its
// own chain, the leaders' deliver sessions skip every foreign entry (counted by reason) and never stall, no peer
// commits one, and the followers keep the same chain.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { decodeBlock, encodeBlock } from '../../runtime/ledger/block.ts';
import { rowsWhen, startUp, stopUp } from '../helpers/up-run.ts';
import type { CliRun } from '../helpers/cli.ts';

let dir = '';
let run: CliRun | undefined;
test.after(() => {
  if (run && run.child.exitCode === null) run.child.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('foreign entries in the block stream are skipped by the orderer and every deliver client', async () => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-foreign-'));
  const started = await startUp(dir, ['--orgs', '1', '--peers', '2', '--channels', '2', '--load-rate', '40', '--no-auth']);
  run = started.run;
  const net = started.net;
  const rows = await rowsWhen(dir, (rs) => rs.length === 4 && rs.every((r) => (r.height ?? 0) > 4), 60_000, 'heights above 4 on both channels');
  const nc = await connect({ servers: net.natsUrl });
  const jsm = await nc.jetstreamManager();
  const streamName = (await jsm.streams.names().next()).find((n) => n.endsWith('channel1'))!;
  const other = (await jsm.streams.names().next()).find((n) => n.endsWith('channel2'))!;
  const last = (await jsm.streams.info(streamName)).state.last_seq;
  const tipBlock = decodeBlock((await jsm.streams.getMessage(streamName, { seq: last })).data)!;
  const oldBlock = (await jsm.streams.getMessage(streamName, { seq: 2 })).data;
  const otherChannel = (await jsm.streams.getMessage(other, { seq: 3 })).data;
  const forged = encodeBlock({ ...tipBlock, number: tipBlock.number + 1, signature: new Uint8Array(tipBlock.signature.length).fill(7) });
  const subject = `${net.prefix}.blocks.channel1`;
  const js = nc.jetstream();
  for (const entry of [new Uint8Array([1, 2, 3]), new TextEncoder().encode('{"status":"json"}'), otherChannel, oldBlock, forged]) await js.publish(subject, entry);
  await nc.close();

  const h0 = Math.max(...rows.filter((r) => r.channel === 'channel1').map((r) => r.height!));
  const after = await rowsWhen(
    dir,
    (rs) => rs.filter((r) => r.channel === 'channel1').length === 2 && rs.filter((r) => r.channel === 'channel1').every((r) => r.height! > h0 + 5),
    45_000,
    `channel1 heights beyond ${h0 + 5} after the foreign entries`,
  );
  const ch1 = after.filter((r) => r.channel === 'channel1');
  const leader = ch1.find((r) => r.role === 'leader')!;
  assert.ok(leader, 'a leader of channel1');
  const rej = leader.counters.rejected;
  assert.ok((rej['feed-garbage'] ?? 0) >= 2, `garbage and JSON skipped: ${JSON.stringify(rej)}`);
  assert.ok((rej['feed-foreign-channel'] ?? 0) >= 1, `another channel's block skipped: ${JSON.stringify(rej)}`);
  assert.ok((rej['feed-old'] ?? 0) + (rej['bad-block-signature'] ?? 0) >= 2, `the replay and the forgery refused: ${JSON.stringify(rej)}`);
  for (const r of ch1) {
    assert.is(r.counters.rejected['bad-previous-hash'] ?? 0, 0, `${r.id} linked nothing foreign`);
    assert.is(r.counters.rejected['bad-number'] ?? 0, 0);
  }
  // The orderer skipped them too when it read past them to append (reported in its /metrics).
  const text = await (await fetch(`${net.orderer!.opsUrl}/metrics`)).text();
  assert.match(text, /murmur_orderer_foreign_entries\{reason="garbage"[^}]*\} [1-9]/, 'the orderer counts the garbage it skipped');
  await stopUp(run, net);
});

test.run();
