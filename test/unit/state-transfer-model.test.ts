// Model check of the state-transfer machine with xstate/graph, in both profiles (murmur: a window of 2 requests,
// backoff, lag timer; fabric: one request, Fabric's loop): every state reachable, `synced` reachable from
// everywhere (no trap); in every state the window holds at most `inFlight` disjoint ranges in order; every
// request goes to a peer that has the whole range, is at most batchSize wide, below the target, a new range
// never while the buffer is full (but the one at the ledger height), at most maxRetries + 1 attempts per range;
// a lost range (timeout or invalid answer) is asked again at once or the round is given up and the next one
// starts from the ledger height; an answer to an attempt no longer in the window changes nothing; shortest paths
// replayed on the live actor emit exactly the requests the graph predicts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createActor, type AnyStateMachine } from 'xstate';
import { getAdjacencyMap, getShortestPaths } from 'xstate/graph';
import { stateTransferMachine, type StateTransferEvent, type StateTransferInput } from '../../machines/state-transfer.machine.ts';
import { SimClock } from '../../runtime/clock.ts';

const BATCH = 5;
const RETRIES = 1;
const WINDOW = 2;
const INPUTS: Record<'murmur' | 'fabric', StateTransferInput> = {
  murmur: { profile: 'murmur', height: 1, batchSize: BATCH, maxRetries: RETRIES, inFlight: WINDOW, timings: { checkInterval: 1000, responseTimeout: 800, minResponseTimeout: 100, retryBackoff: 400 }, seed: 7 },
  fabric: { profile: 'fabric', height: 1, batchSize: BATCH, maxRetries: RETRIES, timings: { checkInterval: 1000, responseTimeout: 800 }, seed: 7 },
};
type Snap = ReturnType<typeof stateTransferMachine.transition>;

// No peer; two peers with everything; one peer lacking the second range.
const VIEWS = [[], [{ id: 'a', height: 11 }, { id: 'b', height: 11 }], [{ id: 'a', height: 6 }, { id: 'b', height: 11 }]];
function events(s: Snap): StateTransferEvent[] {
  const c = s.context;
  const live = c.flights.map((f) => f.attempt);
  // An attempt that is over (answered, retried or dropped with its round), if any was made.
  const over = [...Array(c.attempt).keys()].map((i) => i + 1).filter((a) => !live.includes(a));
  return [
    { type: 'timeout.check' },
    { type: 'timeout.backoff' },
    { type: 'timeout.lag' },
    ...VIEWS.map((peers) => ({ type: 'view.changed' as const, peers })),
    { type: 'ledger.advanced', height: 6 },
    { type: 'ledger.advanced', height: 11 },
    { type: 'buffer.level', full: true },
    { type: 'buffer.level', full: false },
    ...c.flights.flatMap((f): StateTransferEvent[] => [
      { type: 'response.received', attempt: f.attempt, maxSeq: f.end, rtt: 5 },
      // A first chunk (one block) of a range not yet begun.
      ...(f.start < f.end && (f.start - 1) % BATCH === 0 ? [{ type: 'response.received' as const, attempt: f.attempt, maxSeq: f.start }] : []),
      { type: 'response.invalid', attempt: f.attempt },
      { type: 'timeout.response', attempt: f.attempt },
    ]),
    ...(over.length ? [{ type: 'response.received' as const, attempt: over.at(-1)!, maxSeq: 10 }, { type: 'timeout.response' as const, attempt: over.at(-1)! }] : []),
    { type: 'gossip.ahead', from: 'a', height: 11 },
  ];
}
// Attempt numbers enter the key only as what the machine compares them for (whether a flight's peer answered
// a later attempt); counters, the round-trip estimate and the random state are left out: they change delays
// and draws, not what may happen.
const key = (s: Snap) => {
  const c = s.context;
  const flights = c.flights.map((f) => [f.to, f.start, f.end, f.tries, f.tried, (c.answered[f.to] ?? 0) > f.attempt]);
  return JSON.stringify([s.value, c.view, c.hints, c.bufferFull, c.lagArmed, c.height, c.target, c.cursor, flights, [...c.suspects].sort()]);
};
const logic = stateTransferMachine as unknown as AnyStateMachine;
type Adj = Record<string, { state: unknown; transitions: Record<string, { event: StateTransferEvent; state: unknown }> }>;
const adjs: Partial<Record<'murmur' | 'fabric', Adj>> = {};
const adjacency = (p: 'murmur' | 'fabric'): Adj =>
  (adjs[p] ??= getAdjacencyMap(logic, { input: INPUTS[p], events: (s) => events(s as Snap), serializeState: (s) => key(s as Snap) }) as unknown as Adj);

