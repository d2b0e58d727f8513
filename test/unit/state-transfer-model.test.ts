// Model check of the state-transfer machine with xstate/graph: every state reachable, `synced` reachable from
// everywhere (no trap), every request goes to a peer that has the whole range, is at most batchSize wide,
// never sent while the buffer is full, at most maxRetries + 1 attempts per batch; shortest paths replayed
// on the live actor emit exactly the requests the graph predicts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createActor, type AnyStateMachine } from 'xstate';
import { getAdjacencyMap, getShortestPaths } from 'xstate/graph';
import { stateTransferMachine, type StateTransferEvent, type StateTransferInput } from '../../machines/state-transfer.machine.ts';
import { SimClock } from '../../runtime/clock.ts';

const BATCH = 10;
const RETRIES = 2;
const input: StateTransferInput = { height: 1, batchSize: BATCH, maxRetries: RETRIES, timings: { checkInterval: 1000, responseTimeout: 300 }, seed: 7 };
type Snap = ReturnType<typeof stateTransferMachine.transition>;

// No peer; two peers with everything; one peer lacking the second batch.
const VIEWS = [[], [{ id: 'a', height: 21 }, { id: 'b', height: 21 }], [{ id: 'a', height: 12 }, { id: 'b', height: 21 }]];
function events(s: Snap): StateTransferEvent[] {
  const c = s.context;
  return [
    { type: 'timeout.check' },
    { type: 'timeout.response' },
    ...VIEWS.map((peers) => ({ type: 'view.changed' as const, peers })),
    { type: 'ledger.advanced', height: 11 },
    { type: 'ledger.advanced', height: 21 },
    { type: 'buffer.level', full: true },
    { type: 'buffer.level', full: false },
    { type: 'response.received', attempt: c.attempt, maxSeq: c.end },
    { type: 'response.received', attempt: c.attempt, maxSeq: Math.min(c.end - 1, c.next + 4) },
    { type: 'response.received', attempt: c.attempt - 1, maxSeq: c.end },
    { type: 'response.invalid', attempt: c.attempt },
    { type: 'gossip.ahead', from: 'a', height: 21 },
    { type: 'gossip.ahead', from: 'z', height: 21 },
  ];
}
// Counters (attempt) and the random state are left out of the key; what decides behaviour stays in.
const key = (s: Snap) => {
  const c = s.context;
  return JSON.stringify([s.value, c.view, c.hints, c.bufferFull, c.height, c.target, c.next, c.end, c.tries, [...c.tried].sort(), c.current]);
};
const logic = stateTransferMachine as unknown as AnyStateMachine;
type Adj = Record<string, { state: unknown; transitions: Record<string, { event: StateTransferEvent; state: unknown }> }>;
let adj: Adj | null = null;
const adjacency = (): Adj => (adj ??= getAdjacencyMap(logic, { input, events: (s) => events(s as Snap), serializeState: (s) => key(s as Snap) }) as unknown as Adj);

test('every state is reachable and synced is reachable from every state', () => {
  const adj = adjacency();
  const nodes = Object.entries(adj);
  const values = new Set(nodes.map(([, n]) => JSON.stringify((n.state as Snap).value)));
  for (const want of ['"synced"', '{"syncing":"requesting"}', '{"syncing":"throttled"}']) assert.ok(values.has(want), `${want} unreachable: ${[...values]}`);
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
  console.log(`    ${nodes.length} states explored`);
});

test('every request: a covering peer, at most batchSize wide, buffer not full, at most maxRetries + 1 tries', () => {
  let sent = 0;
  for (const n of Object.values(adjacency())) {
    const before = (n.state as Snap).context;
    for (const [ek, t] of Object.entries(n.transitions)) {
      const c = (t.state as Snap).context;
      if (c.attempt === before.attempt) continue;
      sent++;
      const peer = c.peers.find((p) => p.id === c.current);
      assert.ok(peer && peer.height > c.end, `request to ${c.current} for ..${c.end} (${ek})`);
      assert.ok(c.next <= c.end && c.end - c.next + 1 <= BATCH, `range ${c.next}..${c.end}`);
      assert.not.ok(c.bufferFull, 'sent while the buffer was full');
      assert.ok(c.tries <= RETRIES + 1, `try ${c.tries}`);
      assert.ok(c.end < c.target, 'never past the target');
    }
  }
  assert.ok(sent > 10, `${sent} requests seen`);
});

test('shortest paths replayed on the live actor emit the requests the graph predicts', () => {
  const paths = getShortestPaths(logic, { input, events: (s) => events(s as Snap), serializeState: (s) => key(s as Snap) });
  assert.ok(paths.length > 20, `${paths.length} paths`);
  // Every path ending in a request, and an even sample of the rest.
  const step = Math.ceil(paths.length / 400);
  for (const p of paths.filter((x, i) => i % step === 0 || x.state.matches({ syncing: 'requesting' }))) {
    const actor = createActor(stateTransferMachine, { input, clock: new SimClock(0) });
    const sent: { to: string; start: number; end: number }[] = [];
    actor.on('request.send', (e) => sent.push({ to: e.to, start: e.start, end: e.end }));
    actor.start();
    for (const step of p.steps.slice(1)) actor.send(step.event as StateTransferEvent);
    const s = actor.getSnapshot();
    assert.equal(s.value, p.state.value);
    assert.is(sent.length, s.context.attempt, 'one request per attempt');
    if (s.matches({ syncing: 'requesting' })) assert.equal(sent.at(-1), { to: s.context.current, start: sent.at(-1)!.start, end: s.context.end });
    actor.stop();
  }
});

test.run();
