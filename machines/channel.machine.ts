// One channel as seen by this peer: its chain head, its leader election as an invoked child machine
// (`election`, machines/election.machine.ts) and, when given deliver settings, the deliver child (`deliver`,
// machines/deliver.machine.ts: the leader's feed from the ordering service, started and stopped by the
// peer assembly on leadership changes). State transfer and dissemination join as further children.
//
//   active: on ledger.committed(height, tipHash) → remember height and tip (only forward)
import { assign, enqueueActions, setup } from 'xstate';
import { electionMachine, type ElectionInput } from './election.machine.ts';
import { deliverMachine, type DeliverInput } from './deliver.machine.ts';

export interface ChannelInput {
  channel: string;
  height: number;
  tipHash: string;
  election: ElectionInput;
  /** Deliver settings; without them the channel has no deliver child (unit tests of the tree). */
  deliver?: DeliverInput;
}
export type ChannelContext = ChannelInput;
export type ChannelEvent = { type: 'ledger.committed'; height: number; tipHash: string };

export const channelMachine = setup({
  types: {} as { context: ChannelContext; events: ChannelEvent; input: ChannelInput },
  actors: { election: electionMachine, deliver: deliverMachine },
}).createMachine({
  id: 'channel',
  context: ({ input }) => ({ ...input }),
  invoke: { src: 'election', id: 'election', input: ({ context }) => context.election },
  entry: enqueueActions(({ context, enqueue }) => {
    if (context.deliver) enqueue.spawnChild('deliver', { id: 'deliver', input: context.deliver });
  }),
  initial: 'active',
  states: {
    active: {
      on: {
        'ledger.committed': {
          guard: ({ context, event }) => event.height > context.height,
          actions: assign({ height: ({ event }) => event.height, tipHash: ({ event }) => event.tipHash }),
        },
      },
    },
  },
});