for (const profile of ['murmur', 'fabric'] as const) {
  test(`${profile}: every state is reachable and synced is reachable from every state`, () => {
    const adj = adjacency(profile);
    const nodes = Object.entries(adj);
    const values = new Set(nodes.map(([, n]) => JSON.stringify((n.state as Snap).value)));
    const want = ['"synced"', '{"syncing":"active"}', '{"syncing":"throttled"}', ...(profile === 'murmur' ? ['{"syncing":"backoff"}'] : [])];
    for (const w of want) assert.ok(values.has(w), `${w} unreachable: ${[...values]}`);
    if (profile === 'fabric') assert.not.ok(values.has('{"syncing":"backoff"}'), 'fabric never backs off: the next tick decides');
    for (const [k] of nodes) {
      const seen = new Set([k]);
      const queue = [k];
      let found = (adj[k]!.state as Snap).matches('synced');
      while (!found && queue.length) {
        for (const t of Object.values(adj[queue.shift()!]!.transitions)) {
          const nk = key(t.state as Snap);
          if ((t.state as Snap).matches('synced')) found = true;
          if (!seen.has(nk)) {
            seen.add(nk);
            queue.push(nk);
          }
        }
      }
      assert.ok(found, `trapped: ${k}`);
    }
    console.log(`    ${profile}: ${nodes.length} states explored`);
  });

  test(`${profile}: the window: at most inFlight disjoint ranges in order, each request covered, narrow, below the target, paced by the buffer`, () => {
    const inFlight = INPUTS[profile].inFlight ?? 1;
    let sent = 0;
    let windows = 0;
    for (const n of Object.values(adjacency(profile))) {
      const before = (n.state as Snap).context;
      for (const [ek, t] of Object.entries(n.transitions)) {
        const c = (t.state as Snap).context;
        assert.ok(c.flights.length <= inFlight, `${c.flights.length} in flight (${ek})`);
        if (c.flights.length > 1) windows++;
        for (let i = 1; i < c.flights.length; i++) assert.ok(c.flights[i - 1]!.end < c.flights[i]!.start, `overlap or disorder ${JSON.stringify(c.flights)}`);
        for (const f of c.flights) {
          assert.ok(f.start >= c.height && f.start <= f.end && f.end < c.cursor, `flight ${f.start}..${f.end} at height ${c.height}, cursor ${c.cursor}`);
          assert.ok(f.tries <= RETRIES + 1, `try ${f.tries}`);
        }
        for (const f of c.flights.filter((x) => x.attempt > before.attempt)) {
          sent++;
          const peer = c.peers.find((p) => p.id === f.to);
          assert.ok(peer && peer.height > f.end, `request to ${f.to} for ..${f.end} (${ek})`);
          assert.ok(f.end - f.start + 1 <= BATCH, `range ${f.start}..${f.end}`);
          assert.ok(f.end < c.target, 'never past the target');
          const exempt = profile === 'murmur' && f.start === c.height;
          if (f.tries === 1) assert.ok(!c.bufferFull || exempt, `a new range ${f.start}..${f.end} while the buffer was full (${ek})`);
        }
      }
    }
    assert.ok(sent > 10, `${sent} requests seen`);
    if (inFlight > 1) assert.ok(windows > 0, 'the window held several ranges at once');
  });

  test(`${profile}: a lost range is asked again at once or its round given up; the next round starts at the ledger height`, () => {
    let losses = 0;
    let abandoned = 0;
    for (const n of Object.values(adjacency(profile))) {
      const before = (n.state as Snap).context;
      for (const t of Object.values(n.transitions)) {
        const e = t.event;
        const after = t.state as Snap;
        if (e.type === 'timeout.backoff' && (n.state as Snap).matches({ syncing: 'backoff' }) && after.matches('syncing')) {
          const first = after.context.flights[0];
          assert.ok(!first || first.start === after.context.height, 'a new round asks from the ledger height first');
        }
        if (e.type !== 'timeout.response' && e.type !== 'response.invalid') continue;
        const f = before.flights.find((x) => x.attempt === e.attempt);
        if (!f || !(n.state as Snap).matches({ syncing: 'active' })) continue;
        losses++;
        const again = after.context.flights.find((g) => g.start === f.start && g.end === f.end && g.attempt > f.attempt);
        if (again) {
          assert.is(again.tries, f.tries + 1);
          continue;
        }
        abandoned++;
        assert.ok(f.tries > RETRIES || !before.peers.some((p) => p.height > f.end), `range ${f.start}..${f.end} dropped after ${f.tries} tries`);
        assert.equal(after.context.flights, [], 'a given-up round drops every attempt');
        assert.ok(after.matches(profile === 'murmur' ? { syncing: 'backoff' } : 'synced'), JSON.stringify(after.value));
      }
    }
    assert.ok(losses > 5 && abandoned > 0, `${losses} losses, ${abandoned} rounds given up`);
  });

  test(`${profile}: an answer or a timeout of an attempt no longer in the window changes nothing`, () => {
    let stale = 0;
    for (const n of Object.values(adjacency(profile))) {
      const before = n.state as Snap;
      for (const t of Object.values(n.transitions)) {
        const e = t.event;
        if ((e.type !== 'response.received' && e.type !== 'timeout.response') || before.context.flights.some((f) => f.attempt === e.attempt)) continue;
        stale++;
        assert.equal((t.state as Snap).context, before.context, `${JSON.stringify(e)} in ${JSON.stringify(before.value)}`);
        assert.equal((t.state as Snap).value, before.value);
      }
    }
    assert.ok(stale > 5, `${stale} stale answers`);
  });

  test(`${profile}: shortest paths replayed on the live actor emit the requests the graph predicts`, () => {
    const paths = getShortestPaths(logic, { input: INPUTS[profile], events: (s) => events(s as Snap), serializeState: (s) => key(s as Snap) });
    assert.ok(paths.length > 20, `${paths.length} paths`);
    // Every path ending with requests in flight, and an even sample of the rest.
    const step = Math.ceil(paths.length / 400);
    for (const p of paths.filter((x, i) => i % step === 0 || (x.state as Snap).context.flights.length > 1)) {
      const actor = createActor(stateTransferMachine, { input: INPUTS[profile], clock: new SimClock(0) });
      const sent: { attempt: number; to: string; start: number; end: number }[] = [];
      actor.on('request.send', (e) => sent.push({ attempt: e.attempt, to: e.to, start: e.start, end: e.end }));
      actor.start();
      for (const s of p.steps.slice(1)) actor.send(s.event as StateTransferEvent);
      const s = actor.getSnapshot();
      assert.equal(s.value, p.state.value);
      assert.is(sent.length, s.context.attempt, 'one request per attempt');
      for (const f of s.context.flights) {
        const r = sent.find((x) => x.attempt === f.attempt);
        assert.ok(r && r.to === f.to && r.end === f.end && r.start <= f.start, `flight ${JSON.stringify(f)} was sent as ${JSON.stringify(r)}`);
      }
      actor.stop();
    }
  });
}

test.run();
