import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MembershipTable, compareTime, identitySwitch, mayDisclose, type AliveInfo } from '../../machines/discovery.logic.ts';

const alive = (pki: string, incNum: number, seqNum: number, extra: Partial<AliveInfo> = {}): AliveInfo => ({
  pkiIdHex: pki,
  mspId: 'Org1MSP',
  id: pki,
  endpoint: '',
  internalEndpoint: `${pki}.internal`,
  ts: { incNum, seqNum },
  metadata: new Uint8Array(0),
  notAfter: Number.MAX_SAFE_INTEGER,
  envelope: new Uint8Array([incNum, seqNum]),
  ...extra,
});

test('purge removes a member at once, alive or dead, and keeps its timestamp against replays', () => {
  const t = new MembershipTable();
  t.handleAlive(alive('a', 1, 5), 0);
  t.handleAlive(alive('b', 1, 5), 0);
  t.markDead('b');
  assert.is(t.purge('a', 10, 1000)?.pkiIdHex, 'a');
  assert.is(t.purge('b', 10, 1000)?.pkiIdHex, 'b');
  assert.is(t.size, 0);
  assert.is(t.handleAlive(alive('a', 1, 5), 20), 'replayed');
  assert.is(t.handleAlive(alive('a', 1, 6), 20), 'new');
  assert.is(t.purge('nobody', 10, 1000), undefined);
});

test('identity switch: the holder of a peer name is found under another PKI-ID; a newer incarnation replaces it', () => {
  const t = new MembershipTable();
  t.handleAlive(alive('old', 1, 5, { id: 'peer1.org1' }), 0);
  t.handleAlive(alive('other', 1, 5, { id: 'peer2.org1' }), 0);
  assert.is(t.holderOf({ pkiIdHex: 'new', mspId: 'Org1MSP', id: 'peer1.org1' })?.pkiIdHex, 'old');
  assert.is(t.holderOf({ pkiIdHex: 'old', mspId: 'Org1MSP', id: 'peer1.org1' }), undefined, 'not itself');
  assert.is(t.holderOf({ pkiIdHex: 'new', mspId: 'Org2MSP', id: 'peer1.org1' }), undefined, 'same subject, other org');
  assert.is(identitySwitch({ incNum: 2, seqNum: 1 }, { incNum: 1, seqNum: 9 }), 'replace');
  assert.is(identitySwitch({ incNum: 1, seqNum: 10 }, { incNum: 1, seqNum: 9 }), 'ignore');
  assert.is(identitySwitch({ incNum: 1, seqNum: 1 }, { incNum: 2, seqNum: 1 }), 'ignore');
});

test('PeerTime order: incarnation first, then sequence', () => {
  const table: [number, number, number, number, number][] = [
    [1, 1, 1, 1, 0],
    [1, 2, 1, 1, 1],
    [1, 1, 1, 2, -1],
    [2, 0, 1, 99, 1],
    [1, 99, 2, 0, -1],
  ];
  for (const [ai, as, bi, bs, sign] of table) assert.is(Math.sign(compareTime({ incNum: ai, seqNum: as }, { incNum: bi, seqNum: bs })), sign);
});

test('learn, refresh only on strictly newer, replays change nothing', () => {
  const t = new MembershipTable();
  assert.is(t.handleAlive(alive('a', 1, 1), 0), 'new');
  assert.is(t.handleAlive(alive('a', 1, 1), 10), 'stale');
  assert.is(t.get('a')!.lastSeen, 0, 'an equal timestamp does not refresh liveness');
  assert.is(t.handleAlive(alive('a', 1, 0), 10), 'replayed');
  assert.is(t.handleAlive(alive('a', 1, 2), 20), 'refreshed');
  assert.is(t.get('a')!.lastSeen, 20);
});

test('expiry to dead, resurrection only by a newer alive, restart with a new incarnation', () => {
  const t = new MembershipTable();
  t.handleAlive(alive('a', 1, 5), 0);
  assert.equal(t.expire(25_000, 25_000).length, 0, 'not yet: strictly longer than the timeout');
  assert.equal(t.expire(25_001, 25_000).map((m) => m.pkiIdHex), ['a']);
  assert.is(t.get('a')!.status, 'dead');
  assert.is(t.handleAlive(alive('a', 1, 5), 26_000), 'stale', 'a replay cannot resurrect');
  assert.is(t.get('a')!.status, 'dead');
  assert.is(t.handleAlive(alive('a', 2, 0), 27_000), 'resurrected', 'a restarted peer (newer incarnation) comes back');
  assert.is(t.get('a')!.status, 'alive');
});

test('forget after TTL except protected peers; tombstones block replays until 2 x TTL', () => {
  const t = new MembershipTable();
  t.handleAlive(alive('a', 1, 1), 0);
  t.handleAlive(alive('anchor', 1, 1), 0);
  t.expire(100, 10);
  const removed = t.forget(501, 500, (m) => m.pkiIdHex === 'anchor');
  assert.equal(removed.map((m) => m.pkiIdHex), ['a']);
  assert.is(t.get('anchor')!.status, 'dead', 'anchor kept as dead');
  assert.is(t.handleAlive(alive('a', 1, 1), 600), 'replayed', 'replay after forgetting does not bring it back');
  assert.is(t.handleAlive(alive('a', 1, 2), 600), 'new', 'a genuinely newer alive does');
  t.forget(5000, 500, () => false);
  assert.is(t.size, 0);
});

test('learnDead only for unknown peers', () => {
  const t = new MembershipTable();
  assert.ok(t.learnDead(alive('x', 1, 1), 0));
  assert.is(t.get('x')!.status, 'dead');
  assert.not.ok(t.learnDead(alive('x', 1, 2), 0));
  t.handleAlive(alive('y', 1, 1), 0);
  assert.not.ok(t.learnDead(alive('y', 1, 5), 0));
  assert.is(t.get('y')!.status, 'alive');
});

test('the table is bounded', () => {
  const t = new MembershipTable({ maxMembers: 3, maxTombstones: 2 });
  for (const p of ['a', 'b', 'c', 'd']) t.handleAlive(alive(p, 1, 1), 0);
  assert.is(t.size, 3);
  t.forget(1000, 10, () => false);
  assert.is(t.size, 0);
});

test('disclosure policy (Fabric §3.8)', () => {
  const me = 'A';
  const p = (mspId: string, external: boolean) => ({ mspId, external });
  const rows: [ReturnType<typeof p>, ReturnType<typeof p>, boolean, string][] = [
    [p('A', false), p('A', false), true, 'own org to own org, no endpoints needed'],
    [p('B', true), p('A', true), false, 'org A never hears of org B peers from me (only from B itself)'],
    [p('A', true), p('B', true), true, 'my external peer to an external foreign peer'],
    [p('A', false), p('B', true), false, 'my internal-only peer stays invisible outside my org'],
    [p('A', true), p('B', false), false, 'a foreign peer without external endpoint learns nothing of my peers'],
    [p('B', false), p('B', false), true, "a peer's own org is always disclosed to it"],
    [p('C', true), p('B', true), false, 'org B never learns org C peers through me'],
  ];
  for (const [about, to, want, why] of rows) assert.is(mayDisclose(me, about, to), want, why);
});

test.run();
