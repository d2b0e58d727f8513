// The ordering service on a real nats-server (JetStream): chain continuity across restarts, the stream
// refusing a second orderer's block at a taken height, and the CLI (`orderer start`, `tx`, `load`).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { stringify } from 'yaml';
import { startNatsServer, type NatsServer } from '../../runtime/nats-server.ts';
import { JetStreamBlockLog } from '../../runtime/orderer/jetstream.log.ts';
import { Orderer } from '../../runtime/orderer/orderer.ts';
import { ChainWriter } from '../../runtime/orderer/chain.ts';
import { realClock } from '../../runtime/clock.ts';
import { blockHash, decodeBlock, encodeBlock, makeBlock, verifyBlock, type Block } from '../../runtime/ledger/block.ts';
import { writeMaterial, type Manifest } from '../../runtime/crypto/material.ts';
import { subjects } from '../../runtime/transport/subjects.ts';
import { bytesEqual } from '../../runtime/util/bytes.ts';
import { genesisOf } from '../helpers/chain.ts';
import { ed, material } from '../helpers/material.ts';
import { cli, runCli, type CliRun } from '../helpers/cli.ts';
import { until, withDeadline } from '../helpers/deadline.ts';
import { parsePrometheus } from '../helpers/prometheus.ts';

let server: NatsServer | undefined;
let nc: NatsConnection | undefined;
let dir = '';
const procs: CliRun[] = [];
const sign = (m: Uint8Array) => ed.sign(material().orderer.secret, m);
const size = { maxMessageCount: 10, preferredMaxBytes: 64 * 1024, absoluteMaxBytes: 128 * 1024 };

