// State transfer (anti-entropy) for one channel: Fabric's gossip/state loop (digest §5.4) as a machine.
//
//   every checkInterval (timeout.check):
//     synced:  max height in the channel view > own height → syncing (target := that max, next := own height)
//   syncing:
//     choosing:   next ≥ target → synced;  payload buffer above its high-water mark → throttled;
//                 range := [next, min(target−1, next+batchSize−1)];  candidates := view peers whose height
//                 covers the range, not yet tried for this batch;  none → synced (round abandoned)
//     requesting: pick one candidate at random, emit request.send(attempt, to, range), arm responseTimeout
//                 response.received(attempt, maxSeq): next := maxSeq+1 (a chunk; the actor verified and
//                   enqueued it);  range complete → next batch (tries reset) else keep waiting (timer re-armed)
//                 response.invalid | timeout.response → tries++ ; tries > maxRetries → synced (abandoned)
//                                                         else choosing (another peer)
//     throttled:  buffer.level(full=false) → choosing   (Fabric's blocking enqueue: transfer runs at commit speed)
//   ledger.advanced(height): own height and next move forward (blocks also come by push and pull)
//   murmur profile only — gossip.ahead(from, height): a gap in the gossiped blocks outlived its grace period,
//     and `from` (the originator of a later block) holds everything below `height`: remember that as a hint
//     on top of its StateInfo height, and in synced start a round at once instead of at the next tick
//     (Fabric waits for checkInterval, with StateInfo heights up to publishStateInfoInterval old)
// Responses are matched by `attempt` (the actor maps its random nonce to it), so a late answer to an
// abandoned attempt is ignored. Timeouts are explicit events raised with named delays and ids; randomness
// is the machine's own seeded xorshift state, so the machine is pure and replays exactly.
import { assign, cancel, enqueueActions, raise, setup } from 'xstate';
import { candidates, maxHeight, nextRange, rand, type ChannelPeerHeight } from './state-transfer.logic.ts';

export interface StateTransferTimings {
  checkInterval: number;
  responseTimeout: number;
}

export interface StateTransferInput {
  /** `fabric`: gossip.ahead is ignored (Fabric's anti-entropy ticks only). Default `murmur`. */
  profile?: 'murmur' | 'fabric';
  height: number;
  batchSize: number;
  maxRetries: number;
  timings: StateTransferTimings;
  /** Seed of the peer choice (from the injected Rng). */
  seed: number;
}

export interface StateTransferContext extends StateTransferInput {
  /** The channel view's heights, raised by gossip hints (murmur). */
  peers: ChannelPeerHeight[];
  /** StateInfo heights as last reported (hints are merged on top). */
  view: ChannelPeerHeight[];
  hints: Record<string, number>;
  bufferFull: boolean;
  /** Target height of the round (the view's max when it started). */
  target: number;
  /** Next block to fetch. */
  next: number;
  /** Last block of the range in flight. */
  end: number;
  attempt: number;
  tries: number;
  tried: string[];
  current: string | null;
  rng: number;
}

export type StateTransferEvent =
  | { type: 'timeout.check' }
  | { type: 'timeout.response' }
  | { type: 'view.changed'; peers: ChannelPeerHeight[] }
  | { type: 'ledger.advanced'; height: number }
  | { type: 'buffer.level'; full: boolean }
  | { type: 'response.received'; attempt: number; maxSeq: number }
  | { type: 'response.invalid'; attempt: number }
  | { type: 'gossip.ahead'; from: string; height: number };

export type StateTransferEmitted =
  | { type: 'request.send'; attempt: number; to: string; start: number; end: number }
  | { type: 'round.abandoned'; reason: 'no-peer' | 'retries'; next: number; target: number };

const TIMER = { check: 'state.check', response: 'state.response' } as const;

/** View heights raised by hints, for peers of the view only. */
function merge(view: ChannelPeerHeight[], hints: Record<string, number>): ChannelPeerHeight[] {
  return view.map((p) => ({ id: p.id, height: Math.max(p.height, hints[p.id] ?? 0) }));
}

