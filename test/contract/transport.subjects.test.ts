// The subject table: builders, validation, parsing and NATS wildcard matching (used by the memory network).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  describeSubjects,
  isPublishSubject,
  isSafeEndpoint,
  isSafePrefix,
  isSafeToken,
  isSubscribeSubject,
  parseSubject,
  subjectMatches,
  subjects,
} from '../../runtime/transport/subjects.ts';

test('builders under the default prefix', () => {
  const s = subjects();
  assert.is(s.prefix, 'murmur');
  assert.is(s.inbox('peer0.org1'), 'murmur.inbox.peer0.org1');
  assert.is(s.org('Org1MSP', 'channel1'), 'murmur.org.Org1MSP.channel1');
  assert.is(s.channel('channel1'), 'murmur.chan.channel1');
  assert.is(s.discoveryOrg('Org1MSP'), 'murmur.disc.org.Org1MSP');
  assert.is(s.discoveryExternal(), 'murmur.disc.ext');
  assert.is(s.status(), 'murmur.status');
  assert.is(s.ordererTx('channel1'), 'murmur.orderer.channel1.tx');
  assert.is(s.blocks('channel1'), 'murmur.blocks.channel1');
  assert.is(s.blockStream('channel1'), 'MURMUR_BLOCKS_channel1');
});

test('a custom, dotted prefix; stream names have no dots', () => {
  const s = subjects('net-a.murmur');
  assert.is(s.inbox('p:7051'), 'net-a.murmur.inbox.p:7051');
  assert.is(s.blockStream('ch'), 'NET-A_MURMUR_BLOCKS_ch');
  assert.throws(() => subjects('bad prefix'), /unsafe NATS subject prefix/);
  assert.throws(() => subjects('a.*'), /unsafe NATS subject prefix/);
  assert.throws(() => subjects(''), /unsafe NATS subject prefix/);
});

test('unsafe input throws a clear error', () => {
  const s = subjects();
  assert.throws(() => s.inbox('a b'), /unsafe endpoint.*"a b"/);
  assert.throws(() => s.inbox('a.*'), /unsafe endpoint/);
  assert.throws(() => s.inbox('a.>'), /unsafe endpoint/);
  assert.throws(() => s.inbox('a..b'), /unsafe endpoint/);
  assert.throws(() => s.inbox('.a'), /unsafe endpoint/);
  assert.throws(() => s.inbox('x'.repeat(129)), /at most 128/);
  assert.throws(() => s.org('Org1.MSP', 'c'), /unsafe MSP id/);
  assert.throws(() => s.channel('my.channel'), /unsafe channel/);
  assert.throws(() => s.blockStream('c*'), /unsafe channel/);
  assert.throws(() => s.ordererTx(''), /unsafe channel/);
});

test('isSafeToken / isSafeEndpoint', () => {
  assert.ok(isSafeToken('Org1MSP'));
  assert.ok(isSafeToken('a_b-c'));
  assert.not.ok(isSafeToken('a.b'));
  assert.not.ok(isSafeToken('a:b'));
  assert.not.ok(isSafeToken(''));
  assert.not.ok(isSafeToken(undefined));
  assert.ok(isSafeEndpoint('peer0.org1.example.com:7051'));
  assert.ok(isSafeEndpoint('x'.repeat(128)));
  assert.not.ok(isSafeEndpoint('x'.repeat(129)));
  assert.not.ok(isSafeEndpoint('peer0.org1.'));
  assert.not.ok(isSafeEndpoint('peer\t0'));
  assert.not.ok(isSafeEndpoint('peer0\n'));
  assert.not.ok(isSafeEndpoint('*'));
  assert.not.ok(isSafeEndpoint(''));
  assert.not.ok(isSafeEndpoint('.peer0'));
  assert.not.ok(isSafeEndpoint('peer0..org1'));
});

