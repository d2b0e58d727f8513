// State transfer (anti-entropy) for one channel: Fabric's gossip/state loop (digest §5.4) as a machine, with a
// window of range requests in flight.
//
//   every checkInterval (timeout.check):
//     synced:  max height in the channel view > own height → syncing (target := that max, cursor := own height)
//   syncing.active — the window (machines/state-window.logic.ts):
//     fill:       while fewer than `inFlight` flights, the buffer is not over its high-water mark (murmur: or
//                 the range starts at the ledger height: the buffer may be waiting for just that one) and
//                 cursor < target: range := [cursor, min(target−1, cursor+batchSize−1)]; peer := one whose
//                 height covers it, not suspect, least loaded, at random → request.send(attempt, to, range), its own
//                 timer timeout.response(attempt) after attemptTimeout; cursor := range end + 1.
//                 No covering peer and nothing in flight → the round is abandoned ('no-peer').
//     response.received(attempt, maxSeq, rtt?): that flight's start := maxSeq+1 (a chunk; the actor verified
//                 and enqueued it); range complete → the flight leaves the window, else its timer is re-armed
//                 (the first round trip measured re-arms every flight out, which waited on the initial 1 s).
//     response.invalid(attempt) | timeout.response(attempt): the same remaining range at once to another peer
//                 (tried ones last; murmur: peers whose last attempt failed, until they answer, even later),
//                 the wait doubled if it is the same peer again — also while throttled, because the blocks already
//                 buffered behind this range cannot commit until it arrives; tries > maxRetries, or no
//                 covering peer → the round is abandoned ('retries' | 'no-peer').
//     ledger.advanced(height): flights trimmed to what the ledger lacks (blocks also come by push and pull).
//     nothing in flight and cursor ≥ target → synced (murmur: once the ledger got there; a tick that finds it
//       still short, a buffered block having been refused, starts the round again);
//     nothing in flight, buffer full → throttled.
//   syncing.throttled: buffer.level(full=false) | ledger.advanced → active (Fabric's blocking enqueue: transfer
//                 at commit speed; active asks for the range at the new height if no flight covers it);
//                 a tick still throttled → the round again from the ledger height (the buffer lacks a block)
//   abandoned round: fabric → synced (the next checkInterval tick starts a new one);
//                    murmur → syncing.backoff: timeout.backoff after backoffDelay (minResponseTimeout doubling
//                    per abandoned round in a row, at most retryBackoff) → a new round if still behind
//   murmur profile only:
//     gossip.ahead(from, height): a gap in the gossiped blocks outlived its grace period, and `from` (the
//       originator of a later block) holds everything below `height`: a hint on top of its StateInfo height;
//       in synced it starts a round at once instead of at the next tick (Fabric waits for checkInterval)
//     view.changed in synced showing us more than one batch behind starts a round at once (a larger lag than
//       a block in transit: a late joiner); a smaller lag is left to the tree's grafts, pull and gossip.ahead
//       for retryBackoff (timeout.lag), then a round starts if it is still there: a peer known to be ahead is
//       never waited on for a checkInterval
//     while syncing, the target follows the view up (a joiner catching up with a growing chain keeps going)
//
// Why this shape (the fabric profile is the window of one, batch state.batchSize, a fixed responseTimeout,
// no backoff: exactly Fabric's loop):
// - Throughput: one request at a time leaves both ends idle for a round trip per batch and puts the whole
//   catch-up on one peer; a window of `inFlight` ranges over the peers that hold them keeps every server and
//   the verifier busy. The window is counted in requests and each request in blocks, so blocks in flight are
//   at most inFlight × batchSize; new ranges wait while the buffer is over its high-water mark, so the commit
//   queue holds at most 2 × blockBufferSize + inFlight × batchSize state blocks (its fence is sized so).
// - Ordering: flights complete in any order; the commit queue (payload buffer) commits strictly from the
//   ledger height, so a later range waits in the buffer until the one below it lands.
// - Loss: a lost request or response costs one attempt timeout, not a round: the range goes to another peer at
//   once. The timeout adapts to the measured round trips (RFC 6298: srtt + 4 × rttvar, between
//   minResponseTimeout and state.responseTimeout, doubled per retry of one range at one peer), so on a LAN a loss costs
//   ~minResponseTimeout instead of 3 s, and a slow WAN or a busy server still gets up to responseTimeout.
//   Round trips are measured by the actor on its clock and passed in with the response: the machine keeps no
//   clock. An abandoned round (every covering peer failed maxRetries + 1 times) backs off well under a second
//   and retries while peers are ahead, instead of waiting checkInterval (10 s): the stall the issue measured.
// - Load on servers: each server limits one requester to limits.stateRequestsPerSecond (200, bursts 400).
//   A requester's request rate is its block rate / batchSize: even at ed25519's ceiling on one core (~9 000
//   blocks/s on the test VM) and batch 50 that is ~180 requests/s in all, spread over the covering peers by
//   least load, so an honest joiner asking two or more peers stays under half the limit at each.
// Responses are matched by `attempt` (the actor maps its random nonce to it): a late answer to an attempt
// that was retried, completed or dropped with its round is ignored. Timeouts are explicit events raised with
// one id per attempt; randomness is the machine's own seeded xorshift state, so the machine is pure and
// replays exactly.
import { assign, cancel, enqueueActions, raise, setup } from 'xstate';
import { maxHeight, nextRange, type ChannelPeerHeight } from './state-transfer.logic.ts';
import { attemptTimeout, backoffDelay, pickPeer, sampleRtt, trim, type Flight, type RttEstimate } from './state-window.logic.ts';

