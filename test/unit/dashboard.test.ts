// The dashboard without a browser or NATS: the model's timeline derived from successive status samples, its
// bounded history and honest stats, and the HTTP server (static page, CSP, loopback Host check, SSE, state).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { request } from 'node:http';
import { DashboardModel } from '../../runtime/dashboard/model.ts';
import { startDashboard } from '../../runtime/dashboard/server.ts';
import type { StatusRow } from '../../actors/status-row.ts';
import { withDeadline } from '../helpers/deadline.ts';

function row(id: string, over: Partial<StatusRow> = {}): StatusRow {
  const org = id.endsWith('org1') ? 'Org1MSP' : 'Org2MSP';
  return {
    id,
    org,
    channel: 'channel1',
    pid: 100 + Number(id[4]) + (org === 'Org2MSP' ? 10 : 0),
    role: 'follower',
    leaderId: null,
    height: 1,
    tipHash: null,
    state: 'synced',
    members: [],
    natsConnected: true,
    opsUrl: null,
    counters: { blocksFromOrderer: 0, blocksByPush: null, blocksByPull: null, blocksByStateTransfer: null, duplicates: null, rejected: {} },
    blocks: null,
    machines: { election: null, stateTransfer: null, deliver: null },
    storage: null,
    ...over,
  };
}
const model = () => new DashboardModel({ natsUrl: 'nats://x', prefix: 'murmur', intervalMs: 1000, historyLimit: 5 });

test('leader changes per org, peers going silent and coming back, restarts', () => {
  const m = model();
  let u = m.ingest(1, [row('peer0.org1', { role: 'leader' }), row('peer1.org1')]);
  assert.equal(u.events.map((e) => e.kind), ['up', 'up', 'leader']);
  assert.match(u.events[2]!.text, 'peer0.org1 leads (was none)');
  u = m.ingest(2, [row('peer0.org1', { role: 'leader' }), row('peer1.org1')]);
  assert.equal(u.events, [], 'nothing changed, nothing said');
  u = m.ingest(3, [row('peer1.org1')]);
  assert.equal(u.events.map((e) => e.kind), ['gone', 'leader']);
  assert.match(u.events[1]!.text, 'no answering peer leads (was peer0.org1)');
  u = m.ingest(4, [row('peer1.org1', { role: 'leader' })]);
  assert.equal(u.events.map((e) => [e.kind, e.peer]), [['leader', 'peer1.org1']]);
  u = m.ingest(5, [row('peer1.org1', { role: 'leader' }), row('peer0.org1', { pid: 999 })]);
  assert.equal(u.events.map((e) => e.kind), ['back']);
  u = m.ingest(6, [row('peer1.org1', { role: 'leader' }), row('peer0.org1', { pid: 1000 })]);
  assert.equal(u.events.map((e) => e.kind), ['restart']);
  const s = m.snapshot();
  assert.is(s.peers.find((p) => p.id === 'peer0.org1')!.answering, true);
  assert.is(s.peers[0]!.history.length, 5, 'history bounded by historyLimit');
});

test('dead and resurrected from members lists; first sightings are not resurrections', () => {
  const m = model();
  m.ingest(1, [row('peer0.org1', { members: [] }), row('peer1.org1', { members: [] })]);
  let u = m.ingest(2, [row('peer0.org1', { members: ['peer1.org1', 'peer0.org2'] }), row('peer1.org1', { members: ['peer0.org1'] })]);
  assert.equal(u.events.filter((e) => e.kind === 'dead' || e.kind === 'resurrected'), []);
  u = m.ingest(3, [row('peer0.org1', { members: ['peer1.org1'] }), row('peer1.org1', { members: ['peer0.org1'] })]);
  assert.equal(u.events.map((e) => [e.kind, e.peer, e.text]), [['dead', 'peer0.org2', 'peer0.org2 declared dead by peer0.org1']]);
  u = m.ingest(4, [row('peer0.org1', { members: ['peer1.org1', 'peer0.org2'] }), row('peer1.org1', { members: ['peer0.org1'] })]);
  assert.equal(u.events.map((e) => [e.kind, e.peer]), [['resurrected', 'peer0.org2']]);
  // An observer that restarted (new pid) starts with an empty view: no deaths from it.
  u = m.ingest(5, [row('peer0.org1', { pid: 555, members: [] }), row('peer1.org1', { members: ['peer0.org1'] })]);
  assert.equal(u.events.map((e) => e.kind), ['restart']);
});

test('rejections are reported as counter increases by reason; a restarted peer counts from zero', () => {
  const m = model();
  const rej = (pid: number, rejected: Record<string, number>) => row('peer0.org1', { pid, counters: { ...row('peer0.org1').counters, rejected } });
  m.ingest(1, [rej(1, { 'bad-signature': 2 })]);
  let u = m.ingest(2, [rej(1, { 'bad-signature': 5, expired: 1 })]);
  assert.equal(u.events.map((e) => e.text), ['peer0.org1 rejected 3 × bad-signature, 1 × expired']);
  u = m.ingest(3, [rej(2, { expired: 1 })]);
  assert.equal(u.events.map((e) => e.kind), ['restart', 'rejected']);
  assert.equal(u.stats[0]!.rejected, { expired: 1 });
});

