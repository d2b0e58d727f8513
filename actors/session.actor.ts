// Session binding: murmur's stand-in for Fabric's ConnEstablish handshake (digest §6.2). NATS gives no
// authenticated per-pair stream, so a peer proves who answers on an inbox with a signed `session` message:
//   at start: probe every bootstrap and anchor endpoint (signed, fresh nonce, own inbox + incarnation)
//   on probe from X:  record X's binding; answer to X's inbox with {to: X, same nonce}
//   on answer:        accept only if addressed to me with a nonce I am waiting for; record the binding
//   no answer within dialTimeout: probe again after reconnectInterval, at most maxConnectionAttempts times
// Bindings and outstanding nonces are bounded. Membership (discovery) builds on these bindings.
import { fromCallback, type EventObject } from 'xstate';
import type { Transport } from '../runtime/transport/transport.ts';
import type { Clock } from '../runtime/clock.ts';
import type { Rng } from '../runtime/rng.ts';
import type { LocalSigner } from '../runtime/crypto/signer.ts';
import type { SessionMsg, Verified } from '../runtime/wire/messages.ts';
import { seal } from '../runtime/wire/envelope.ts';
import { TimerGroup } from '../runtime/timers.ts';
import { Lru } from '../runtime/util/lru.ts';
import { bytesEqual } from '../runtime/util/bytes.ts';
import type { InboundPort } from './inbound-router.ts';

export interface SessionBinding {
  pkiIdHex: string;
  mspId: string;
  subject: string;
  inbox: string;
  incNum: number;
  at: number;
}

export interface SessionDeps {
  transport: Transport;
  inbound: InboundPort;
  signer: LocalSigner;
  clock: Clock;
  rng: Rng;
  incNum: number;
  /** Endpoints to probe at start (bootstrap peers and anchor peers), excluding this peer's own. */
  targets: string[];
  dialTimeoutMs: number;
  reconnectIntervalMs: number;
  maxConnectionAttempts: number;
  maxBindings?: number;
}

export class SessionTable {
  readonly bindings: Lru<string, SessionBinding>;
  constructor(max = 10_000) {
    this.bindings = new Lru(max);
  }
  list(): SessionBinding[] {
    return [...this.bindings.keys()].map((k) => this.bindings.peek(k)!);
  }
}

export function sessionLogic(deps: SessionDeps, table: SessionTable) {
  return fromCallback<EventObject>(() => {
    const { transport, signer, clock, rng } = deps;
    const self = signer.identity;
    // nonce → target endpoint, for probes still waiting for an answer (bounded by the target list).
    const waiting = new Map<number, string>();
    const timers = new TimerGroup(clock);
    const attempts = new Map<string, number>();
    const later = (ms: number, fn: () => void) => timers.later(ms, fn);
    const binding = (m: Verified<SessionMsg>): SessionBinding => ({
      pkiIdHex: m.signer.pkiIdHex,
      mspId: m.signer.mspId,
      subject: m.signer.subject,
      inbox: m.payload.inbox,
      incNum: m.payload.incNum,
      at: clock.now(),
    });
    const remember = (b: SessionBinding) => {
      const known = table.bindings.peek(b.pkiIdHex);
      // An older incarnation never overwrites a newer one (replayed bindings change nothing).
      if (!known || known.incNum <= b.incNum) table.bindings.set(b.pkiIdHex, b);
    };

    const probe = (endpoint: string) => {
      const n = (attempts.get(endpoint) ?? 0) + 1;
      attempts.set(endpoint, n);
      const nonce = rng.nonce();
      waiting.set(nonce, endpoint);
      const msg: SessionMsg = { t: 'session', pkiId: self.pkiId, inbox: transport.endpoint, incNum: deps.incNum, nonce, to: null, probe: true };
      transport.send(endpoint, seal(msg, signer));
      later(deps.dialTimeoutMs, () => {
        if (!waiting.delete(nonce)) return;
        if (n < deps.maxConnectionAttempts) later(deps.reconnectIntervalMs, () => probe(endpoint));
      });
    };

    const unsubscribe = deps.inbound.onPeer('session', (m) => {
      if (m.signer.pkiIdHex === self.pkiIdHex) return;
      if (m.payload.probe) {
        remember(binding(m));
        const reply: SessionMsg = { t: 'session', pkiId: self.pkiId, inbox: transport.endpoint, incNum: deps.incNum, nonce: m.payload.nonce, to: m.signer.pkiId, probe: false };
        transport.send(m.payload.inbox, seal(reply, signer));
        return;
      }
      if (!m.payload.to || !bytesEqual(m.payload.to, self.pkiId)) return;
      if (!waiting.delete(m.payload.nonce)) return;
      remember(binding(m));
    });

    for (const t of new Set(deps.targets)) probe(t);

    return () => {
      unsubscribe();
      timers.clear();
      waiting.clear();
    };
  });
}
