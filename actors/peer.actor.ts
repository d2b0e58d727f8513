// Peer assembly: binds the pure root machine (machines/peer.machine.ts) to the transport, signer, clock and
// randomness it is given. The same assembly runs in real time on NATS (runtime/peer.ts) and in simulated
// time on the in-memory network (runtime/sim/harness.ts).
import { createActor, fromPromise, type Actor, type InspectionEvent } from 'xstate';
import { type Subscription } from 'rxjs';
import { peerMachine, channelActorId, type PeerInput } from '../machines/peer.machine.ts';
import type { Transport } from '../runtime/transport/transport.ts';
import { subjects as subjectsOf } from '../runtime/transport/subjects.ts';
import type { Clock } from '../runtime/clock.ts';
import type { Rng } from '../runtime/rng.ts';
import type { LocalSigner } from '../runtime/crypto/signer.ts';
import type { WireCodec } from '../runtime/wire/codec.ts';
import type { Genesis } from '../runtime/ledger/channel-config.ts';
import { blockHash } from '../runtime/ledger/block.ts';
import { toHex } from '../runtime/util/bytes.ts';
import { sessionLogic, SessionTable } from './session.actor.ts';
import { encodeStatusRows, type Role, type StatusRow } from './status.ts';

export interface PeerOptions {
  peerId: string;
  mspId: string;
  prefix: string;
  channels: { name: string; genesis: Genesis }[];
  bootstrap: string[];
  useLeaderElection: boolean;
  orgLeader: boolean;
  stateEnabled: boolean;
  dialTimeoutMs: number;
  reconnectIntervalMs: number;
  maxConnectionAttempts: number;
  pid?: number | null;
  opsUrl?: string | null;
  inspect?: (e: InspectionEvent) => void;
}

export interface PeerDeps {
  transport: Transport;
  codec: WireCodec;
  signer: LocalSigner;
  clock: Clock;
  rng: Rng;
}

export interface Peer {
  readonly actor: Actor<typeof peerMachine>;
  readonly sessions: SessionTable;
  /** Resolves once running; rejects if starting failed. */
  start(): Promise<void>;
  /** Stops every child and the transport; idempotent. */
  stop(): Promise<void>;
  status(): StatusRow[];
}

export function createPeer(o: PeerOptions, d: PeerDeps): Peer {
  const subjects = subjectsOf(o.prefix);
  const sessions = new SessionTable();
  // Incarnation: the clock at start (Fabric uses process start time); later issues persist it.
  const incNum = d.clock.now();
  const ownEndpoints = new Set([d.transport.endpoint, o.peerId]);
  const anchors = o.channels.flatMap((c) => c.genesis.config.anchorPeers.map((a) => a.endpoint));
  const targets = [...new Set([...o.bootstrap, ...anchors])].filter((e) => !ownEndpoints.has(e));
  const subs: Subscription[] = [];
  let stopServe: (() => void) | null = null;

  const status = (): StatusRow[] => {
    const snap = actor.getSnapshot();
    const staticRole: Role | null = o.useLeaderElection ? null : o.orgLeader ? 'leader' : 'standby';
    return snap.context.channels.map(({ channel }) => {
      const child = snap.children[channelActorId(channel)]?.getSnapshot() as { context?: { height: number; tipHash: string } } | undefined;
      const ch = child?.context;
      return {
        id: o.peerId,
        org: o.mspId,
        channel,
        pid: o.pid ?? null,
        role: staticRole,
        leaderId: staticRole === 'leader' ? o.peerId : null,
        height: ch?.height ?? null,
        tipHash: ch?.tipHash ?? null,
        state: o.stateEnabled ? null : 'disabled',
        members: null,
        natsConnected: d.transport.connected,
        opsUrl: o.opsUrl ?? null,
        counters: {
          blocksFromOrderer: null,
          blocksByPush: null,
          blocksByPull: null,
          blocksByStateTransfer: null,
          duplicates: null,
          rejected: d.codec.rejections.snapshot(),
        },
      };
    });
  };

  const machine = peerMachine.provide({
    actors: {
      start: fromPromise(async () => {
        for (const { name } of o.channels) {
          d.transport.subscribe(subjects.org(o.mspId, name));
          d.transport.subscribe(subjects.channel(name));
        }
        d.transport.subscribe(subjects.discoveryOrg(o.mspId));
        d.transport.subscribe(subjects.discoveryExternal());
        subs.push(d.transport.status$.subscribe((e) => actor.send({ type: 'transport.status', connected: d.transport.connected || e.type === 'connected' || e.type === 'reconnected' })));
        await d.transport.start();
        d.codec.maxBytes = Math.min(d.codec.maxBytes, d.transport.maxPayload);
        stopServe = d.transport.serve(subjects.status(), () => encodeStatusRows(status()));
      }),
      stop: fromPromise(async () => {
        stopServe?.();
        for (const s of subs) s.unsubscribe();
        await d.transport.stop();
      }),
      session: sessionLogic(
        {
          transport: d.transport,
          signer: d.signer,
          clock: d.clock,
          rng: d.rng.fork('session'),
          incNum,
          targets,
          dialTimeoutMs: o.dialTimeoutMs,
          reconnectIntervalMs: o.reconnectIntervalMs,
          maxConnectionAttempts: o.maxConnectionAttempts,
        },
        sessions,
      ),
    },
  });

  const input: PeerInput = {
    peerId: o.peerId,
    mspId: o.mspId,
    channels: o.channels.map(({ name, genesis }) => ({ channel: name, height: 1, tipHash: toHex(blockHash(genesis.block)) })),
  };
  const actor = createActor(machine, { input, clock: d.clock, inspect: o.inspect, systemId: `peer:${o.peerId}` });
  d.codec.learn(d.signer.identity);

  let stopped: Promise<void> | null = null;
  return {
    actor,
    sessions,
    start() {
      return new Promise<void>((resolve, reject) => {
        const sub = actor.subscribe((s) => {
          if (s.matches('running')) {
            sub.unsubscribe();
            resolve();
          } else if (s.matches('failed')) {
            sub.unsubscribe();
            reject(new Error(`peer ${o.peerId} failed to start: ${s.context.error}`));
          }
        });
        actor.start();
      });
    },
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        if (actor.getSnapshot().status !== 'active') return resolve();
        actor.subscribe({ complete: () => resolve(), next: (s) => void (s.status === 'done' && resolve()) });
        actor.send({ type: 'peer.stop' });
      }).then(() => void actor.stop());
      return stopped;
    },
    status,
  };
}