test('stats: latency and copies from the peers\' `blocks` figures, n/a (null) while no peer reports them', () => {
  const m = model();
  let u = m.ingest(1, [row('peer0.org1', { counters: { blocksFromOrderer: 10, blocksByPush: null, blocksByPull: null, blocksByStateTransfer: null, duplicates: null, rejected: {} } })]);
  assert.is(u.stats[0]!.copiesPerBlock, null);
  assert.is(u.stats[0]!.latencyMs, null);
  assert.is(u.stats[0]!.blocksBySource.orderer, 10);
  assert.is(u.stats[0]!.blocksBySource.push, null);
  const figs = (window: number, p50: number | null, p99: number | null, copies: number | null) => ({
    window,
    latencyP50Ms: p50,
    latencyP99Ms: p99,
    copiesPerBlock: copies,
    copiesBySource: copies === null ? null : { orderer: 0, push: copies, pull: 0, stateTransfer: 0 },
  });
  // A peer with an empty window (nothing committed since it started) does not count.
  u = m.ingest(2, [row('peer0.org1', { blocks: figs(0, null, null, null) }), row('peer1.org1', { blocks: null })]);
  assert.is(u.stats[0]!.latencyMs, null);
  assert.is(u.stats[0]!.copiesPerBlock, null);
  u = m.ingest(3, [row('peer0.org1', { blocks: figs(10, 5, 9, 1) }), row('peer1.org1', { blocks: figs(30, 40, 120, 3) }), row('peer0.org2', { blocks: null })]);
  assert.equal(u.stats[0]!.latencyMs, { p50: 40, p99: 120, peers: 2 }, 'the slowest peer');
  assert.is(u.stats[0]!.copiesPerBlock, 2.5, '(1 × 10 + 3 × 30) / 40');
  assert.is(u.stats[0]!.copiesPeers, 2);
  const failed = m.fail(4, 'cannot reach NATS');
  assert.equal(failed.events.map((e) => e.kind), ['error']);
  assert.is(m.fail(5, 'cannot reach NATS').events.length, 0, 'the same error is said once');
});

test('expected peers (network.json) show before they answer, on every channel', () => {
  const m = model();
  m.setExpected([
    { id: 'peer0.org1', org: 'Org1MSP', pid: 1 },
    { id: 'peer1.org1', org: 'Org1MSP', pid: 2 },
  ]);
  const u = m.ingest(1, [row('peer0.org1')]);
  assert.equal(u.peers.map((p) => [p.id, p.answering, p.row === null]), [
    ['peer0.org1', true, false],
    ['peer1.org1', false, true],
  ]);
});

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('server: page and assets from the package with a self-only CSP, loopback Host only, SSE snapshot then samples', async () => {
  let n = 0;
  const dash = await startDashboard({ natsUrl: 'nats://127.0.0.1:1', intervalMs: 50, query: async () => [row('peer0.org1', { role: 'leader', height: ++n })] });
  try {
    assert.match(dash.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await get(dash.url);
    assert.is(page.status, 200);
    assert.match(page.body, '<script src="/app.js"');
    assert.not.match(page.body, /https?:\/\//, 'no external URL in the page');
    assert.match(String(page.headers['content-security-policy']), "default-src 'self'");
    for (const f of ['app.js', 'style.css']) assert.is((await get(`${dash.url}${f}`)).status, 200, f);
    assert.is((await get(`${dash.url}../package.json`)).status, 404);
    assert.is((await get(dash.url, { host: 'attacker.example:80' })).status, 421, 'DNS rebinding refused');

    const events: string[] = [];
    await withDeadline(
      new Promise<void>((resolve, reject) => {
        const req = request(`${dash.url}events`, (res) => {
          assert.match(String(res.headers['content-type']), 'text/event-stream');
          res.on('data', (d: Buffer) => {
            for (const m of d.toString().matchAll(/^event: (\w+)$/gm)) events.push(m[1]!);
            if (events.filter((e) => e === 'sample').length >= 2) {
              req.destroy();
              resolve();
            }
          });
        });
        req.on('error', (e) => (events.length ? resolve() : reject(e)));
        req.end();
      }),
      5000,
      'two samples over SSE',
    );
    assert.is(events[0], 'snapshot');
    const state = JSON.parse((await get(`${dash.url}api/state`)).body);
    assert.is(state.peers[0].id, 'peer0.org1');
    assert.ok(state.peers[0].history.length >= 2);
    assert.ok(state.events.some((e: { kind: string }) => e.kind === 'leader'));
  } finally {
    await dash.close();
  }
});

test('server: a failing poll is shown as an error, not as peers gone', async () => {
  const dash = await startDashboard({ natsUrl: 'nats://127.0.0.1:1', intervalMs: 50, query: async () => Promise.reject(new Error('cannot reach NATS at nats://127.0.0.1:1')) });
  try {
    await withDeadline(
      (async () => {
        while (!dash.model.snapshot().error) await new Promise((r) => setTimeout(r, 10));
      })(),
      3000,
      'the error',
    );
    const s = dash.model.snapshot();
    assert.match(s.error!, 'cannot reach NATS');
    assert.equal(s.peers, []);
  } finally {
    await dash.close();
  }
});

test.run();
