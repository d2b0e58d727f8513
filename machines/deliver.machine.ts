// Deliver: the org leader's connection to the ordering service for one channel (Fabric's deliver client /
// blocksprovider). Pure; the feed is the invoked `feed` actor (actors/deliver.actor.ts) that subscribes to
// the channel's blocks from the ledger height, commits them and reports back.
//
//   idle --deliver.start(mode)--> active.session.connecting     (static: orgLeader; elected: by election)
//   connecting --feed.ready--> streaming --feed.block--> streaming (failures := 0, give-up timer cancelled)
//   connecting --connect.timeout | feed.error--> backoff          (failures++; 1st failure starts the give-up timer)
//   streaming  --feed.error--> backoff --backoff.done--> connecting (a fresh subscription from the ledger height)
//   backoff delay: minimal × 1.2^(failures−1), capped at reConnectBackoffThreshold, with jitter (named delay)
//   giveup.timeout (reconnectTotalTimeThreshold after the 1st failure in a row):
//       elected → gaveUp, emits deliver.gaveUp (election lets another peer lead)
//       static  → ignored: a static leader never gives up (Fabric FAB-17327)
//   deliver.stop (leadership lost) → idle, from anywhere
// Timeouts are explicit events raised by named delays, so every transition is visible to graph tools.
import { assign, cancel, emit, enqueueActions, fromCallback, raise, setup, type EventObject } from 'xstate';
import { backoffMs, type DeliverTimings } from './deliver.logic.ts';

export type DeliverMode = 'static' | 'elected';

export interface DeliverInput extends DeliverTimings {
  channel: string;
}

export interface DeliverContext extends DeliverInput {
  mode: DeliverMode | null;
  /** Failures in a row since the last block. */
  failures: number;
  /** Subscriptions opened (1 + reconnects). */
  connects: number;
  lastError: string | null;
}

export type DeliverEvent =
  | { type: 'deliver.start'; mode: DeliverMode }
  | { type: 'deliver.stop' }
  | { type: 'feed.ready' }
  | { type: 'feed.block'; number: number }
  | { type: 'feed.error'; reason: string }
  | { type: 'connect.timeout' }
  | { type: 'backoff.done' }
  | { type: 'giveup.timeout' };

export type DeliverEmitted = { type: 'deliver.gaveUp'; channel: string; failures: number; lastError: string | null };

/** Input of the invoked feed actor. */
export interface FeedActorInput {
  channel: string;
}

const TIMERS = ['connect.timeout', 'backoff.done', 'giveup.timeout'] as const;

export const deliverMachine = setup({
  types: {} as { context: DeliverContext; events: DeliverEvent; input: DeliverInput; emitted: DeliverEmitted },
  actors: {
    feed: fromCallback<EventObject, FeedActorInput>(() => {
      throw new Error("deliver machine: actor 'feed' is not provided");
    }),
  },
  delays: {
    connTimeout: ({ context }) => context.connTimeoutMs,
    // Without jitter here; the actor provides the jittered delay from its seeded randomness.
    backoff: ({ context }) => backoffMs(context.failures, 0.5, context),
    giveUp: ({ context }) => context.reconnectTotalTimeThresholdMs,
  },
  guards: {
    elected: ({ context }) => context.mode === 'elected',
  },
  actions: {
    /** One more failure in a row; the first one starts the give-up clock. */
    fail: enqueueActions(({ context, enqueue }, params: { reason: string }) => {
      if (context.failures === 0) enqueue.raise({ type: 'giveup.timeout' }, { delay: 'giveUp', id: 'giveup.timeout' });
      enqueue.assign({ failures: context.failures + 1, lastError: params.reason });
    }),
  },
}).createMachine({
  id: 'deliver',
  context: ({ input }) => ({ ...input, mode: null, failures: 0, connects: 0, lastError: null }),
  initial: 'idle',
  states: {
    idle: {
      on: { 'deliver.start': { target: 'active', actions: assign({ mode: ({ event }) => event.mode, failures: 0, lastError: null }) } },
    },
    active: {
      exit: TIMERS.map((id) => cancel(id)),
      on: {
        'deliver.stop': 'idle',
        'deliver.start': { actions: assign({ mode: ({ event }) => event.mode }) },
        'giveup.timeout': { guard: 'elected', target: 'gaveUp' },
      },
      initial: 'session',
      states: {
        session: {
          entry: assign({ connects: ({ context }) => context.connects + 1 }),
          invoke: { src: 'feed', id: 'feed', input: ({ context }) => ({ channel: context.channel }) },
          on: {
            'feed.error': { target: 'backoff', actions: { type: 'fail', params: ({ event }) => ({ reason: event.reason }) } },
            'feed.block': {
              actions: [assign({ failures: 0, lastError: null }), cancel('giveup.timeout')],
            },
          },
          initial: 'connecting',
          states: {
            connecting: {
              entry: raise({ type: 'connect.timeout' }, { delay: 'connTimeout', id: 'connect.timeout' }),
              exit: cancel('connect.timeout'),
              on: {
                'feed.ready': 'streaming',
                'connect.timeout': { target: '#deliver.active.backoff', actions: { type: 'fail', params: { reason: 'connect-timeout' } } },
              },
            },
            streaming: {},
          },
        },
        backoff: {
          entry: raise({ type: 'backoff.done' }, { delay: 'backoff', id: 'backoff.done' }),
          exit: cancel('backoff.done'),
          on: { 'backoff.done': 'session' },
        },
      },
    },
    gaveUp: {
      entry: emit(({ context }) => ({ type: 'deliver.gaveUp' as const, channel: context.channel, failures: context.failures, lastError: context.lastError })),
      on: {
        'deliver.start': { target: 'active', actions: assign({ mode: ({ event }) => event.mode, failures: 0, lastError: null }) },
        'deliver.stop': 'idle',
      },
    },
  },
});