export interface StateTransferTimings {
  checkInterval: number;
  /** Longest wait per attempt (state.responseTimeout). */
  responseTimeout: number;
  /** Shortest wait per attempt; the wait adapts between the two (default responseTimeout: Fabric's fixed wait). */
  minResponseTimeout?: number;
  /** Longest wait before a new round after one was abandoned; 0 (default): wait for the next tick (Fabric). */
  retryBackoff?: number;
}

export interface StateTransferInput {
  /** `fabric`: gossip.ahead is ignored, a round starts at a tick only (Fabric's anti-entropy). Default `murmur`. */
  profile?: 'murmur' | 'fabric';
  height: number;
  batchSize: number;
  maxRetries: number;
  /** Range requests outstanding at once (default 1, Fabric's). */
  inFlight?: number;
  timings: StateTransferTimings;
  /** Seed of the peer choice (from the injected Rng). */
  seed: number;
}

export interface StateTransferContext extends StateTransferInput {
  inFlight: number;
  /** The channel view's heights, raised by gossip hints (murmur). */
  peers: ChannelPeerHeight[];
  /** StateInfo heights as last reported (hints are merged on top). */
  view: ChannelPeerHeight[];
  hints: Record<string, number>;
  bufferFull: boolean;
  /** murmur: a small lag seen in the view is being given time (timeout.lag armed). */
  lagArmed: boolean;
  /** Target height of the round (the view's max when it started; murmur: raised as the view rises). */
  target: number;
  /** First block not yet assigned to a flight. */
  cursor: number;
  /** Ranges in flight, by ascending start (disjoint, within [height, cursor)). */
  flights: Flight[];
  /** Last attempt number used (attempts are never reused). */
  attempt: number;
  rtt: RttEstimate | null;
  /** murmur: peers an attempt to which failed and that answered nothing sent later (asked last; forgiven at
   * every tick, so none is shunned for longer than checkInterval). */
  suspects: string[];
  /** murmur: the latest attempt each peer answered (attempt numbers grow with send time). */
  answered: Record<string, number>;
  /** Rounds abandoned in a row (reset by progress): the backoff's exponent. */
  abandons: number;
  /** Set when the round was just given up; the next eventless transition leaves for backoff or synced. */
  abandon: 'no-peer' | 'retries' | null;
  rng: number;
}

export type StateTransferEvent =
  | { type: 'timeout.check' }
  | { type: 'timeout.response'; attempt: number }
  | { type: 'timeout.backoff' }
  | { type: 'timeout.lag' }
  | { type: 'view.changed'; peers: ChannelPeerHeight[] }
  | { type: 'ledger.advanced'; height: number }
  | { type: 'buffer.level'; full: boolean }
  | { type: 'response.received'; attempt: number; maxSeq: number; rtt?: number }
  | { type: 'response.invalid'; attempt: number }
  | { type: 'gossip.ahead'; from: string; height: number };

