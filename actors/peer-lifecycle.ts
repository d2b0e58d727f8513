// The peer's start and stop, as the root machine invokes them (machines/peer.machine.ts `start`/`stop`), and
// the facade's start/stop over the root actor.
//   start: subscribe the peer's subjects, route inbound, connect NATS while the channels' ledgers open (neither
//          needs the other), cap the codec at the server's max_payload, serve status; a ledger that fails to
//          open stops the transport again and fails the start
//   stop:  stop serving, routing and NATS (drained), then close the ledgers
import { fromPromise, type Actor, type AnyStateMachine } from 'xstate';
import type { Subscription } from 'rxjs';
import type { Transport } from '../runtime/transport/transport.ts';
import type { WireCodec } from '../runtime/wire/codec.ts';
import type { InboundRouter } from './inbound-router.ts';

export interface LifecycleDeps {
  transport: Transport;
  codec: WireCodec;
  inbound: InboundRouter;
  /** Subjects this peer listens on (its org's and its channels'). */
  subjects: string[];
  statusSubject: string;
  /** Opens every channel's ledger and builds its parts. */
  open(): Promise<void>;
  closeLedgers(): Promise<void>;
  /** `murmur status` rows, encoded. */
  status(): Uint8Array;
  /** NATS connected or not, to the root machine. */
  connected(connected: boolean): void;
}

export function lifecycleLogic(d: LifecycleDeps) {
  let sub: Subscription | null = null;
  let stopServe: (() => void) | null = null;
  const start = fromPromise(async () => {
    for (const s of d.subjects) d.transport.subscribe(s);
    d.inbound.start();
    sub = d.transport.status$.subscribe((e) => d.connected(d.transport.connected || e.type === 'connected' || e.type === 'reconnected'));
    const connecting = d.transport.start();
    try {
      await d.open();
    } catch (e) {
      await connecting.catch(() => undefined);
      await d.transport.stop();
      throw e;
    }
    await connecting;
    d.codec.maxBytes = Math.min(d.codec.maxBytes, d.transport.maxPayload);
    stopServe = d.transport.serve(d.statusSubject, () => d.status());
  });
  const stop = fromPromise(async () => {
    stopServe?.();
    d.inbound.stop();
    sub?.unsubscribe();
    await d.transport.stop();
    await d.closeLedgers();
  });
  return { start, stop };
}

type RootActor = Actor<AnyStateMachine>;

/** Starts the root actor and resolves once it runs (rejects when it failed); stops it once, idempotently. */
export function rootControl(actor: RootActor, peerId: string) {
  let stopped: Promise<void> | null = null;
  return {
    start: () =>
      new Promise<void>((resolve, reject) => {
        const sub = actor.subscribe((s) => {
          if (s.matches('running')) {
            sub.unsubscribe();
            resolve();
          } else if (s.matches('failed')) {
            sub.unsubscribe();
            reject(new Error(`peer ${peerId} failed to start: ${(s.context as { error?: unknown }).error}`));
          }
        });
        actor.start();
      }),
    stop: () => {
      stopped ??= new Promise<void>((resolve) => {
        if (actor.getSnapshot().status !== 'active') return resolve();
        actor.subscribe({ complete: () => resolve(), next: (s) => void (s.status === 'done' && resolve()) });
        actor.send({ type: 'peer.stop' });
      }).then(() => void actor.stop());
      return stopped;
    },
  };
}
