// The peer's root machine: the lifecycle every concern hangs off.
//
//   starting --start done--> running --peer.stop--> stopping --stop done--> stopped
//      |                        |  entry: spawn the peer-level concerns, then one channel actor per channel
//      |                        |         (machines/channel.machine.ts: election, deliver, state transfer, ports)
//      |                        |  channel.leave: that channel's actor stops and leaves the context (its
//      |                        |                 StateInfo, a peer-level concern, says so to the others)
//      +--start failed--> failed   exit: stop every child
//
// Pure: starting and stopping the outside world (bus, stores) are the `start` / `stop` actors, and the
// children are named actor logics, all provided by actors/peer.actor.ts with `provide()`.
import { assign, enqueueActions, fromCallback, fromPromise, setup, type EventObject } from 'xstate';
import { channelMachine, type ChannelInput } from './channel.machine.ts';

export interface PeerInput {
  peerId: string;
  mspId: string;
  channels: ChannelInput[];
}

export interface PeerContext extends PeerInput {
  natsConnected: boolean;
  error: string | null;
}

export type PeerEvent = { type: 'peer.stop' } | { type: 'transport.status'; connected: boolean } | { type: 'channel.leave'; channel: string };

export const channelActorId = (channel: string): string => `channel:${channel}`;
/** Peer-level concerns that live for the whole running phase, one child each (the channels' are theirs). */
export const PEER_CONCERNS = ['session', 'discovery', 'stateInfo'] as const;

const notProvided = (name: string) => () => {
  throw new Error(`peer machine: actor '${name}' is not provided`);
};

export const peerMachine = setup({
  types: {} as { context: PeerContext; events: PeerEvent; input: PeerInput },
  actors: {
    start: fromPromise<void>(async () => notProvided('start')()),
    stop: fromPromise<void>(async () => notProvided('stop')()),
    session: fromCallback<EventObject>(notProvided('session')),
    discovery: fromCallback<EventObject>(notProvided('discovery')),
    stateInfo: fromCallback<EventObject>(notProvided('stateInfo')),
    channel: channelMachine,
  },
}).createMachine({
  id: 'peer',
  initial: 'starting',
  context: ({ input }) => ({ ...input, natsConnected: false, error: null }),
  on: {
    'transport.status': { actions: assign({ natsConnected: ({ event }) => event.connected }) },
  },
  states: {
    starting: {
      invoke: {
        src: 'start',
        onDone: 'running',
        onError: { target: 'failed', actions: assign({ error: ({ event }) => String((event.error as Error)?.message ?? event.error) }) },
      },
      on: { 'peer.stop': 'stopping' },
    },
    running: {
      // Concerns first (the channels' ports read the views StateInfo keeps); channels stop first.
      entry: enqueueActions(({ context, enqueue }) => {
        for (const c of PEER_CONCERNS) enqueue.spawnChild(c, { id: c });
        for (const input of context.channels) enqueue.spawnChild('channel', { id: channelActorId(input.channel), systemId: channelActorId(input.channel), input });
      }),
      exit: enqueueActions(({ context, enqueue }) => {
        for (const { channel } of context.channels) enqueue.stopChild(channelActorId(channel));
        for (const c of PEER_CONCERNS) enqueue.stopChild(c);
      }),
      on: {
        'peer.stop': 'stopping',
        'channel.leave': {
          guard: ({ context, event }) => context.channels.some((c) => c.channel === event.channel),
          actions: enqueueActions(({ event, enqueue }) => {
            enqueue.stopChild(channelActorId(event.channel));
            enqueue.assign({ channels: ({ context }) => context.channels.filter((c) => c.channel !== event.channel) });
          }),
        },
      },
    },
    stopping: {
      invoke: { src: 'stop', onDone: 'stopped', onError: 'stopped' },
    },
    failed: {
      on: { 'peer.stop': 'stopping' },
    },
    stopped: { type: 'final' },
  },
});
