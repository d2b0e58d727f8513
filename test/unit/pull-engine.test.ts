// The generic pull engine (machines/pull.logic.ts) and Fabric's algo/pull_test scenarios on a simulated mesh.
import { test } from '../helpers/test.ts';
import * as assert from 'uvu/assert';
import { PullMesh, range } from '../helpers/pull-mesh.ts';
import { PullEngine } from '../../machines/pull.logic.ts';
import { rngFromSeed } from '../../runtime/rng.ts';

const sorted = (s: Set<string>) => [...s].sort((a, b) => Number(a) - Number(b));
const ROUND = 100 + 200 + 10;

test('fabric pull/SelectiveUpdates', () => {
  const m = new PullMesh();
  const p1 = m.add('p1', ['0', '1', '2', '3']);
  m.add('p2', range(0, 8));
  m.pull('p1', ['p2']);
  m.advance(ROUND);
  assert.equal(sorted(p1.items), range(0, 8));
  const requests = m.nodes.get('p2')!.received.filter((x) => x.t === 'request');
  assert.is(requests.length, 1);
  assert.equal(requests[0]!.t === 'request' && [...requests[0]!.ids].sort(), ['4', '5', '6', '7'], 'only the missing items were asked for');
});

test('fabric pull/ByzantineResponder', () => {
  const m = new PullMesh();
  const p1 = m.add('p1');
  m.add('p2', ['1', '2', '3']);
  const p3 = m.add('p3', ['1', '2', '3']);
  // p3 answers p1's hello with a digest under a nonce it was never given, sends updates under nonces it was
  // never given (in the digest window and in the response window), and pads its genuine update with an item
  // nobody asked it for.
  const stolen = () => (p3.received.find((x) => x.t === 'hello')?.nonce ?? 0) + 1;
  m.onSend = (from, msg) => {
    if (from !== 'p3') return msg;
    if (msg.t === 'digest') {
      m.inject('p3', { t: 'digest', to: 'p1', nonce: stolen(), ids: ['5', '6', '7'] });
      m.inject('p3', { t: 'update', to: 'p1', nonce: stolen(), ids: ['5'] });
    }
    if (msg.t === 'update') return { ...msg, ids: [...msg.ids, '8'] };
    return msg;
  };
  m.clock.setTimeout(() => m.inject('p3', { t: 'update', to: 'p1', nonce: stolen(), ids: ['6', '7'] }), 150);
  m.pull('p1', ['p2', 'p3']);
  m.advance(ROUND);
  for (const bad of ['5', '6', '7', '8']) assert.not.ok(p1.items.has(bad), `item ${bad} from the byzantine peer`);
  assert.ok(p1.verdicts.includes('unknown-nonce'), p1.verdicts.join());
  assert.ok(p1.verdicts.includes('window-closed'), p1.verdicts.join());
  // Whatever p3 was asked for came back with a foreign item and was dropped whole; p2's answer stands.
  const fromP2 = p1.received.filter((x) => x.t === 'update' && x.from === 'p2').flatMap((x) => (x.t === 'update' ? x.ids : []));
  assert.equal(sorted(p1.items), [...fromP2].sort());
  // A round from p2 alone completes it.
  m.onSend = (_f, msg) => msg;
  m.pull('p1', ['p2']);
  m.advance(ROUND);
  assert.equal(sorted(p1.items), ['1', '2', '3']);
});

test('fabric pull/MultipleInitiators', () => {
  const m = new PullMesh();
  const ps = ['p1', 'p2', 'p3'].map((id) => m.add(id));
  m.add('p4', range(0, 10));
  for (const p of ps) m.pull(p.id, ['p4']);
  m.advance(ROUND);
  for (const p of ps) assert.equal(sorted(p.items), range(0, 10), p.id);
});

test('pull engine: a peer whose digest misses the window is asked for nothing (pull/LatePeers on the engine alone; the port runs on real peers)', () => {
  const m = new PullMesh();
  const p1 = m.add('p1');
  m.add('p2', range(0, 10));
  const p3 = m.add('p3', range(0, 10));
  p3.slowMs = 1000;
  m.pull('p1', ['p2', 'p3']);
  m.advance(ROUND);
  assert.equal(sorted(p1.items), range(0, 10), 'everything from the peer that answered in time');
  m.advance(2000);
  assert.is(p3.received.filter((x) => x.t === 'request').length, 0, 'the late peer was asked for nothing');
});

test('fabric pull/BiDiUpdates', () => {
  const m = new PullMesh();
  const p1 = m.add('p1', range(0, 5));
  const p2 = m.add('p2', range(5, 10));
  m.pull('p1', ['p2']);
  m.pull('p2', ['p1']);
  m.advance(ROUND);
  assert.equal(sorted(p1.items), range(0, 10));
  assert.equal(sorted(p2.items), range(0, 10));
});

