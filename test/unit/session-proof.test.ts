// SessionTable.whenProven: a bulk reply waits for the requester's proof, bounded; the probe's answer sends the
// answering peer's replies and refuses every other reply waiting on that inbox; nobody answering refuses them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SessionTable } from '../../actors/session.actor.ts';

function table() {
  const t = new SessionTable();
  const probes: string[] = [];
  const log: string[] = [];
  const reply = (peer: string, inbox: string, tag: string) => t.whenProven(peer, inbox, () => log.push(`sent ${tag}`), () => log.push(`refused ${tag}`));
  return { t, probes, log, reply, run: () => t.bindProbe((e) => probes.push(e)) };
}

test('without a running session actor, a reply to an unproven inbox is refused at once', () => {
  const { reply, log } = table();
  reply('a', 'inbox-a', '1');
  assert.equal(log, ['refused 1']);
});

test('a proven inbox is replied to at once; an unproven one after the answer, other claimants refused', () => {
  const { t, reply, log, probes, run } = table();
  run();
  t.proven.set('a', { inbox: 'inbox-a', incNum: 1, at: 0 });
  reply('a', 'inbox-a', 'proven');
  reply('b', 'inbox-b', 'b1');
  reply('liar', 'inbox-b', 'liar');
  assert.equal(log, ['sent proven']);
  assert.equal(probes, ['inbox-b', 'inbox-b']);
  t.proven.set('b', { inbox: 'inbox-b', incNum: 1, at: 0 });
  t.settle('b', 'inbox-b');
  assert.equal(log, ['sent proven', 'sent b1', 'refused liar']);
});

test('bounded: four waiting replies per peer; nobody answering or the actor stopping refuses what waits', () => {
  const { t, reply, log, run } = table();
  run();
  for (let i = 0; i < 6; i++) reply('c', 'inbox-c', `c${i}`);
  assert.equal(log, ['refused c4', 'refused c5']);
  t.settle(null, 'inbox-c');
  assert.equal(log.slice(2), ['refused c0', 'refused c1', 'refused c2', 'refused c3']);
  reply('d', 'inbox-d', 'd');
  t.bindProbe(null);
  assert.equal(log.at(-1), 'refused d');
});

test.run();
