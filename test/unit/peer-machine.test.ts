import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createActor, fromCallback, fromPromise, waitFor } from 'xstate';
import { peerMachine, channelActorId } from '../../machines/peer.machine.ts';
import { channelMachine } from '../../machines/channel.machine.ts';

const election = {
  self: 'aa',
  mode: 'standby' as const,
  profile: 'murmur' as const,
  timings: { startupGracePeriod: 1, membershipSampleInterval: 1, leaderAliveThreshold: 1, leaderElectionDuration: 1 },
  maxLeaderLag: 10,
};
const input = {
  peerId: 'peer0.org1',
  mspId: 'Org1MSP',
  channels: [
    { channel: 'channel1', height: 1, tipHash: 'aa', election },
    { channel: 'channel2', height: 1, tipHash: 'bb', election },
  ],
};

function harness(opts: { startFails?: boolean } = {}) {
  const log: string[] = [];
  const machine = peerMachine.provide({
    actors: {
      start: fromPromise(async () => {
        log.push('start');
        if (opts.startFails) throw new Error('no bus');
      }),
      stop: fromPromise(async () => {
        log.push('stop');
      }),
      session: fromCallback(() => {
        log.push('session up');
        return () => log.push('session down');
      }),
      discovery: fromCallback(() => {}),
      stateInfo: fromCallback(() => {}),
    },
  });
  return { actor: createActor(machine, { input }), log };
}

test('starting → running spawns one child per concern and per channel', async () => {
  const { actor, log } = harness();
  actor.start();
  await waitFor(actor, (s) => s.matches('running'), { timeout: 1000 });
  const kids = Object.keys(actor.getSnapshot().children).sort();
  assert.equal(kids, ['channel:channel1', 'channel:channel2', 'discovery', 'session', 'stateInfo']);
  assert.equal(log, ['start', 'session up']);
  actor.stop();
});

test('channel.leave stops that channel\'s actor and drops it from the context; an unknown channel changes nothing', async () => {
  const { actor } = harness();
  actor.start();
  await waitFor(actor, (s) => s.matches('running'), { timeout: 1000 });
  actor.send({ type: 'channel.leave', channel: 'channel9' });
  assert.equal(actor.getSnapshot().context.channels.map((c) => c.channel), ['channel1', 'channel2']);
  actor.send({ type: 'channel.leave', channel: 'channel1' });
  const s = actor.getSnapshot();
  assert.ok(s.matches('running'));
  assert.equal(s.context.channels.map((c) => c.channel), ['channel2']);
  assert.equal(Object.keys(s.children).sort(), ['channel:channel2', 'discovery', 'session', 'stateInfo']);
  actor.stop();
});

test('peer.stop stops every child, runs stop and ends in the final state', async () => {
  const { actor, log } = harness();
  actor.start();
  await waitFor(actor, (s) => s.matches('running'), { timeout: 1000 });
  actor.send({ type: 'peer.stop' });
  const s = await waitFor(actor, (x) => x.status === 'done', { timeout: 1000 });
  assert.ok(s.matches('stopped'));
  assert.equal(log, ['start', 'session up', 'session down', 'stop']);
  assert.equal(Object.keys(s.children), []);
});

test('a failed start is reported and stop still ends cleanly', async () => {
  const { actor } = harness({ startFails: true });
  actor.start();
  const s = await waitFor(actor, (x) => x.matches('failed'), { timeout: 1000 });
  assert.is(s.context.error, 'no bus');
  actor.send({ type: 'peer.stop' });
  await waitFor(actor, (x) => x.status === 'done', { timeout: 1000 });
});

test('transport status events update natsConnected', async () => {
  const { actor } = harness();
  actor.start();
  await waitFor(actor, (s) => s.matches('running'), { timeout: 1000 });
  actor.send({ type: 'transport.status', connected: true });
  assert.is(actor.getSnapshot().context.natsConnected, true);
  actor.send({ type: 'transport.status', connected: false });
  assert.is(actor.getSnapshot().context.natsConnected, false);
  actor.stop();
});

test('channel machine only moves its height forward', () => {
  const a = createActor(channelMachine, { input: { channel: 'c', height: 5, tipHash: 'x', election } }).start();
  a.send({ type: 'ledger.committed', height: 4, tipHash: 'old' });
  assert.is(a.getSnapshot().context.height, 5);
  a.send({ type: 'ledger.committed', height: 6, tipHash: 'new' });
  assert.equal([a.getSnapshot().context.height, a.getSnapshot().context.tipHash], [6, 'new']);
  assert.is(channelActorId('c'), 'channel:c');
  a.stop();
});

test.run();
