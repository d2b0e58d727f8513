// One channel as seen by this peer. For now it tracks what the peer knows of its own chain (the genesis
// block it was given); election, state transfer and dissemination arrive as regions of this machine.
//
//   active: on ledger.committed(height, tipHash) → remember height and tip
import { assign, setup } from 'xstate';

export interface ChannelInput {
  channel: string;
  height: number;
  tipHash: string;
}
export type ChannelContext = ChannelInput;
export type ChannelEvent = { type: 'ledger.committed'; height: number; tipHash: string };

export const channelMachine = setup({
  types: {} as { context: ChannelContext; events: ChannelEvent; input: ChannelInput },
}).createMachine({
  id: 'channel',
  context: ({ input }) => ({ ...input }),
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
