// `murmur up` driven from a test (test/integration/up*.test.ts): start it on a data folder, read status rows,
// check every ops endpoint, stop it with SIGINT and check that nothing it started is left.
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, alive, cli, type CliRun } from './cli.ts';
import { until, withDeadline } from './deadline.ts';
import { parsePrometheus, type Sample } from './prometheus.ts';
import type { NetworkFile } from '../../runtime/cli/network-file.ts';
import type { StatusRow } from '../../actors/status-row.ts';

export async function statusRows(dir: string): Promise<StatusRow[]> {
  const r = await cli(['status', '--data', dir, '--json', '--timeout', '700ms']);
  return r.code === 0 ? JSON.parse(r.out) : [];
}

/** Starts `murmur up --data dir ...args`; resolves once network.json is written. */
export async function startUp(dir: string, args: string[]): Promise<{ run: CliRun; net: NetworkFile }> {
  const run = runCli(['up', ...args, '--data', dir]);
  await until(() => /network\.json/.test(run.output()) || run.child.exitCode !== null, 30_000, 'up writing network.json', 50);
  assert.is(run.child.exitCode, null, run.output());
  return { run, net: JSON.parse(readFileSync(join(dir, 'network.json'), 'utf8')) as NetworkFile };
}

/** Status rows once `done(rows)` holds (each status call takes ~0.7 s: no extra sleep needed). */
export async function rowsWhen(dir: string, done: (rows: StatusRow[]) => boolean, ms: number, what: string): Promise<StatusRow[]> {
  return withDeadline(
    (async () => {
      for (;;) {
        const rs = await statusRows(dir);
        if (done(rs)) return rs;
      }
    })(),
    ms,
    what,
  );
}

export const oneLeaderPerOrg = (rs: StatusRow[], peers: number, orgs: number): boolean => {
  const leaders = rs.filter((r) => r.role === 'leader');
  return rs.length === peers && leaders.length === orgs && new Set(leaders.map((l) => l.org)).size === orgs;
};

async function metrics(url: string): Promise<Sample[]> {
  const res = await fetch(`${url}/metrics`);
  assert.is(res.status, 200, `${url}/metrics`);
  return parsePrometheus(await res.text());
}

async function healthy(url: string, who: string): Promise<void> {
  const health = await fetch(`${url}/healthz`);
  const body = (await health.json()) as { status: string };
  assert.is(health.status, 200, `${who} healthy: ${JSON.stringify(body)}`);
  assert.is(body.status, 'OK');
}

/** Every peer's /metrics parses, shows its own height above `minHeight` (and only its own series), and its
 * /healthz is healthy. */
export async function checkPeerOps(net: NetworkFile, minHeight: number): Promise<void> {
  for (const p of net.peers) {
    const samples = await metrics(p.opsUrl!);
    const height = samples.find((s) => s.name === 'gossip_state_height' && s.labels.channel === 'channel1');
    assert.ok(height && height.value > minHeight, `${p.id} gossip_state_height`);
    assert.ok(samples.some((s) => s.name === 'gossip_comm_messages_sent' && s.labels.kind === 'alive'), `${p.id} counts alive messages sent`);
    // Tree dissemination (the default) has links once the org's peers see each other.
    const links = samples.filter((s) => s.name === 'murmur_tree_links' && s.labels.channel === 'channel1').reduce((n, s) => n + s.value, 0);
    assert.ok(links > 0, `${p.id} murmur_tree_links`);
    const foreign = samples.filter((s) => s.labels.peer !== p.id);
    assert.is(foreign.length, 0, `${p.id}'s registry holds another peer's series: ${foreign.slice(0, 3).map((s) => `${s.name}{peer=${s.labels.peer}}`).join(', ')}`);
    await healthy(p.opsUrl!, p.id);
  }
}

/** The orderer's /metrics parses and counts at least `minBlocks` appended blocks; its /healthz is healthy. */
export async function checkOrdererOps(net: NetworkFile, minBlocks: number): Promise<void> {
  const url = net.orderer?.opsUrl;
  assert.ok(url && /^http:\/\/127\.0\.0\.1:\d+$/.test(url), `orderer opsUrl ${url}`);
  const samples = await metrics(url!);
  const value = (name: string) => samples.find((s) => s.name === name && s.labels.channel === 'channel1')?.value ?? 0;
  assert.ok(value('murmur_orderer_blocks_appended') >= minBlocks, `orderer blocks appended ${value('murmur_orderer_blocks_appended')}`);
  assert.ok(value('ledger_blockchain_height') > minBlocks, 'orderer height');
  assert.ok(value('murmur_orderer_append_seconds_count') >= minBlocks, 'append latency observed');
  assert.ok(samples.some((s) => s.name === 'murmur_orderer_transactions_accepted' && s.value > 0), 'transactions accepted');
  assert.is(samples.find((s) => s.name === 'murmur_nats_connected')?.value, 1);
  await healthy(url!, 'orderer');
}

/** SIGINT: exit 0, and no peer, orderer or nats-server process left. */
export async function stopUp(run: CliRun, net: NetworkFile): Promise<void> {
  run.child.kill('SIGINT');
  const code = await withDeadline(run.exited, 20_000, 'up exiting after SIGINT');
  assert.is(code, 0, run.output());
  for (const p of net.peers) assert.not.ok(alive(p.pid!), `peer ${p.id} still alive`);
  assert.not.ok(alive(net.natsPid!), 'nats-server still alive');
  assert.not.ok(alive(net.orderer!.pid), 'orderer still alive');
}

/**
 * A second `up` on the same --data continues the first run's chain: every peer passes `lastHeight` + 2 and no
 * ledger refused a block for a broken link or a wrong number. Stops it.
 */
export async function checkRestartContinues(dir: string, args: string[], lastHeight: number, peers: number): Promise<CliRun> {
  const { run, net } = await startUp(dir, args);
  try {
    assert.match(run.output(), /reusing crypto material/);
    const rs = await rowsWhen(dir, (rs) => rs.length === peers && rs.every((r) => r.height! > lastHeight + 2), 60_000, `heights beyond the first run's ${lastHeight}`);
    for (const r of rs) {
      assert.is(r.counters.rejected['bad-previous-hash'] ?? 0, 0, `${r.id}: ${JSON.stringify(r.counters.rejected)}`);
      assert.is(r.counters.rejected['bad-number'] ?? 0, 0);
    }
  } finally {
    await stopUp(run, net);
  }
  return run;
}
