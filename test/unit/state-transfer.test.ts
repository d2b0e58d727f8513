// State transfer: the pure helpers (table tests) and the machine driven in simulated time.
import { test } from '../helpers/test.ts';
import * as assert from 'uvu/assert';
import { createActor } from 'xstate';
import { candidates, isStraggler, maxHeight, nextRange, rand, servedRange, validateRequest } from '../../machines/state-transfer.logic.ts';
import { stateTransferMachine, syncStateOf, type StateTransferEmitted } from '../../machines/state-transfer.machine.ts';
import { chunkBySize } from '../../machines/chunk.logic.ts';
import { SimClock } from '../../runtime/clock.ts';
import { attemptTimeout, backoffDelay, pickPeer, sampleRtt, STATE_WINDOW_DEFAULTS, stateWindowOf, trim } from '../../machines/state-window.logic.ts';
import { PayloadBuffer } from '../../machines/payload-buffer.logic.ts';
import { CommitGate } from '../../actors/state-transfer-link.ts';
import { rngFromSeed } from '../../runtime/rng.ts';

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

// Fabric's loop (the fabric profile: one request in flight, fixed wait, a new round at the next tick).
function run(opts: { height?: number; maxRetries?: number } = {}) {
  const clock = new SimClock(0);
  const actor = createActor(stateTransferMachine, {
    clock,
    input: { profile: 'fabric', height: opts.height ?? 1, batchSize: 10, maxRetries: opts.maxRetries ?? 3, timings: { checkInterval: 1000, responseTimeout: 300 }, seed: 42 },
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


// --- the window (murmur profile) -------------------------------------------------------------------------

test('window logic: peer choice, trimming, the adaptive wait, backoff, what each profile runs with', () => {
  const peers = [
    { id: 'a', height: 30 },
    { id: 'b', height: 30 },
    { id: 'c', height: 12 },
  ];
  const f = (to: string, start: number, end: number, tried = [to]) => ({ attempt: 1, to, start, end, tries: tried.length, tried });
  // Covering only; least loaded first; not tried before tried; suspects last of all.
  assert.equal(pickPeer(peers, 20, [], [f('a', 1, 10)], 1)?.to, 'b', 'the least loaded covering peer');
  assert.ok(['a', 'b', 'c'].includes(pickPeer(peers, 5, [], [], 1)!.to));
  assert.equal(pickPeer(peers, 20, ['b'], [f('a', 1, 10)], 1)?.to, 'a', 'not tried before less loaded');
  assert.equal(pickPeer(peers, 20, [], [], 1, ['a'])?.to, 'b', 'a suspect is asked last');
  assert.equal(pickPeer(peers, 20, ['b'], [], 1, ['a'])?.to, 'b', 'a suspect after a tried one');
  assert.equal(pickPeer(peers, 20, [], [], 1, ['a', 'b'])?.to !== undefined, true, 'all suspect: still someone');
  assert.is(pickPeer(peers, 30, [], [], 1), null, 'nobody covers it');
  assert.equal(trim([f('a', 1, 10), f('b', 11, 20)], 15), { kept: [f('b', 15, 20, ['b'])], done: [f('a', 1, 10)] });
  // RFC 6298: 1 s before a sample; srtt + 4 rttvar within [min, max]; doubled per repeat at the same peer.
  assert.is(attemptTimeout(null, 200, 3000, f('a', 1, 10)), 1000);
  const est = sampleRtt(sampleRtt(null, 10), 30);
  assert.equal(est, { srtt: 12.5, rttvar: 8.75 });
  assert.is(attemptTimeout(est, 200, 3000, f('a', 1, 10)), 200, 'the floor');
  assert.is(attemptTimeout(est, 20, 3000, f('a', 1, 10)), 48, 'srtt + 4 rttvar');
  assert.is(attemptTimeout(est, 200, 3000, f('b', 1, 10, ['a', 'b'])), 200, 'another peer: a new path, no doubling');
  assert.is(attemptTimeout(est, 200, 3000, f('a', 1, 10, ['a', 'b', 'a'])), 400, 'the same peer again: doubled');
  assert.is(attemptTimeout(est, 200, 300, f('a', 1, 10, ['a', 'a', 'a'])), 300, 'at most responseTimeout');
  assert.equal([1, 2, 3, 4, 5].map((k) => backoffDelay(k, 200, 1000)), [200, 400, 800, 1000, 1000]);
  assert.equal(stateWindowOf('fabric', { batchSize: 10, responseTimeout: 3000 }), { inFlight: 1, batchSize: 10, minResponseTimeout: 3000, retryBackoff: 0 });
  assert.equal(stateWindowOf('murmur', { batchSize: 10, responseTimeout: 3000 }), STATE_WINDOW_DEFAULTS);
  assert.equal(stateWindowOf('murmur', { batchSize: 80, responseTimeout: 100 }), { ...STATE_WINDOW_DEFAULTS, batchSize: 80, minResponseTimeout: 100 }, 'state.batchSize is a floor; the wait at most responseTimeout');
});

function windowed(opts: { inFlight?: number; height?: number } = {}) {
  const clock = new SimClock(0);
  const actor = createActor(stateTransferMachine, {
    clock,
    input: { profile: 'murmur', height: opts.height ?? 1, batchSize: 10, maxRetries: 2, inFlight: opts.inFlight ?? 3, timings: { checkInterval: 10_000, responseTimeout: 3000, minResponseTimeout: 200, retryBackoff: 1000 }, seed: 42 },
  });
  const out: StateTransferEmitted[] = [];
  actor.on('*', (e) => out.push(e as StateTransferEmitted));
  actor.start();
  const requests = () => out.filter((e) => e.type === 'request.send') as Extract<StateTransferEmitted, { type: 'request.send' }>[];
  return { clock, actor, out, requests, at: (ms: number) => clock.advanceTo(ms) };
}

test('murmur: a lagging view starts a window of requests over the covering peers at once; answers in any order', () => {
  const { actor, requests } = windowed();
  actor.send({ type: 'view.changed', peers: [{ id: 'a', height: 101 }, { id: 'b', height: 101 }] });
  assert.equal(requests().map((r) => [r.start, r.end]), [[1, 10], [11, 20], [21, 30]], 'three ranges at once, no tick');
  const to = requests().map((r) => r.to);
  assert.ok(to.includes('a') && to.includes('b'), `spread over both peers: ${to}`);
  // The third range answers first: it leaves the window, the next range goes out; nothing is lost.
  actor.send({ type: 'response.received', attempt: 3, maxSeq: 30, rtt: 5 });
  assert.equal(requests().at(-1)!.start, 31);
  assert.equal(actor.getSnapshot().context.flights.map((f) => f.start), [1, 11, 31]);
  actor.send({ type: 'response.received', attempt: 1, maxSeq: 10, rtt: 5 });
  actor.send({ type: 'response.received', attempt: 2, maxSeq: 20, rtt: 5 });
  assert.equal(actor.getSnapshot().context.flights.map((f) => f.start), [31, 41, 51]);
  assert.ok(actor.getSnapshot().context.flights.length <= 3);
  actor.stop();
});

test('murmur: a lost range goes to another peer after the measured wait, not responseTimeout; its late answer is ignored', () => {
  const { actor, requests, at } = windowed({ inFlight: 2 });
  actor.send({ type: 'view.changed', peers: [{ id: 'a', height: 101 }, { id: 'b', height: 101 }] });
  const [r1, r2] = requests();
  actor.send({ type: 'response.received', attempt: r2!.attempt, maxSeq: 20, rtt: 4 });
  // The first round trip replaced the initial 1 s of the attempt still out: 200 ms (the floor) from now.
  at(199);
  assert.is(requests().filter((r) => r.start === 1).length, 1);
  at(200);
  const again = requests().filter((r) => r.start === 1);
  assert.is(again.length, 2, 'asked again at 200 ms');
  assert.is.not(again[1]!.to, r1!.to, 'of another peer');
  actor.send({ type: 'response.received', attempt: r1!.attempt, maxSeq: 10 });
  assert.ok(actor.getSnapshot().context.flights.some((f) => f.attempt === again[1]!.attempt && f.start === 1), 'the late answer to the old attempt changed nothing');
  actor.stop();
});

test('murmur: a round given up backs off well under checkInterval and starts again from the ledger height', () => {
  const { actor, requests, out, at } = windowed({ inFlight: 1 });
  actor.send({ type: 'view.changed', peers: [{ id: 'a', height: 101 }, { id: 'b', height: 101 }] });
  for (let i = 0; i < 3; i++) actor.send({ type: 'response.invalid', attempt: requests().at(-1)!.attempt });
  assert.equal(out.at(-1), { type: 'round.abandoned', reason: 'retries', next: 1, target: 101 });
  assert.ok(actor.getSnapshot().matches({ syncing: 'backoff' }));
  at(199);
  assert.is(requests().length, 3);
  at(200);
  assert.equal([requests().length, requests().at(-1)!.start], [4, 1], 'a new round after 200 ms (minResponseTimeout), not 10 s');
  for (let i = 0; i < 3; i++) actor.send({ type: 'response.invalid', attempt: requests().at(-1)!.attempt });
  at(599);
  assert.is(requests().length, 6);
  at(600);
  assert.is(requests().length, 7, 'the second backoff in a row: 400 ms');
  actor.stop();
});

test('murmur: a small lag in the view is left to the tree for retryBackoff, then fetched; fabric waits for the tick', () => {
  const { actor, requests, at } = windowed({ height: 95 });
  actor.send({ type: 'view.changed', peers: [{ id: 'a', height: 101 }] });
  at(999);
  assert.is(requests().length, 0, 'a lag of a batch or less: the tree and pull first');
  at(1000);
  assert.equal(requests().map((r) => [r.start, r.end]), [[95, 100]]);
  actor.stop();
  const f = run({ height: 95 });
  f.actor.send({ type: 'view.changed', peers: [{ id: 'a', height: 101 }] });
  f.at(999);
  assert.is(f.requests().length, 0, 'fabric: nothing before the tick');
  f.actor.stop();
});

test('murmur: a full buffer holds new ranges back but not a retry, nor the range at the ledger height', () => {
  const { actor, requests } = windowed({ inFlight: 2 });
  actor.send({ type: 'view.changed', peers: [{ id: 'a', height: 101 }, { id: 'b', height: 101 }] });
  actor.send({ type: 'buffer.level', full: true });
  actor.send({ type: 'response.received', attempt: 2, maxSeq: 20, rtt: 5 });
  assert.is(requests().length, 2, 'no new range while full');
  actor.send({ type: 'response.invalid', attempt: 1 });
  assert.equal(requests().at(-1)!.start, 1, 'the lost range at the bottom is asked again: the buffer waits for it');
  actor.send({ type: 'response.received', attempt: requests().at(-1)!.attempt, maxSeq: 10, rtt: 5 });
  assert.ok(actor.getSnapshot().matches({ syncing: 'throttled' }));
  actor.send({ type: 'ledger.advanced', height: 21 });
  assert.equal(requests().at(-1)!.start, 21, 'the ledger moved to a block nobody asked for: asked even while full');
  actor.stop();
});

test('the payload buffer commits state blocks in order whatever order the window delivers them', () => {
  const b = new PayloadBuffer<number>(1, 20, 4 * 10);
  for (const s of [21, 22, 11, 12, 1, 2]) assert.is(b.push(s, s, 'blocking'), 'accepted');
  assert.equal(b.ready().map((r) => r.seq), [1, 2], 'only the run from the height');
  for (let s = 3; s <= 10; s++) b.push(s, s, 'blocking');
  assert.equal(b.ready().map((r) => r.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  assert.is(b.maxSize, 3 * 20 + 40 + 1, 'the fence leaves room for the blocks in flight');
});


test('commits held back by the binding (CommitGate) change no decision: the same requests, abandons and states as hearing every commit', () => {
  let held = 0;
  for (const profile of ['murmur', 'fabric'] as const) {
    for (let seed = 1; seed <= 40; seed++) {
      const rng = rngFromSeed(seed);
      const clock = new SimClock(0);
      const input = { profile, height: 5, batchSize: 10, maxRetries: 2, inFlight: 3, timings: { checkInterval: 2000, responseTimeout: 600, minResponseTimeout: 200, retryBackoff: 500 }, seed: 7 };
      const every = createActor(stateTransferMachine, { clock, input });
      const gated = createActor(stateTransferMachine, { clock, input });
      const outA: string[] = [];
      const outB: string[] = [];
      every.on('*', (e) => outA.push(JSON.stringify(e)));
      gated.on('*', (e) => outB.push(JSON.stringify(e)));
      every.start();
      gated.start();
      const gate = new CommitGate(gated);
      let height = 5;
      const view: Record<string, number> = { a: 5, b: 5, c: 5 };
      const both = (e: Parameters<CommitGate['send']>[0]) => {
        every.send(e);
        gate.send(e);
      };
      for (let step = 0; step < 300; step++) {
        const op = rng.int(10);
        if (op < 4) {
          height += 1 + rng.int(3);
          every.send({ type: 'ledger.advanced', height });
          const before = gated.getSnapshot().context.height;
          gate.committed(height);
          if (gated.getSnapshot().context.height === before) held++;
        } else if (op < 6) {
          for (const id of Object.keys(view)) if (rng.int(2)) view[id] = Math.max(view[id]!, height - 3 + rng.int(30));
          both({ type: 'view.changed', peers: Object.entries(view).map(([id, h]) => ({ id, height: h })) });
        } else if (op === 6) both({ type: 'gossip.ahead', from: 'abc'[rng.int(3)]!, height: height + rng.int(25) });
        else if (op === 7) both({ type: 'buffer.level', full: rng.int(3) === 0 });
        else if (op === 8) {
          const f = every.getSnapshot().context.flights[0];
          if (f) both({ type: 'response.received', attempt: f.attempt, maxSeq: Math.min(f.end, f.start + rng.int(12)) });
        } else clock.advance(rng.int(1500));
        const where = `${profile} seed ${seed} step ${step}`;
        assert.equal(gated.getSnapshot().value, every.getSnapshot().value, where);
        assert.equal(outB, outA, where);
        assert.equal(gated.getSnapshot().context.flights, every.getSnapshot().context.flights, where);
      }
      every.stop();
      gated.stop();
    }
  }
  assert.ok(held > 300, `commits held back: ${held}`);
});

test.run();
