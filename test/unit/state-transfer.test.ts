// State transfer: the pure helpers (table tests) and the machine driven in simulated time.
import { test } from '../helpers/test.ts';
import * as assert from 'uvu/assert';
import { createActor } from 'xstate';
import { candidates, isStraggler, maxHeight, nextRange, rand, servedRange, validateRequest } from '../../machines/state-transfer.logic.ts';
import { stateTransferMachine, syncStateOf, type StateTransferEmitted } from '../../machines/state-transfer.machine.ts';
import { chunkBySize } from '../../machines/chunk.logic.ts';
import { SimClock } from '../../runtime/clock.ts';

test('fabric state/TestStateRequestValidator', () => {
  assert.equal(validateRequest(10, 5, 10), { ok: false, reason: 'state-request-order' });
  assert.equal(validateRequest(10, 30, 10), { ok: false, reason: 'state-request-width' });
  assert.equal(validateRequest(10, 20, 10), { ok: true });
  assert.equal(validateRequest(10, 10, 10), { ok: true });
});

test('fabric state/TestStraggler', () => {
  const base = { stateEnabled: false, useLeaderElection: true, orgLeader: false, seq: 300, height: 100 };
  const rows: [Partial<typeof base>, boolean][] = [
    [{}, true], // election, state transfer off, 200 behind
    [{ useLeaderElection: false, orgLeader: false }, true], // neither flag: depends on others
    [{ useLeaderElection: false, orgLeader: true }, false], // a static leader reads the orderer itself
    [{ seq: 105 }, false], // not far enough behind
    [{ stateEnabled: true }, false], // state transfer will catch it up
  ];
  for (const [over, want] of rows) assert.is(isStraggler({ ...base, ...over }), want, JSON.stringify(over));
});

test('ranges: batchSize blocks at a time, never past target − 1; served range clipped to the height', () => {
  assert.equal(nextRange(1, 100, 10), { start: 1, end: 10 });
  assert.equal(nextRange(95, 100, 10), { start: 95, end: 99 });
  assert.is(nextRange(100, 100, 10), null);
  assert.equal(servedRange(5, 14, 10), { start: 5, end: 9 });
  assert.is(servedRange(10, 14, 10), null);
  assert.equal(servedRange(0, 3, 100), { start: 0, end: 3 });
});

test('state transfer candidates: only peers whose advertised height covers the range', () => {
  // A peer with no StateInfo is not in the channel view at all (test/sim/fabric-dissemination.test.ts,
  // state/TestLedgerHeightFromProperties).
  const peers = [
    { id: 'a', height: 5 },
    { id: 'b', height: 11 },
    { id: 'c', height: 20 },
  ];
  assert.equal(candidates(peers, 10, []), ['b', 'c']);
  assert.equal(candidates(peers, 10, ['b']), ['c'], 'another peer after a failure');
  assert.equal(candidates(peers, 10, ['b', 'c']), ['b', 'c'], 'all tried: any covering peer again');
  assert.equal(candidates(peers, 25, []), []);
  assert.is(maxHeight(peers), 20);
  assert.is(maxHeight([]), 0);
});

test('chunking by bytes keeps order and refuses only items that can never fit', () => {
  const items = [10, 10, 10, 50, 200, 10];
  const { chunks, oversized } = chunkBySize(items, (x) => x, 60, 0);
  assert.equal(chunks, [[10, 10, 10], [50, 10]]);
  assert.equal(oversized, [200]);
  assert.equal(chunkBySize([], (x: number) => x, 10).chunks, []);
});

test('xorshift: deterministic, never stuck at zero', () => {
  assert.equal(rand(1), rand(1));
  let s = 0;
  const seen = new Set<number>();
  for (let i = 0; i < 100; i++) {
    const r = rand(s);
    assert.ok(r.state !== 0);
    seen.add(r.value % 7);
    s = r.state;
  }
  assert.is(seen.size, 7);
});

function run(opts: { height?: number; maxRetries?: number } = {}) {
  const clock = new SimClock(0);
  const actor = createActor(stateTransferMachine, {
    clock,
    input: { height: opts.height ?? 1, batchSize: 10, maxRetries: opts.maxRetries ?? 3, timings: { checkInterval: 1000, responseTimeout: 300 }, seed: 42 },
  });
  const out: StateTransferEmitted[] = [];
  actor.on('*', (e) => out.push(e as StateTransferEmitted));
  actor.start();
  const requests = () => out.filter((e) => e.type === 'request.send') as Extract<StateTransferEmitted, { type: 'request.send' }>[];
  return { clock, actor, out, requests, at: (ms: number) => clock.advanceTo(ms) };
}