export type StateTransferEmitted =
  | { type: 'request.send'; attempt: number; to: string; start: number; end: number }
  | { type: 'round.abandoned'; reason: 'no-peer' | 'retries'; next: number; target: number };

const TIMER = { check: 'state.check', backoff: 'state.backoff', lag: 'state.lag', response: (attempt: number) => `state.response.${attempt}` } as const;

/** View heights raised by hints, for peers of the view only. */
function merge(view: ChannelPeerHeight[], hints: Record<string, number>): ChannelPeerHeight[] {
  return view.map((p) => ({ id: p.id, height: Math.max(p.height, hints[p.id] ?? 0) }));
}

const minTimeout = (c: StateTransferContext) => Math.min(c.timings.minResponseTimeout ?? c.timings.responseTimeout, c.timings.responseTimeout);

type Enqueue = { emit(e: StateTransferEmitted): void; raise(e: StateTransferEvent, o: { delay: number; id: string }): void };
function sendFlight(c: StateTransferContext, f: Flight, enqueue: Enqueue): void {
  enqueue.emit({ type: 'request.send', attempt: f.attempt, to: f.to, start: f.start, end: f.end });
  enqueue.raise({ type: 'timeout.response', attempt: f.attempt }, { delay: attemptTimeout(c.rtt, minTimeout(c), c.timings.responseTimeout, f), id: TIMER.response(f.attempt) });
}

/** The round is given up: every attempt out is dropped with its timer (a late answer is then ignored). */
function giveUp(c: StateTransferContext, flights: readonly Flight[], reason: 'no-peer' | 'retries', enqueue: Enqueue & { cancel(id: string): void; assign(p: Partial<StateTransferContext>): void }): void {
  for (const f of flights) enqueue.cancel(TIMER.response(f.attempt));
  enqueue.emit({ type: 'round.abandoned', reason, next: flights[0]?.start ?? c.cursor, target: c.target });
  enqueue.assign({ flights: [], abandon: reason, abandons: c.abandons + 1 });
}