test.before(async () => {
  server = await startNatsServer({ port: 0 });
  nc = await connect({ servers: server.url });
  dir = mkdtempSync(join(tmpdir(), 'murmur-orderer-'));
});
test.after(async () => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await nc?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Every block of the channel's stream, checked: block n at sequence n+1, chained, signed. */
async function streamChain(channel: string, prefix = 'murmur'): Promise<Block[]> {
  const jsm = await nc!.jetstreamManager();
  const s = subjects(prefix);
  const info = await jsm.streams.info(s.blockStream(channel));
  const genesis = genesisOf(material(), channel);
  const out: Block[] = [];
  for (let seq = 1; seq <= info.state.last_seq; seq++) {
    const b = decodeBlock((await jsm.streams.getMessage(s.blockStream(channel), { seq })).data)!;
    assert.is(b.number, seq - 1);
    const check = verifyBlock(b, genesis.ordererPublicKey, ed, seq === 1 ? { number: 0 } : { number: seq - 1, previousHash: blockHash(out.at(-1)!) });
    assert.ok(check.ok, `block ${seq - 1}: ${JSON.stringify(check)}`);
    out.push(b);
  }
  return out;
}

test('an orderer restart continues the chain; its block 0 is the genesis block', async () => {
  const genesis = genesisOf();
  const start = () => Orderer.start({ channels: [genesis], log: new JetStreamBlockLog(nc!, { prefix: 'restart' }), sign, clock: realClock, batchSize: size, batchTimeoutMs: 50, maxPendingBatches: 64 });
  let o = await start();
  assert.is(o.height('channel1'), 1, 'stream created with genesis only');
  for (let i = 0; i < 25; i++) assert.ok(o.submit('channel1', new TextEncoder().encode(`a${i}`)).ok);
  await until(() => o.stats.txs === 25, 5000, 'first 25 txs appended');
  await o.stop();
  o = await start();
  assert.is(o.height('channel1'), 4, 'continues at 4 (genesis + 10 + 10 + 5)');
  for (let i = 0; i < 7; i++) o.submit('channel1', new TextEncoder().encode(`b${i}`));
  await o.stop(); // flushes the pending batch
  const chain = await streamChain('channel1', 'restart');
  assert.is(chain.length, 5);
  assert.ok(bytesEqual(blockHash(chain[0]!), blockHash(genesis.block)));
  assert.equal(chain.slice(1).map((b) => b.data.length), [10, 10, 5, 7]);
});

test('a second orderer appending at a taken height is refused by the stream; it continues from the tip', async () => {
  const genesis = genesisOf();
  const logA = new JetStreamBlockLog(nc!, { prefix: 'twins' });
  const logB = new JetStreamBlockLog(nc!, { prefix: 'twins' });
  const say: string[] = [];
  const a = await ChainWriter.open(genesis, logA, sign, { clock: realClock });
  const b = await ChainWriter.open(genesis, logB, sign, { clock: realClock, log: (l) => say.push(l) });
  assert.is(a.height, 1);
  assert.is(b.height, 1);
  const tx = (s: string) => [new TextEncoder().encode(s)];
  const b1 = await a.append(tx('from A'));
  // B still believes the chain has 1 block: its block 1 must be refused, not stored as a fork or a double.
  const raw = makeBlock(1, blockHash(genesis.block), tx('from B'), sign);
  assert.equal(await logB.append('channel1', raw, encodeBlock(raw)), { ok: false, reason: 'conflict' });
  // The same block A already stored (same msg id, same content) is a harmless duplicate.
  assert.equal(await logA.append('channel1', b1, encodeBlock(b1)), { ok: true });
  // Through its writer, B re-reads the tip and appends its batch as block 2.
  const b2 = await b.append(tx('from B'));
  assert.is(b2.number, 2);
  assert.is(b.conflicts, 1);
  assert.match(say.join('\n'), /refused by the log \(its tip is block 1\)/);
  const chain = await streamChain('channel1', 'twins');
  assert.equal(chain.slice(1).map((x) => new TextDecoder().decode(x.data[0])), ['from A', 'from B']);
});

test('CLI: orderer start, tx (queued, --wait, refused), load; the stream holds every accepted tx', async () => {
  const m: Manifest = writeMaterial(material(), join(dir, 'crypto'));
  const cfg = {
    BatchTimeout: '100ms',
    BatchSize: { MaxMessageCount: 50, PreferredMaxBytes: '512 KB' },
    General: { LocalMSPDir: m.orderer.mspDir, Channels: m.channels.map((c) => ({ name: c.name, genesisBlock: c.genesisBlock })) },
    NATS: { Servers: [server!.url], Prefix: 'cli' },
    Operations: { ListenAddress: '127.0.0.1:0' },
  };
  writeFileSync(join(dir, 'orderer.yaml'), stringify(cfg));
  const o = runCli(['orderer', 'start', '--config', join(dir, 'orderer.yaml')], { ORDERER_BATCHSIZE_ABSOLUTEMAXBYTES: '1 MB' });
  procs.push(o);
  await until(() => /orderer running/.test(o.output()) || o.child.exitCode !== null, 15_000, 'orderer running', 20);
  assert.is(o.child.exitCode, null, o.output());
  assert.match(o.output(), /AbsoluteMaxBytes 1048576 clamped to \d+/, 'clamped below max_payload');

  const nats = ['--nats', server!.url];
  const env = {};
  // The CLI reads the prefix from network.json; with --nats it is the default, so point a network file at `cli`.
  writeFileSync(join(dir, 'network.json'), JSON.stringify({ natsUrl: server!.url, natsPid: null, prefix: 'cli', orderer: null, peers: [] }));
  const data = ['--data', dir];
  const queued = await cli(['tx', '--channel', 'channel1', '--json', ...data, 'hello'], env);
  assert.is(queued.code, 0, queued.out);
  assert.match(JSON.parse(queued.out).txId, /^[0-9a-f]{64}$/);
  const waited = await cli(['tx', '--channel', 'channel1', '--wait', '--json', ...data, 'hello again'], env);
  assert.is(waited.code, 0, waited.out);
  const w = JSON.parse(waited.out);
  assert.ok(w.ok && w.block >= 1, waited.out);
  const refused = await cli(['tx', '--channel', 'nochannel', ...data, 'x'], env);
  assert.is(refused.code, 1);
  assert.match(refused.out, /unknown channel nochannel/);
  const noOrderer = await cli(['tx', '--channel', 'channel1', ...nats, '--timeout', '1s', 'y'], env);
  assert.is(noOrderer.code, 1, 'prefix murmur: nobody serves it');
  assert.match(noOrderer.out, /no orderer/);

  const load = await cli(['load', '--channel', 'channel1', '--rate', '100', '--size', '200', '--duration', '2s', '--json', ...data], env);
  assert.is(load.code, 0, load.out);
  const lines = load.out.trim().split('\n');
  const last = lines.at(-1)!;
  const mm = /^accepted=(\d+) rejected=(\d+)$/.exec(last);
  assert.ok(mm, last);
  assert.ok(Number(mm![1]) >= 150 && Number(mm![2]) === 0, last);
  assert.is(JSON.parse(lines.at(-2)!).accepted, Number(mm![1]));

  // The operations service (Operations.ListenAddress port 0: the URL is in the log).
  const opsUrl = /operations: (http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(o.output())?.[1];
  assert.ok(opsUrl, o.output());
  let samples = parsePrometheus(await (await fetch(`${opsUrl}/metrics`)).text());
  const value = (name: string, labels: Record<string, string> = {}) =>
    samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v))?.value;
  // The load's last batch may still wait for its BatchTimeout.
  await withDeadline(
    (async () => {
      while (value('murmur_orderer_transactions_ordered', { channel: 'channel1' }) !== 2 + Number(mm![1])) {
        await new Promise((r) => setTimeout(r, 50));
        samples = parsePrometheus(await (await fetch(`${opsUrl}/metrics`)).text());
      }
    })(),
    5000,
    'every accepted transaction ordered',
  );
  assert.is(value('murmur_orderer_transactions_accepted'), 2 + Number(mm![1]));
  assert.is(value('murmur_orderer_transactions_rejected', { reason: 'unknown-channel' }), 1);
  assert.ok((value('murmur_orderer_blocks_appended', { channel: 'channel1' }) ?? 0) >= 2);
  assert.is(value('ledger_blockchain_height', { channel: 'channel1' }), 1 + value('murmur_orderer_blocks_appended', { channel: 'channel1' })!);
  assert.ok((value('murmur_orderer_append_seconds_count', { channel: 'channel1' }) ?? 0) >= 2);
  assert.is(value('murmur_nats_connected'), 1);
  const health = await fetch(`${opsUrl}/healthz`);
  assert.is(health.status, 200);
  assert.is(((await health.json()) as { status: string }).status, 'OK');

  o.child.kill('SIGTERM');
  assert.is(await withDeadline(o.exited, 10_000, 'orderer exit'), 0, o.output());
  const chain = await streamChain('channel1', 'cli');
  const txs = chain.slice(1).reduce((n, b) => n + b.data.length, 0);
  assert.is(txs, 2 + Number(mm![1]), 'every accepted transaction is in a block, once');
});

test.run();
