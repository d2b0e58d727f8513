// One channel as seen by this peer: its chain head, and its leader election as an invoked child machine
// (`election`, machines/election.machine.ts). State transfer and dissemination join as further children.
//
//   active: on ledger.committed(height, tipHash) → remember height and tip (only forward)
import { assign, setup } from 'xstate';
import { electionMachine, type ElectionInput } from './election.machine.ts';

export interface ChannelInput {
  channel: string;
  height: number;
  tipHash: string;
  election: ElectionInput;
}
export type ChannelContext = ChannelInput;
export type ChannelEvent = { type: 'ledger.committed'; height: number; tipHash: string };

export const channelMachine = setup({
  types: {} as { context: ChannelContext; events: ChannelEvent; input: ChannelInput },
  actors: { election: electionMachine },
}).createMachine({
  id: 'channel',
  context: ({ input }) => ({ ...input }),
  invoke: { src: 'election', id: 'election', input: ({ context }) => context.election },
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
