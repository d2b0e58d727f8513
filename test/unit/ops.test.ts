import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Writable } from 'node:stream';
import { parseLoggingSpec, levelFor, createLogs } from '../../runtime/log.ts';
import { PeerMetrics } from '../../runtime/ops/metrics.ts';
import { startOpsServer } from '../../runtime/ops/server.ts';
import { OrdererMetrics } from '../../runtime/ops/orderer-metrics.ts';
import type { AppendedBlock } from '../../runtime/orderer/orderer.ts';
import { Subject } from 'rxjs';
import type { StatusRow } from '../../actors/status-row.ts';
import { parsePrometheus } from '../helpers/prometheus.ts';

test('logging spec: default level, per-module levels, longest prefix wins, bad levels refused', () => {
  const s = parseLoggingSpec('discovery,election=debug:gossip.state=error:warning');
  assert.is(s.default, 'warn');
  assert.is(levelFor(s, 'discovery'), 'debug');
  assert.is(levelFor(s, 'election'), 'debug');
  assert.is(levelFor(s, 'gossip.state'), 'error');
  assert.is(levelFor(s, 'gossip.state.transfer'), 'error');
  assert.is(levelFor(s, 'transport'), 'warn');
  assert.is(parseLoggingSpec(undefined).default, 'info');
  assert.throws(() => parseLoggingSpec('loud'), /unknown level/);
});

test('logs are JSON lines with the module and respect its level', () => {
  const lines: string[] = [];
  const sink = new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) });
  const logs = createLogs({ env: { MURMUR_LOGGING_SPEC: 'election=debug:warn' }, destination: sink });
  logs.module('election').debug('proposal sent');
  logs.module('discovery').info('hidden');
  logs.module('discovery').warn('shown');
  const parsed = lines.map((l) => JSON.parse(l));
  assert.equal(parsed.map((p) => [p.module, p.msg]), [['election', 'proposal sent'], ['discovery', 'shown']]);
});

const row = (over: Partial<StatusRow> = {}): StatusRow => ({
  id: 'peer0.org1',
  org: 'Org1MSP',
  channel: 'channel1',
  pid: 1,
  role: 'leader',
  leaderId: 'peer0.org1',
  height: 42,
  tipHash: 'ab',
  state: 'synced',
  members: ['peer1.org1', 'peer2.org1'],
  natsConnected: true,
  opsUrl: null,
  counters: { blocksFromOrderer: 40, blocksByPush: null, blocksByPull: null, blocksByStateTransfer: 1, duplicates: 0, rejected: { 'bad-signature': 3 } },
  blocks: null,
  machines: { election: null, stateTransfer: null, deliver: null },
  storage: null,
  ...over,
});

test('the default log destination is fd 1 itself: making the logs does not create process.stdout (a pipe stream, ~8 ms of a start)', () => {
  const own = Object.getOwnPropertyDescriptor(process, 'stdout')!;
  let touched = 0;
  Object.defineProperty(process, 'stdout', { ...own, get: () => (touched++, own.get!.call(process)) });
  try {
    createLogs({ env: {} });
  } finally {
    Object.defineProperty(process, 'stdout', own);
  }
  assert.is(touched, 0);
});

test('metrics: Fabric names, values from status, valid Prometheus text', async () => {
  const m = new PeerMetrics({ status: () => [row()], unhandled: () => ({ identity: 4 }) }, { peer: 'peer0.org1', org: 'Org1MSP' });
  m.sent.inc({ kind: 'alive' }, 2);
  m.received.inc({ kind: 'data' });
  const samples = parsePrometheus(await m.text());
  const get = (name: string, labels: Record<string, string> = {}) =>
    samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  assert.is(get('gossip_state_height', { channel: 'channel1' }), 42);
  assert.is(get('gossip_leader_election_leader', { channel: 'channel1' }), 1);
  assert.is(get('gossip_membership_total_peers_known', { channel: 'channel1' }), 2);
  assert.is(get('gossip_comm_messages_sent', { kind: 'alive' }), 2);
  assert.is(get('gossip_comm_messages_received', { kind: 'data' }), 1);
  assert.is(get('murmur_blocks_committed', { source: 'orderer' }), 40);
  assert.is(get('murmur_blocks_committed', { source: 'push' }), undefined, 'unknown counters are not invented');
  assert.is(get('murmur_messages_rejected', { reason: 'bad-signature' }), 3);
  assert.is(get('murmur_nats_connected'), 1);
  assert.is(get('murmur_inbound_unhandled', { kind: 'identity' }), 4);
  assert.ok(samples.every((s) => s.labels.peer === 'peer0.org1'));
});