test('fabric pull/Spread', () => {
  const m = new PullMesh();
  const p1 = m.add('p1');
  for (const id of ['p2', 'p3', 'p4', 'p5']) m.add(id, range(0, 100));
  m.pull('p1', ['p2', 'p3', 'p4']);
  m.advance(ROUND);
  const asked = (id: string) => m.nodes.get(id)!.received.filter((x) => x.t === 'request').flatMap((x) => (x.t === 'request' ? x.ids : []));
  for (const id of ['p2', 'p3', 'p4']) assert.ok(asked(id).length > 0, `${id} was never chosen`);
  assert.is(asked('p5').length, 0, 'a peer not pulled from is asked for nothing');
  const all = ['p2', 'p3', 'p4'].flatMap(asked);
  assert.is(all.length, 100, 'each item asked of exactly one advertiser');
  assert.is(new Set(all).size, 100);
  assert.equal(sorted(p1.items), range(0, 100));
});

test('fabric pull/Filter', () => {
  const m = new PullMesh();
  const p1 = m.add('p1');
  const p2 = m.add('p2', range(0, 10));
  p2.allow = (peer, id) => peer !== 'p1' || Number(id) % 2 === 0;
  m.pull('p1', ['p2']);
  m.advance(ROUND);
  assert.equal(sorted(p1.items), ['0', '2', '4', '6', '8']);
  const digest = p1.received.find((x) => x.t === 'digest');
  assert.ok(digest && digest.t === 'digest' && digest.ids.every((i) => Number(i) % 2 === 0), 'the digest is filtered too');
});

test('windows: digests after digestWaitTime and updates after responseWaitTime are ignored; requests need a remembered hello', () => {
  const timings = { digestWaitTime: 100, requestWaitTime: 200, responseWaitTime: 200 };
  const e = new PullEngine({ digests: () => ['a'], wants: () => true }, rngFromSeed('w'), timings);
  const { round, out } = e.startRound(['x', 'y']);
  assert.is(out.length, 2);
  const [hx, hy] = out as { nonce: number }[];
  assert.ok(e.onDigest('x', hx!.nonce, ['1', '2']));
  assert.not.ok(e.onDigest('y', hx!.nonce, ['9']), "another peer's nonce");
  assert.not.ok(e.onUpdate('x', hx!.nonce, ['1']) === 'accepted', 'no update before the requests');
  const reqs = e.endDigests(round);
  assert.equal(reqs, [{ t: 'request', to: 'x', nonce: hx!.nonce, ids: ['1', '2'] }]);
  assert.not.ok(e.onDigest('y', hy!.nonce, ['3']), 'digest window closed');
  assert.is(e.onUpdate('y', hy!.nonce, ['1']), 'unknown-nonce', 'nothing was asked of y');
  assert.is(e.onUpdate('x', hx!.nonce, ['1', '3']), 'foreign-items');
  assert.is(e.onUpdate('x', hx!.nonce, ['2']), 'accepted');
  e.endRound(round);
  assert.is(e.onUpdate('x', hx!.nonce, ['1']), 'window-closed');
  assert.equal(e.endDigests(round), [], 'a stale timer does nothing');
  // Responder side.
  assert.equal(e.onHello('z', 7, 1000), { t: 'digest', to: 'z', nonce: 7, ids: ['a'] });
  assert.equal(e.onRequest('z', 7, ['a', 'b'], 1100), { t: 'update', to: 'z', nonce: 7, ids: ['a'] });
  assert.is(e.onRequest('q', 7, ['a'], 1100), null, 'a nonce is bound to the peer that sent the hello');
  assert.is(e.onRequest('z', 8, ['a'], 1100), null, 'unknown nonce');
  assert.is(e.onRequest('z', 7, ['a'], 1201), null, 'forgotten after requestWaitTime');
});

test('bounded: remembered hellos and advertised ids', () => {
  const e = new PullEngine({ digests: () => [], wants: () => true }, rngFromSeed('b'), { digestWaitTime: 1, requestWaitTime: 1e9, responseWaitTime: 1 }, { maxRemembered: 3, maxAdvertised: 5 });
  for (let n = 1; n <= 10; n++) e.onHello('p', n, 0);
  assert.is(e.onRequest('p', 1, ['a'], 0), null, 'the oldest hellos were forgotten');
  const { round, out } = e.startRound(['x']);
  e.onDigest('x', (out[0] as { nonce: number }).nonce, range(0, 100));
  const reqs = e.endDigests(round);
  assert.is(reqs[0]!.t === 'request' && reqs[0]!.ids.length, 5);
});

test.run();
