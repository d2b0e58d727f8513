// One channel as seen by this peer, and the owner of its blocks' pipeline. Children (spawned on entry, in
// this order, living as long as the channel):
//   election       machines/election.machine.ts (leader of the org for this channel)
//   deliver        machines/deliver.machine.ts, when given deliver settings (the leader's ordering feed)
//   stateTransfer  machines/state-transfer.machine.ts, when given its settings (anti-entropy; state.enabled)
//   ports          callback children that bind the machines and the channel's stores to the bus (provided
//                  by actors/channel.actor.ts; absent in pure tests): commit (the one commit queue, ledger →
//                  height), electionLink, dissemination (push or tree), pull, stateServer, stateTransferLink
// The election ↔ deliver link is this machine's, not the assembly's:
//   leadership.changed(leading) (from electionLink) → deliver.start(static | elected) / deliver.stop
//     (a standby never starts deliver; a repeated value changes nothing)
//   deliver.gaveUp (the deliver child's, relayed by electionLink) → election: leadership.yield
//   ledger.committed(height, tipHash) → remember height and tip (only forward)
import { assign, enqueueActions, fromCallback, sendTo, setup, type EventObject } from 'xstate';
import { electionMachine, type ElectionInput } from './election.machine.ts';
import { deliverMachine, type DeliverInput } from './deliver.machine.ts';
import { stateTransferMachine, type StateTransferInput } from './state-transfer.machine.ts';

/** The port children, in spawn order (the commit queue first: the others offer blocks to it). */
export const CHANNEL_PORTS = ['commit', 'electionLink', 'dissemination', 'pull', 'stateServer', 'stateTransferLink'] as const;
export type ChannelPort = (typeof CHANNEL_PORTS)[number];

export interface ChannelInput {
  channel: string;
  height: number;
  tipHash: string;
  election: ElectionInput;
  /** Deliver settings; without them the channel has no deliver child (unit tests of the tree). */
  deliver?: DeliverInput;
  /** State transfer settings (state.enabled); without them no stateTransfer child and no link to it. */
  stateTransfer?: StateTransferInput;
  /** Spawn the port children (the peer assembly provides them; pure tests leave them out). */
  ports?: boolean;
}
export interface ChannelContext extends ChannelInput {
  /** This peer leads the channel (as its election last reported). */
  leading: boolean;
}
export type ChannelEvent =
  | { type: 'ledger.committed'; height: number; tipHash: string }
  | { type: 'leadership.changed'; leading: boolean }
  | { type: 'deliver.gaveUp' };

/** System id of a channel's child: the ports find their machines by it (one actor system per peer). */
export const channelChildId = (channel: string, child: string): string => `${child}@${channel}`;

const notProvided = (name: string) =>
  fromCallback<EventObject, { channel: string }>(() => {
    throw new Error(`channel machine: port '${name}' is not provided`);
  });

export const channelMachine = setup({
  types: {} as { context: ChannelContext; events: ChannelEvent; input: ChannelInput },
  actors: {
    election: electionMachine,
    deliver: deliverMachine,
    stateTransfer: stateTransferMachine,
    commit: notProvided('commit'),
    electionLink: notProvided('electionLink'),
    dissemination: notProvided('dissemination'),
    pull: notProvided('pull'),
    stateServer: notProvided('stateServer'),
    stateTransferLink: notProvided('stateTransferLink'),
  },
  guards: {
    leadsWithDeliver: ({ context }) => context.deliver !== undefined && context.election.mode !== 'standby',
  },
}).createMachine({
  id: 'channel',
  context: ({ input }) => ({ ...input, leading: false }),
  entry: enqueueActions(({ context, enqueue }) => {
    const ch = context.channel;
    enqueue.spawnChild('election', { id: 'election', systemId: channelChildId(ch, 'election'), input: context.election });
    if (context.deliver) enqueue.spawnChild('deliver', { id: 'deliver', systemId: channelChildId(ch, 'deliver'), input: context.deliver });
    if (context.stateTransfer) enqueue.spawnChild('stateTransfer', { id: 'stateTransfer', systemId: channelChildId(ch, 'stateTransfer'), input: context.stateTransfer });
    if (!context.ports) return;
    for (const port of CHANNEL_PORTS) {
      if (port === 'stateTransferLink' && !context.stateTransfer) continue;
      enqueue.spawnChild(port, { id: port, input: { channel: ch } });
    }
  }),
  initial: 'active',
  states: {
    active: {
      on: {
        'ledger.committed': {
          guard: ({ context, event }) => event.height > context.height,
          actions: assign({ height: ({ event }) => event.height, tipHash: ({ event }) => event.tipHash }),
        },
        'leadership.changed': {
          guard: ({ context, event }) => event.leading !== context.leading,
          actions: enqueueActions(({ context, event, enqueue, check }) => {
            enqueue.assign({ leading: event.leading });
            if (!check('leadsWithDeliver')) return;
            const mode = context.election.mode === 'static-leader' ? 'static' : 'elected';
            enqueue.sendTo('deliver', event.leading ? { type: 'deliver.start', mode } : { type: 'deliver.stop' });
          }),
        },
        'deliver.gaveUp': { guard: 'leadsWithDeliver', actions: sendTo('election', { type: 'leadership.yield' }) },
      },
    },
  },
});