export const stateTransferMachine = setup({
  types: {} as { context: StateTransferContext; events: StateTransferEvent; input: StateTransferInput; emitted: StateTransferEmitted },
  delays: {
    checkInterval: ({ context }) => context.timings.checkInterval,
    backoff: ({ context }) => backoffDelay(context.abandons, minTimeout(context), context.timings.retryBackoff ?? 0),
    lagWait: ({ context }) => context.timings.retryBackoff ?? 0,
  },
  guards: {
    behind: ({ context }) => maxHeight(context.peers) > context.height,
    // Everything asked and answered; murmur also waits for the commits, so that a view arriving meanwhile does
    // not start a round for blocks that are only waiting in the buffer (Fabric's round ends at the buffer).
    caughtUp: ({ context }) => context.flights.length === 0 && context.cursor >= context.target && (context.profile === 'fabric' || context.height >= context.target),
    // Everything answered long ago, yet the ledger did not get there (a buffered block was refused): ask again.
    commitStalled: ({ context }) => context.flights.length === 0 && context.cursor >= context.target && context.height < context.target,
    idleThrottled: ({ context }) => context.flights.length === 0 && context.bufferFull,
    abandoning: ({ context }) => context.abandon !== null,
    bufferDrained: ({ event }) => event.type === 'buffer.level' && !event.full,
    murmur: ({ context }) => context.profile !== 'fabric',
    // More than a batch behind the view: not a block in transit but lag (murmur starts at once).
    lagging: ({ context, event }) => context.profile !== 'fabric' && event.type === 'view.changed' && maxHeight(merge(event.peers, context.hints)) - context.height > context.batchSize,
  },
  actions: {
    // Every tick also forgives the suspects.
    armCheck: enqueueActions(({ enqueue }) => {
      enqueue.assign({ suspects: [] });
      enqueue.raise({ type: 'timeout.check' }, { delay: 'checkInterval', id: TIMER.check });
    }),
    setView: assign(({ context, event }) => {
      if (event.type !== 'view.changed') return {};
      // Hints live only while above what StateInfo says, and only for peers still in the view.
      const hints: Record<string, number> = {};
      for (const p of event.peers) if ((context.hints[p.id] ?? 0) > p.height) hints[p.id] = context.hints[p.id]!;
      const inView = (id: string) => event.peers.some((p) => p.id === id);
      const answered = Object.fromEntries(Object.entries(context.answered).filter(([id]) => inView(id)));
      return { view: event.peers, hints, peers: merge(event.peers, hints), suspects: context.suspects.filter(inView), answered };
    }),
    hint: assign(({ context, event }) => {
      if (event.type !== 'gossip.ahead' || !context.view.some((p) => p.id === event.from)) return {};
      const hints = { ...context.hints, [event.from]: Math.max(context.hints[event.from] ?? 0, event.height) };
      return { hints, peers: merge(context.view, hints) };
    }),
    // murmur: the view shows us behind by a batch or less: the tree and pull get retryBackoff to repair it.
    armLag: enqueueActions(({ context, enqueue }) => {
      if (context.profile === 'fabric' || context.lagArmed || !((context.timings.retryBackoff ?? 0) > 0) || !(maxHeight(context.peers) > context.height)) return;
      enqueue.assign({ lagArmed: true });
      enqueue.raise({ type: 'timeout.lag' }, { delay: 'lagWait', id: TIMER.lag });
    }),
    disarmLag: enqueueActions(({ context, enqueue }) => {
      if (!context.lagArmed) return;
      enqueue.cancel(TIMER.lag);
      enqueue.assign({ lagArmed: false });
    }),
    // murmur: a round follows the view up, so a joiner chasing a growing chain does not stop at the old top.
    extendTarget: assign(({ context }) => (context.profile === 'fabric' ? {} : { target: Math.max(context.target, maxHeight(context.peers)) })),
    setBuffer: assign(({ context, event }) => (event.type === 'buffer.level' ? { bufferFull: event.full } : { bufferFull: context.bufferFull })),
    startRound: assign(({ context }) => ({ target: maxHeight(context.peers), cursor: context.height, flights: [], abandon: null })),
    advanceLedger: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'ledger.advanced') return;
      const height = Math.max(context.height, event.height);
      const { kept, done } = trim(context.flights, height);
      for (const f of done) enqueue.cancel(TIMER.response(f.attempt));
      enqueue.assign({ height, cursor: Math.max(context.cursor, height), flights: kept });
    }),
    // New ranges up to the window, the buffer permitting.
    fill: enqueueActions(({ context, enqueue }) => {
      if (context.abandon) return;
      let { flights, cursor, rng, attempt } = context;
      const sent: Flight[] = [];
      // murmur: over the high-water mark only the range at the ledger height may go: the buffer may be full of
      // later blocks that wait for exactly that one (a round given up and begun again), and it is one batch.
      // (Fabric's window of one never fills the buffer with anything but a consecutive run.)
      const atHeight = (c: number) => context.profile !== 'fabric' && c === context.height;
      while ((!context.bufferFull || atHeight(cursor)) && flights.length < context.inFlight) {
        const r = nextRange(cursor, context.target, context.batchSize);
        if (!r) break;
        const p = pickPeer(context.peers, r.end, [], flights, rng, context.suspects);
        // Nothing covers the next range: wait for the flights out, or give the round up if there are none.
        if (!p) {
          if (!flights.length) return void giveUp(context, flights, 'no-peer', enqueue);
          break;
        }
        attempt++;
        rng = p.rng;
        const f: Flight = { attempt, to: p.to, start: r.start, end: r.end, tries: 1, tried: [p.to] };
        flights = [...flights, f];
        cursor = r.end + 1;
        sent.push(f);
      }
      enqueue.assign({ flights, cursor, rng, attempt });
      for (const f of sent) sendFlight(context, f, enqueue);
    }),
    received: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'response.received') return;
      const i = context.flights.findIndex((f) => f.attempt === event.attempt);
      if (i < 0) return;
      const f = context.flights[i]!;
      const start = Math.max(f.start, event.maxSeq + 1);
      const rtt = event.rtt === undefined ? context.rtt : sampleRtt(context.rtt, event.rtt);
      const progress = start > f.start ? { abandons: 0 } : {};
      const suspects = context.suspects.filter((id) => id !== f.to);
      const answered = context.profile === 'fabric' ? context.answered : { ...context.answered, [f.to]: Math.max(context.answered[f.to] ?? 0, f.attempt) };
      enqueue.cancel(TIMER.response(f.attempt));
      const flights = start > f.end ? context.flights.filter((_, j) => j !== i) : context.flights.map((x, j) => (j === i ? { ...x, start } : x));
      enqueue.assign({ flights, rtt, suspects, answered, ...progress });
      // More chunks may follow: the wait starts again. The first round trip measured also replaces the initial
      // guess (1 s) of the attempts still out, each waiting from now.
      const rearm = context.rtt === null && rtt !== null ? flights : flights.filter((x) => x.attempt === f.attempt);
      for (const x of rearm) {
        enqueue.cancel(TIMER.response(x.attempt));
        enqueue.raise({ type: 'timeout.response', attempt: x.attempt }, { delay: attemptTimeout(rtt, minTimeout(context), context.timings.responseTimeout, x), id: TIMER.response(x.attempt) });
      }
    }),
    // A lost, late or invalid answer: the rest of that range to another peer now, or the round is given up.
    failed: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'response.invalid' && event.type !== 'timeout.response') return;
      const i = context.flights.findIndex((f) => f.attempt === event.attempt);
      if (i < 0) return;
      const f = context.flights[i]!;
      enqueue.cancel(TIMER.response(f.attempt));
      if (f.tries > context.maxRetries) return void giveUp(context, context.flights, 'retries', enqueue);
      const others = context.flights.filter((_, j) => j !== i);
      // Fabric's profile keeps its rule (another peer than those tried); murmur also asks a failing peer last,
      // unless it answered a request sent after this one (then the network lost this one, not the peer).
      const cleared = (context.answered[f.to] ?? 0) > f.attempt;
      const suspects = context.profile === 'fabric' || cleared || context.suspects.includes(f.to) ? context.suspects : [...context.suspects, f.to];
      const p = pickPeer(context.peers, f.end, f.tried, others, context.rng, suspects);
      if (!p) return void giveUp(context, context.flights, 'no-peer', enqueue);
      const attempt = context.attempt + 1;
      const g: Flight = { ...f, attempt, to: p.to, tries: f.tries + 1, tried: [...f.tried, p.to] };
      enqueue.assign({ flights: context.flights.map((x, j) => (j === i ? g : x)), attempt, rng: p.rng, suspects });
      sendFlight(context, g, enqueue);
    }),
    // Leaving syncing: every attempt still out is dropped (a late answer is ignored) with its timer.
    dropFlights: enqueueActions(({ context, enqueue }) => {
      for (const f of context.flights) enqueue.cancel(TIMER.response(f.attempt));
      enqueue.assign({ flights: [], abandon: null, cursor: context.height });
    }),
  },
}).createMachine({
  id: 'stateTransfer',
  context: ({ input }) => ({
    ...input,
    inFlight: Math.max(1, input.inFlight ?? 1),
    peers: [],
    view: [],
    hints: {},
    bufferFull: false,
    lagArmed: false,
    target: input.height,
    cursor: input.height,
    flights: [],
    attempt: 0,
    rtt: null,
    suspects: [],
    answered: {},
    abandons: 0,
    abandon: null,
    rng: input.seed >>> 0 || 1,
  }),
  entry: 'armCheck',
  on: {
    'view.changed': { actions: 'setView' },
    'gossip.ahead': { guard: 'murmur', actions: 'hint' },
    'buffer.level': { actions: 'setBuffer' },
    'ledger.advanced': { actions: 'advanceLedger' },
  },
  initial: 'synced',
  states: {
    synced: {
      on: {
        'timeout.check': [
          { guard: 'behind', target: 'syncing', actions: ['armCheck', 'startRound'] },
          { actions: 'armCheck' },
        ],
        'gossip.ahead': { guard: 'murmur', actions: 'hint', target: 'ahead' },
        'view.changed': [{ guard: 'lagging', actions: 'setView', target: 'ahead' }, { actions: ['setView', 'armLag'] }],
        'timeout.lag': { actions: assign({ lagArmed: false }), target: 'ahead' },
      },
      exit: 'disarmLag',
    },
    // murmur: a hint or a lagging view arrived while synced; start a round now if it shows us behind.
    ahead: {
      always: [{ guard: 'behind', target: 'syncing', actions: 'startRound' }, { target: 'synced' }],
    },
    syncing: {
      exit: 'dropFlights',
      on: {
        'timeout.check': { actions: 'armCheck' },
        'view.changed': { actions: ['setView', 'extendTarget'] },
        'gossip.ahead': { guard: 'murmur', actions: ['hint', 'extendTarget'] },
      },
      initial: 'active',
      states: {
        active: {
          entry: 'fill',
          always: [
            { guard: ({ context }) => context.abandon !== null && (context.timings.retryBackoff ?? 0) > 0, target: 'backoff', actions: assign({ abandon: null }) },
            { guard: 'abandoning', target: '#stateTransfer.synced' },
            { guard: 'caughtUp', target: '#stateTransfer.synced' },
            { guard: 'idleThrottled', target: 'throttled' },
          ],
          on: {
            'timeout.check': [{ guard: 'commitStalled', actions: ['armCheck', 'startRound', 'fill'] }, { actions: 'armCheck' }],
            'response.received': { actions: ['received', 'fill'] },
            'response.invalid': { actions: ['failed', 'fill'] },
            'timeout.response': { actions: ['failed', 'fill'] },
            'buffer.level': { actions: ['setBuffer', 'fill'] },
            'ledger.advanced': { actions: ['advanceLedger', 'fill'] },
            'view.changed': { actions: ['setView', 'extendTarget', 'fill'] },
            'gossip.ahead': { guard: 'murmur', actions: ['hint', 'extendTarget', 'fill'] },
          },
        },
        throttled: {
          on: {
            'buffer.level': { guard: 'bufferDrained', actions: 'setBuffer', target: 'active' },
            // The ledger moved: the block at its new height may be one nobody has asked for yet (the buffer
            // holds later ones): active decides, and comes back here if there is nothing to ask.
            'ledger.advanced': { actions: 'advanceLedger', target: 'active' },
            // A buffer that stays full across a tick lacks a block it will never get by itself (one was refused).
            'timeout.check': { actions: ['armCheck', 'startRound'], target: 'active' },
          },
        },
        // murmur: an abandoned round waits a short, growing delay and starts again while someone is ahead
        // (without retryBackoff, Fabric's, it goes back to synced and the next tick decides).
        backoff: {
          entry: raise({ type: 'timeout.backoff' }, { delay: 'backoff', id: TIMER.backoff }),
          exit: cancel(TIMER.backoff),
          on: {
            'timeout.backoff': [{ guard: 'behind', target: 'active', actions: 'startRound' }, { target: '#stateTransfer.synced' }],
          },
        },
      },
    },
  },
});

/**
 * Whether a `ledger.advanced` can change what the machine decides next. Synced and not behind the heights it
 * holds, the machine reads its height only to compare it with the view's maximum (behind, lagging, the lag
 * timer) or to start a round from it; a higher height gives the same answers, until an event changes the view.
 * So a binding may hold such commits back and send the latest height before its next other event: the machine
 * then decides exactly as if it had heard every commit (a differential test drives both ways).
 */
export function heightMatters(snapshot: { matches(v: unknown): boolean; context: Pick<StateTransferContext, 'height' | 'peers'> }): boolean {
  return !snapshot.matches('synced') || maxHeight(snapshot.context.peers) > snapshot.context.height;
}

/** What `murmur status` shows for a state-transfer snapshot. */
export function syncStateOf(snapshot: { matches(v: unknown): boolean }): 'syncing' | 'synced' {
  return snapshot.matches('syncing') ? 'syncing' : 'synced';
}