export const stateTransferMachine = setup({
  types: {} as { context: StateTransferContext; events: StateTransferEvent; input: StateTransferInput; emitted: StateTransferEmitted },
  delays: {
    checkInterval: ({ context }) => context.timings.checkInterval,
    responseTimeout: ({ context }) => context.timings.responseTimeout,
  },
  guards: {
    behind: ({ context }) => maxHeight(context.peers) > context.height,
    caughtUp: ({ context }) => context.next >= context.target,
    throttled: ({ context }) => context.bufferFull,
    noPeer: ({ context }) => {
      const r = nextRange(context.next, context.target, context.batchSize)!;
      return candidates(context.peers, r.end, context.tried).length === 0;
    },
    isCurrent: ({ context, event }) => (event.type === 'response.received' || event.type === 'response.invalid') && event.attempt === context.attempt,
    rangeDone: ({ context, event }) => event.type === 'response.received' && event.attempt === context.attempt && event.maxSeq >= context.end,
    outOfRetries: ({ context }) => context.tries > context.maxRetries,
    bufferDrained: ({ event }) => event.type === 'buffer.level' && !event.full,
    murmur: ({ context }) => context.profile !== 'fabric',
  },
  actions: {
    armCheck: raise({ type: 'timeout.check' }, { delay: 'checkInterval', id: TIMER.check }),
    setView: assign(({ context, event }) => {
      if (event.type !== 'view.changed') return {};
      // Hints live only while above what StateInfo says, and only for peers still in the view.
      const hints: Record<string, number> = {};
      for (const p of event.peers) if ((context.hints[p.id] ?? 0) > p.height) hints[p.id] = context.hints[p.id]!;
      return { view: event.peers, hints, peers: merge(event.peers, hints) };
    }),
    hint: assign(({ context, event }) => {
      if (event.type !== 'gossip.ahead' || !context.view.some((p) => p.id === event.from)) return {};
      const hints = { ...context.hints, [event.from]: Math.max(context.hints[event.from] ?? 0, event.height) };
      return { hints, peers: merge(context.view, hints) };
    }),
    startRound: assign(({ context }) => ({ target: maxHeight(context.peers), next: context.height, tries: 0, tried: [], current: null })),
    sendRequest: enqueueActions(({ context, enqueue }) => {
      const r = nextRange(context.next, context.target, context.batchSize)!;
      const pool = candidates(context.peers, r.end, context.tried);
      const { value, state } = rand(context.rng);
      const to = pool[value % pool.length]!;
      const attempt = context.attempt + 1;
      enqueue.assign({ rng: state, attempt, end: r.end, current: to, tries: context.tries + 1, tried: [...context.tried, to] });
      enqueue.emit({ type: 'request.send', attempt, to, start: r.start, end: r.end });
      enqueue.raise({ type: 'timeout.response' }, { delay: 'responseTimeout', id: TIMER.response });
    }),
    advance: assign(({ context, event }) => (event.type === 'response.received' ? { next: Math.max(context.next, event.maxSeq + 1) } : {})),
    rearmResponse: enqueueActions(({ enqueue }) => {
      enqueue.cancel(TIMER.response);
      enqueue.raise({ type: 'timeout.response' }, { delay: 'responseTimeout', id: TIMER.response });
    }),
    nextBatch: assign({ tries: 0, tried: [], current: null }),
    abandon: enqueueActions(({ context, enqueue }, params: { reason: 'no-peer' | 'retries' }) => {
      enqueue.emit({ type: 'round.abandoned', reason: params.reason, next: context.next, target: context.target });
    }),
  },
}).createMachine({
  id: 'stateTransfer',
  context: ({ input }) => ({
    ...input,
    peers: [],
    view: [],
    hints: {},
    bufferFull: false,
    target: input.height,
    next: input.height,
    end: input.height - 1,
    attempt: 0,
    tries: 0,
    tried: [],
    current: null,
    rng: input.seed >>> 0 || 1,
  }),
  entry: 'armCheck',
  on: {
    'view.changed': { actions: 'setView' },
    'gossip.ahead': { guard: 'murmur', actions: 'hint' },
    'buffer.level': { actions: assign({ bufferFull: ({ event }) => event.full }) },
    'ledger.advanced': {
      actions: assign(({ context, event }) => ({ height: Math.max(context.height, event.height), next: Math.max(context.next, event.height) })),
    },
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
      },
    },
    // murmur: a hint arrived while synced; start a round now if it shows us behind.
    ahead: {
      always: [{ guard: 'behind', target: 'syncing', actions: 'startRound' }, { target: 'synced' }],
    },
    syncing: {
      on: { 'timeout.check': { actions: 'armCheck' } },
      initial: 'choosing',
      states: {
        choosing: {
          always: [
            { guard: 'caughtUp', target: '#stateTransfer.synced' },
            { guard: 'throttled', target: 'throttled' },
            { guard: 'noPeer', target: '#stateTransfer.synced', actions: { type: 'abandon', params: { reason: 'no-peer' } } },
            { target: 'requesting' },
          ],
        },
        requesting: {
          entry: 'sendRequest',
          exit: cancel(TIMER.response),
          on: {
            'response.received': [
              { guard: 'rangeDone', actions: ['advance', 'nextBatch'], target: 'choosing' },
              { guard: 'isCurrent', actions: ['advance', 'rearmResponse'] },
            ],
            'response.invalid': { guard: 'isCurrent', target: 'retry' },
            'timeout.response': 'retry',
            // Blocks arrived by another path past the range in flight: nothing left to wait for.
            'ledger.advanced': {
              guard: ({ context, event }) => event.height > context.end,
              actions: [assign(({ context, event }) => ({ height: Math.max(context.height, event.height), next: Math.max(context.next, event.height) })), 'nextBatch'],
              target: 'choosing',
            },
          },
        },
        retry: {
          always: [
            { guard: 'outOfRetries', target: '#stateTransfer.synced', actions: { type: 'abandon', params: { reason: 'retries' } } },
            { target: 'choosing' },
          ],
        },
        throttled: {
          on: { 'buffer.level': { guard: 'bufferDrained', actions: assign({ bufferFull: false }), target: 'choosing' } },
        },
      },
    },
  },
});

/** What `murmur status` shows for a state-transfer snapshot. */
export function syncStateOf(snapshot: { matches(v: unknown): boolean }): 'syncing' | 'synced' {
  return snapshot.matches('syncing') ? 'syncing' : 'synced';
}