test('metrics: tree links, missing blocks and events per channel; none in push mode', async () => {
  const tree = [{ channel: 'channel1', eagerLinks: 2, lazyLinks: 5, missing: 1, counters: { graftsSent: 7, prunesSent: 3 } }];
  const m = new PeerMetrics({ status: () => [row()], tree: () => tree }, { peer: 'peer0.org1', org: 'Org1MSP' });
  const samples = parsePrometheus(await m.text());
  const get = (name: string, labels: Record<string, string>) => samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  assert.is(get('murmur_tree_links', { channel: 'channel1', kind: 'eager' }), 2);
  assert.is(get('murmur_tree_links', { channel: 'channel1', kind: 'lazy' }), 5);
  assert.is(get('murmur_tree_missing_blocks', { channel: 'channel1' }), 1);
  assert.is(get('murmur_tree_events', { channel: 'channel1', event: 'graftsSent' }), 7);
  const push = parsePrometheus(await new PeerMetrics({ status: () => [row()] }, { peer: 'p', org: 'o' }).text());
  assert.not.ok(push.some((s) => s.name.startsWith('murmur_tree_')), 'no tree series without a tree');
});

test('ops server: /metrics, /healthz 200 and 503 with the failed check, 404', async () => {
  let natsUp = true;
  const ops = await startOpsServer({ listenAddress: '127.0.0.1:0', metrics: async () => 'x 1\n', checks: [{ name: 'nats', ok: () => natsUp }, { name: 'ledger', ok: () => true }] });
  try {
    assert.match(ops.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const metrics = await fetch(`${ops.url}/metrics`);
    assert.is(metrics.status, 200);
    assert.is(await metrics.text(), 'x 1\n');
    const ok = await fetch(`${ops.url}/healthz`);
    assert.is(ok.status, 200);
    assert.is(((await ok.json()) as { status: string }).status, 'OK');
    natsUp = false;
    const bad = await fetch(`${ops.url}/healthz`);
    assert.is(bad.status, 503);
    assert.equal(((await bad.json()) as { failed_checks: unknown }).failed_checks, [{ component: 'nats', reason: 'check failed' }]);
    assert.is((await fetch(`${ops.url}/nope`)).status, 404);
  } finally {
    await ops.close();
  }
});

test('ops server: an asynchronous check fails when it resolves false, rejects or throws', async () => {
  const ops = await startOpsServer({
    listenAddress: '127.0.0.1:0',
    metrics: async () => '',
    checks: [
      { name: 'stream a', ok: async () => true },
      { name: 'stream b', ok: async () => false },
      { name: 'stream c', ok: () => Promise.reject(new Error('no')) },
      {
        name: 'throws',
        ok: () => {
          throw new Error('no');
        },
      },
    ],
  });
  try {
    const bad = await fetch(`${ops.url}/healthz`);
    assert.is(bad.status, 503);
    assert.equal(((await bad.json()) as { failed_checks: { component: string }[] }).failed_checks.map((f) => f.component), ['stream b', 'stream c', 'throws']);
  } finally {
    await ops.close();
  }
});

test('orderer metrics: appends counted as they happen, submissions and heights read at scrape time', async () => {
  const blocks = new Subject<AppendedBlock>();
  const stats = { accepted: 7, rejected: { 'unknown-channel': 2 } as Record<string, number>, blocks: 0, txs: 0 };
  let connected = true;
  const m = new OrdererMetrics(() => connected);
  m.attach({ blocks$: blocks, stats, channels: () => ['channel1'], height: () => 3, pendingBatches: () => 1 });
  const block = (n: number, txs: number) => ({ number: n, previousHash: new Uint8Array(32), dataHash: new Uint8Array(32), data: Array.from({ length: txs }, () => new Uint8Array(100)), signature: new Uint8Array(64) });
  blocks.next({ channel: 'channel1', block: block(1, 3), appendMs: 4 });
  blocks.next({ channel: 'channel1', block: block(2, 4), appendMs: 30 });
  stats.accepted = 9;
  const samples = parsePrometheus(await m.text());
  const get = (name: string, labels: Record<string, string> = {}) => samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  assert.is(get('murmur_orderer_blocks_appended', { channel: 'channel1' }), 2);
  assert.is(get('murmur_orderer_transactions_ordered', { channel: 'channel1' }), 7);
  assert.is(get('murmur_orderer_transactions_accepted'), 9);
  assert.is(get('murmur_orderer_transactions_rejected', { reason: 'unknown-channel' }), 2);
  assert.is(get('murmur_orderer_batch_transactions_sum', { channel: 'channel1' }), 7);
  assert.is(get('murmur_orderer_batch_bytes_sum', { channel: 'channel1' }), 700);
  assert.is(get('murmur_orderer_append_seconds_count', { channel: 'channel1' }), 2);
  assert.is(get('murmur_orderer_append_seconds_bucket', { channel: 'channel1', le: '0.005' }), 1);
  assert.is(get('ledger_blockchain_height', { channel: 'channel1' }), 3);
  assert.is(get('murmur_orderer_pending_batches', { channel: 'channel1' }), 1);
  assert.is(get('murmur_nats_connected'), 1);
  connected = false;
  assert.ok((await m.text()).includes('murmur_nats_connected 0'));
  // A second instance has its own registry: nothing global is shared.
  assert.not.ok((await new OrdererMetrics(() => true).text()).includes('murmur_orderer_transactions_accepted 9'));
});

test('ops server refuses a malformed listen address', async () => {
  try {
    await startOpsServer({ listenAddress: 'nope', metrics: async () => '', checks: [] });
    assert.unreachable('should refuse');
  } catch (e) {
    assert.match((e as Error).message, /host:port/);
  }
});

test.run();