test('isSafePrefix / isPublishSubject: dot-separated tokens, none empty, no wildcard or whitespace', () => {
  for (const ok of ['murmur', 'net-1.murmur_x']) assert.ok(isSafePrefix(ok), ok);
  for (const bad of ['', '.m', 'm.', 'm..n', 'm.*', 'm n', 'm:n', 'm\n', undefined]) assert.not.ok(isSafePrefix(bad), String(bad));
  for (const ok of ['murmur.inbox.peer0.org1:7051', 'a']) assert.ok(isPublishSubject(ok), ok);
  for (const bad of ['', 'a.', '.a', 'a..b', 'a.*', 'a.>', 'a b', 'a\tb', 'a.b\n', 7]) assert.not.ok(isPublishSubject(bad), String(bad));
});

test('parseSubject inverts every builder', () => {
  const s = subjects('m');
  assert.equal(parseSubject(s.inbox('peer1.org2'), 'm'), { kind: 'inbox', endpoint: 'peer1.org2' });
  assert.equal(parseSubject(s.org('O', 'c'), 'm'), { kind: 'org', mspId: 'O', channel: 'c' });
  assert.equal(parseSubject(s.channel('c'), 'm'), { kind: 'channel', channel: 'c' });
  assert.equal(parseSubject(s.discoveryOrg('O'), 'm'), { kind: 'discoveryOrg', mspId: 'O' });
  assert.equal(parseSubject(s.discoveryExternal(), 'm'), { kind: 'discoveryExternal' });
  assert.equal(parseSubject(s.status(), 'm'), { kind: 'status' });
  assert.equal(parseSubject(s.ordererTx('c'), 'm'), { kind: 'ordererTx', channel: 'c' });
  assert.equal(parseSubject(s.blocks('c'), 'm'), { kind: 'blocks', channel: 'c' });
  assert.equal(parseSubject(s.ordererHeight('c'), 'm'), { kind: 'ordererHeight', channel: 'c' });
  assert.equal(parseSubject(s.deliver('c', 'peer0_org1'), 'm'), { kind: 'deliver', channel: 'c', token: 'peer0_org1' });
  assert.is(parseSubject('m.deliver.c', 'm'), null);
  assert.is(parseSubject('m.orderer.c.other', 'm'), null);
  assert.throws(() => s.deliver('c', 'a.b'), /unsafe inbox token/);
  assert.is(parseSubject('other.inbox.x', 'm'), null);
  assert.is(parseSubject('m.org.O', 'm'), null);
  assert.is(parseSubject('m.weird', 'm'), null);
});

test('subjectMatches follows NATS wildcards', () => {
  assert.ok(subjectMatches('a.b.c', 'a.b.c'));
  assert.ok(subjectMatches('a.*.c', 'a.b.c'));
  assert.not.ok(subjectMatches('a.*', 'a.b.c'));
  assert.ok(subjectMatches('a.>', 'a.b.c'));
  assert.ok(subjectMatches('a.>', 'a.b'));
  assert.not.ok(subjectMatches('a.>', 'a'));
  assert.not.ok(subjectMatches('a.b', 'a.b.c'));
  assert.not.ok(subjectMatches('a.b.c', 'a.b'));
  assert.ok(isSubscribeSubject('murmur.org.*.channel1'));
  assert.ok(isSubscribeSubject('murmur.>'));
  assert.not.ok(isSubscribeSubject('murmur.>.x'));
  assert.not.ok(isSubscribeSubject('murmur..x'));
});

test('describeSubjects lists every class once, under the prefix', () => {
  const rows = describeSubjects('murmur');
  assert.is(rows.length, 11);
  assert.is(new Set(rows.map((r) => r.subject)).size, rows.length);
  assert.ok(rows.every((r) => r.purpose.length > 10));
  assert.ok(rows.filter((r) => r.kind === 'subject').every((r) => r.subject.startsWith('murmur.')));
  assert.equal(rows.find((r) => r.kind === 'stream')?.subject, 'MURMUR_BLOCKS_<channel>');
});

test.run();
