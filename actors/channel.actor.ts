// One channel's actor: the pure channel machine (machines/channel.machine.ts) with its port children bound to
// the channel's parts (opened with the ledger: actors/channel-parts.ts). Each port is a callback actor that
// starts one concern when the channel starts and stops it when the channel stops:
//   commit             the channel's one commit queue; every ledger commit → ledger.committed (height, tip) to
//                      the channel, the height StateInfo advertises, blocks the gossip window holds offered
//                      again; a gossiped block the ledger refused leaves the block store; status block figures
//   electionLink       the election child ↔ the bus (election-binding.ts); relays the election's
//                      leadership.changed and the deliver child's deliver.gaveUp to the channel, which links them
//   dissemination      push or tree; the leader's orderer blocks (committed by the deliver child) → originate
//   pull, stateServer  Fabric's pull mediator and the state request server
//   stateTransferLink  the stateTransfer child ↔ the view, the ledger, the queue and the bus
import { fromCallback, type Actor, type AnyActorRef, type EventObject } from 'xstate';
import { filter, type Observable } from 'rxjs';
import { channelMachine, channelChildId, type ChannelEvent } from '../machines/channel.machine.ts';
import type { electionMachine } from '../machines/election.machine.ts';
import type { deliverMachine } from '../machines/deliver.machine.ts';
import { toHex } from '../runtime/util/bytes.ts';
import type { DeliveredBlock } from './deliver.actor.ts';
import type { ElectionBinding } from './election-binding.ts';
import type { StateTransferRef } from './state-transfer-link.ts';
import { bindBlockStats } from './block-stats.ts';
import type { ChannelParts } from './channel-parts.ts';

export interface ChannelActorDeps {
  /** The channel's parts, present from the peer's start (ledger open) to its stop. */
  parts(channel: string): ChannelParts | undefined;
  /** The deliver machine bound to the ordering feed (deliver.actor.ts). */
  deliver: typeof deliverMachine;
  /** Blocks the deliver child committed from the orderer, every channel. */
  delivered$: Observable<DeliveredBlock>;
  /** Binds an election child to the bus (not started). */
  electionBinding(channel: string, election: Actor<typeof electionMachine>): ElectionBinding;
}

type PortInput = { channel: string };
type Port = (p: ChannelParts, a: { system: { get(id: string): AnyActorRef | undefined }; sendBack: (e: ChannelEvent) => void; channel: string }) => () => void;

/** A port: finds its channel's parts (a port without them does nothing: the peer failed to start). */
function port(deps: ChannelActorDeps, run: Port) {
  return fromCallback<EventObject, PortInput>(({ input, system, sendBack }) => {
    const p = deps.parts(input.channel);
    if (!p) return;
    return run(p, { system, sendBack: sendBack as (e: ChannelEvent) => void, channel: input.channel });
  });
}

export function channelActorLogic(deps: ChannelActorDeps) {
  const fromOrderer = (channel: string) => deps.delivered$.pipe(filter((b) => b.channel === channel));
  return channelMachine.provide({
    actors: {
      deliver: deps.deliver,
      commit: port(deps, (p, { sendBack, channel }) => {
        const { ledger, queue, gossip, stats } = p;
        const committed = () => {
          p.stateInfo.setHeight(ledger.height());
          sendBack({ type: 'ledger.committed', height: ledger.height(), tipHash: toHex(ledger.tipHash()) });
        };
        queue.start();
        const subs = [
          ledger.commits$.subscribe(() => {
            committed();
            gossip.intake.reoffer();
          }),
          queue.refused$.subscribe((r) => r.source !== 'orderer' && gossip.intake.forget(r.number)),
          bindBlockStats(stats, { ledger, clock: p.clock, fromOrderer$: fromOrderer(channel), copies$: gossip.intake.copies$ }),
        ];
        committed();
        return () => {
          for (const s of subs) s.unsubscribe();
          queue.stop();
        };
      }),
      electionLink: port(deps, (p, { system, sendBack, channel }) => {
        const election = system.get(channelChildId(channel, 'election')) as Actor<typeof electionMachine>;
        const deliver = system.get(channelChildId(channel, 'deliver')) as Actor<typeof deliverMachine> | undefined;
        const binding = deps.electionBinding(channel, election);
        p.election = binding;
        binding.start();
        // The channel links leadership to deliver; a value it already has changes nothing.
        const leading = binding.leading$.subscribe((l) => sendBack({ type: 'leadership.changed', leading: l }));
        const gaveUp = deliver?.on('deliver.gaveUp', () => sendBack({ type: 'deliver.gaveUp' }));
        return () => {
          leading.unsubscribe();
          gaveUp?.unsubscribe();
          binding.stop();
          p.election = null;
        };
      }),
      dissemination: port(deps, (p, { channel }) => {
        const d = p.gossip.disseminator;
        d.start();
        const sub = fromOrderer(channel).subscribe(({ block, bytes }) => d.originate(block, bytes));
        return () => {
          sub.unsubscribe();
          d.stop();
        };
      }),
      pull: port(deps, (p) => {
        p.gossip.pull.start();
        return () => p.gossip.pull.stop();
      }),
      stateServer: port(deps, (p) => {
        p.gossip.server.start();
        return () => p.gossip.server.stop();
      }),
      stateTransferLink: port(deps, (p, { system, channel }) => {
        const st = p.gossip.stateTransfer;
        const ref = system.get(channelChildId(channel, 'stateTransfer')) as StateTransferRef | undefined;
        if (!st || !ref) return () => undefined;
        st.start(ref);
        return () => st.stop();
      }),
    },
  });
}