test('synced → syncing on the check tick when the view is ahead; ranges of batchSize; synced when caught up', () => {
  const { actor, requests, at } = run();
  actor.send({ type: 'view.changed', peers: [{ id: 'a', height: 25 }] });
  assert.is(syncStateOf(actor.getSnapshot()), 'synced', 'nothing before the tick');
  at(1000);
  assert.is(syncStateOf(actor.getSnapshot()), 'syncing');
  assert.equal(requests().map((r) => [r.to, r.start, r.end]), [['a', 1, 10]]);
  actor.send({ type: 'response.received', attempt: requests()[0]!.attempt, maxSeq: 10 });
  assert.equal(requests().at(-1), { type: 'request.send', attempt: 2, to: 'a', start: 11, end: 20 });
  // A response in two chunks: the first only moves `next`, the range stays in flight.
  actor.send({ type: 'response.received', attempt: 2, maxSeq: 15 });
  assert.is(requests().length, 2);
  actor.send({ type: 'response.received', attempt: 2, maxSeq: 20 });
  assert.equal(requests().at(-1)!.start, 21);
  assert.equal(requests().at(-1)!.end, 24, 'never past the target');
  actor.send({ type: 'ledger.advanced', height: 25 });
  assert.is(syncStateOf(actor.getSnapshot()), 'synced');
  actor.stop();
});

test('timeouts and invalid responses go to another peer; maxRetries + 1 attempts, then the round is abandoned', () => {
  const { actor, requests, out, at } = run({ maxRetries: 2 });
  actor.send({ type: 'view.changed', peers: [{ id: 'a', height: 30 }, { id: 'b', height: 30 }, { id: 'c', height: 5 }] });
  at(1000);
  const first = requests()[0]!;
  at(1300);
  const second = requests()[1]!;
  assert.is.not(second.to, first.to, 'another peer after a timeout');
  assert.ok(['a', 'b'].includes(second.to), 'never a peer that lacks the range');
  actor.send({ type: 'response.received', attempt: first.attempt, maxSeq: 10 });
  assert.is(requests().length, 2, 'a late answer to an old attempt is ignored');
  actor.send({ type: 'response.invalid', attempt: second.attempt });
  assert.is(requests().length, 3);
  at(1700);
  assert.is(requests().length, 3);
  assert.is(syncStateOf(actor.getSnapshot()), 'synced');
  assert.equal(out.at(-1), { type: 'round.abandoned', reason: 'retries', next: 1, target: 30 });
  at(2000);
  assert.is(requests().length, 4, 'the next tick starts a new round');
  actor.stop();
});

test('murmur: a gossip hint (a gap behind an originator\'s block) starts a round at once; fabric waits for the tick', () => {
  for (const profile of ['murmur', 'fabric'] as const) {
    const clock = new SimClock(0);
    const actor = createActor(stateTransferMachine, {
      clock,
      input: { profile, height: 10, batchSize: 10, maxRetries: 3, timings: { checkInterval: 1000, responseTimeout: 300 }, seed: 1 },
    }).start();
    const sent: string[] = [];
    actor.on('request.send', (e) => sent.push(`${e.to}:${e.start}-${e.end}`));
    actor.send({ type: 'view.changed', peers: [{ id: 'leader', height: 10 }, { id: 'other', height: 10 }] });
    actor.send({ type: 'gossip.ahead', from: 'stranger', height: 40 });
    assert.equal(sent, [], `${profile}: a hint from a peer outside the view is ignored`);
    actor.send({ type: 'gossip.ahead', from: 'leader', height: 35 });
    if (profile === 'murmur') assert.equal(sent, ['leader:10-19'], 'at once, from the peer the hint names');
    else assert.equal(sent, [], 'fabric: hints are ignored');
    // StateInfo catching up with the hint retires it.
    actor.send({ type: 'view.changed', peers: [{ id: 'leader', height: 36 }, { id: 'other', height: 10 }] });
    assert.equal(actor.getSnapshot().context.hints, {});
    actor.stop();
  }
});

test('no peer covers the range → abandoned; a full buffer throttles requests until it drains', () => {
  const { actor, requests, out, at } = run({ height: 10 });
  actor.send({ type: 'view.changed', peers: [{ id: 'a', height: 12 }] });
  actor.send({ type: 'buffer.level', full: true });
  at(1000);
  assert.ok(actor.getSnapshot().matches({ syncing: 'throttled' }));
  assert.is(requests().length, 0);
  actor.send({ type: 'buffer.level', full: false });
  assert.equal(requests().map((r) => [r.start, r.end]), [[10, 11]]);
  actor.send({ type: 'view.changed', peers: [] });
  actor.send({ type: 'response.invalid', attempt: requests()[0]!.attempt });
  assert.equal(out.at(-1), { type: 'round.abandoned', reason: 'no-peer', next: 10, target: 12 });
  actor.stop();
});

test.run();
