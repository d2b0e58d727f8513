// Session binding: murmur's stand-in for Fabric's ConnEstablish handshake (digest §6.2). NATS gives no
// authenticated per-pair stream, so a peer proves who answers on an inbox with a signed `session` message:
//   at start: probe every bootstrap and anchor endpoint (signed, fresh nonce, own inbox + incarnation)
//   on probe from X:  record X's binding; answer to X's inbox with {to: X, same nonce}
//   on answer:        accept only if addressed to me with a nonce I am waiting for; record the binding, and
//                     the endpoint the probe went to as X's proven inbox (X received there: it knew the nonce)
//   no answer within dialTimeout: probe again after reconnectInterval, at most maxConnectionAttempts times
//   a member discovery reports (joined, resurrected) gets one probe, so its inbox is proven before it asks;
//   a bulk reply for an unproven inbox waits (whenProven) for the answer to a probe sent there, at most
//   dialTimeout, then is dropped; one probe per endpoint at a time
// Key agreement rides on the same messages: probe and answer carry the sender's X25519 key for this incarnation
// (signed with everything else), and each side derives the pair's message keys (runtime/crypto/session-keys.ts).
// An answer to my probe confirms the peer holds my key, so from then on I may tag messages to it instead of
// signing them; a probe from a new incarnation of a peer replaces its keys, and I probe it back to confirm.
// Bindings, proven inboxes and outstanding nonces are bounded. Membership (discovery) builds on the bindings;
// bulk replies (grafts, pull updates, state responses) go only to proven inboxes.
import { fromCallback, type EventObject } from 'xstate';
import type { Observable } from 'rxjs';
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
import type { SessionKeys } from '../runtime/crypto/session-keys.ts';

export interface SessionBinding {
  pkiIdHex: string;
  mspId: string;
  subject: string;
  inbox: string;
  incNum: number;
  at: number;
}

/** An inbox a peer proved it receives on, and the incarnation that proved it. */
export interface ProvenInbox {
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
  /** Endpoints of members as discovery learns them: each is probed once, so replies to them are proven early. */
  members$?: Observable<string>;
}

/** Probes waiting for an answer, at most (a proof asked beyond it is dropped; the next request asks again). */
const MAX_WAITING = 1024;
/** Replies waiting for a proof, per peer and in all: the rest are refused at once. */
const MAX_PENDING_PER_PEER = 4;
const MAX_PENDING = 1024;

interface PendingReply {
  inbox: string;
  send: () => void;
  refuse: () => void;
}

export class SessionTable {
  readonly bindings: Lru<string, SessionBinding>;
  /** PKI-ID → the inbox that peer answered a probe through. */
  readonly proven: Lru<string, ProvenInbox>;
  /** Set by the running session actor: one probe of `endpoint` (deduplicated, bounded). */
  private probe: ((endpoint: string) => void) | null = null;
  private readonly pending = new Map<string, PendingReply[]>();
  private pendingCount = 0;
  /** Callers waiting to learn who answers on an inbox (onProof), by inbox; bounded. */
  private readonly proofWaiters = new Map<string, ((b: SessionBinding) => void)[]>();
  /** `keys`: this peer's pairwise message keys (null: every message is signed). */
  constructor(
    readonly keys: SessionKeys | null = null,
    max = 10_000,
  ) {
    this.bindings = new Lru(max);
    this.proven = new Lru(max);
  }
  list(): SessionBinding[] {
    return [...this.bindings.keys()].map((k) => this.bindings.peek(k)!);
  }
  provenInbox(pkiIdHex: string): string | null {
    return this.proven.peek(pkiIdHex)?.inbox ?? null;
  }
  /**
   * Runs `send` once `pkiIdHex` has proven it receives on `inbox`: now if it has, else after a probe's answer
   * (dialTimeout at most: then `refuse`). Bounded: beyond 4 waiting replies per peer or 1 024 in all, or while
   * the session actor is not running, `refuse` runs at once.
   */
  whenProven(pkiIdHex: string, inbox: string, send: () => void, refuse: () => void): void {
    if (this.provenInbox(pkiIdHex) === inbox) return send();
    const list = this.pending.get(pkiIdHex) ?? [];
    if (!this.probe || list.length >= MAX_PENDING_PER_PEER || this.pendingCount >= MAX_PENDING) return refuse();
    list.push({ inbox, send, refuse });
    this.pending.set(pkiIdHex, list);
    this.pendingCount++;
    this.probe(inbox);
  }

  /** Who proved to receive on `inbox` (answered a probe sent there), or null. */
  provenBy(inbox: string): SessionBinding | null {
    for (const pki of this.proven.keys()) if (this.proven.peek(pki)!.inbox === inbox) return this.bindings.peek(pki) ?? null;
    return null;
  }

  /** Drops what is known of a peer discovery forgot (its binding and proven inbox). */
  forget(pkiIdHex: string): void {
    this.bindings.delete(pkiIdHex);
    this.proven.delete(pkiIdHex);
    this.keys?.forget(pkiIdHex);
  }

  /** Sends one probe to `inbox` (none while one is out there, or while the session actor is not running). */
  prove(inbox: string): void {
    this.probe?.(inbox);
  }

  /** Calls `cb` once with the binding of whoever next proves to receive on `inbox` (a probe's answer). At most
   * 64 inboxes and 8 callers each wait; beyond that the call is dropped (the caller retries on its timer). */
  onProof(inbox: string, cb: (b: SessionBinding) => void): void {
    const list = this.proofWaiters.get(inbox) ?? [];
    if (list.length >= 8 || (!list.length && this.proofWaiters.size >= 64)) return;
    list.push(cb);
    this.proofWaiters.set(inbox, list);
  }

  /** The probe of `inbox` was answered by `pkiIdHex` (null: by nobody in time): that peer's waiting replies go
   * out; every other reply waiting on that inbox is refused (it is not the requester's). */
  settle(pkiIdHex: string | null, inbox: string): void {
    const binding = pkiIdHex !== null && this.provenInbox(pkiIdHex) === inbox ? this.bindings.peek(pkiIdHex) : undefined;
    const waiters = this.proofWaiters.get(inbox);
    if (binding && waiters) {
      this.proofWaiters.delete(inbox);
      for (const cb of waiters) cb(binding);
    }
    for (const [peer, list] of this.pending) {
      const keep = list.filter((r) => {
        if (r.inbox !== inbox) return true;
        this.pendingCount--;
        if (peer === pkiIdHex && this.provenInbox(peer) === inbox) r.send();
        else r.refuse();
        return false;
      });
      if (keep.length) this.pending.set(peer, keep);
      else this.pending.delete(peer);
    }
  }

  /** The session actor's probe while it runs (null when it stops: waiting replies are refused). */
  bindProbe(probe: ((endpoint: string) => void) | null): void {
    this.probe = probe;
    if (!probe) {
      this.proofWaiters.clear();
      for (const list of this.pending.values()) for (const r of list) r.refuse();
      this.pending.clear();
      this.pendingCount = 0;
    }
  }
}

export function sessionLogic(deps: SessionDeps, table: SessionTable) {
  return fromCallback<EventObject>(() => {
    const { transport, signer, clock, rng } = deps;
    const self = signer.identity;
    // Without pairwise keys the probe still carries a key (the wire requires one): zeros, which agree nothing.
    const dh = table.keys?.publicKey ?? new Uint8Array(32);
    // nonce → endpoint probed, for probes still waiting for an answer (at most MAX_WAITING).
    const waiting = new Map<number, string>();
    const timers = new TimerGroup(clock);
    const attempts = new Map<string, number>();
    // Endpoints with a proof probe out (at most MAX_WAITING).
    const proving = new Set<string>();
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

    const send = (endpoint: string): number | null => {
      if (waiting.size >= MAX_WAITING) return null;
      const nonce = rng.nonce();
      waiting.set(nonce, endpoint);
      const msg: SessionMsg = { t: 'session', pkiId: self.pkiId, inbox: transport.endpoint, incNum: deps.incNum, nonce, to: null, probe: true, dh };
      transport.send(endpoint, seal(msg, signer));
      return nonce;
    };
    const probe = (endpoint: string) => {
      const n = (attempts.get(endpoint) ?? 0) + 1;
      attempts.set(endpoint, n);
      const nonce = send(endpoint);
      later(deps.dialTimeoutMs, () => {
        if (nonce !== null && !waiting.delete(nonce)) return;
        if (n < deps.maxConnectionAttempts) later(deps.reconnectIntervalMs, () => probe(endpoint));
      });
    };
    // One probe out per endpoint for a proof; unanswered within dialTimeout, what waits for it is refused.
    const proveOnce = (endpoint: string) => {
      if (endpoint === transport.endpoint || proving.has(endpoint)) return;
      const nonce = send(endpoint);
      if (nonce === null) return table.settle(null, endpoint);
      proving.add(endpoint);
      later(deps.dialTimeoutMs, () => {
        if (!waiting.delete(nonce)) return;
        proving.delete(endpoint);
        table.settle(null, endpoint);
      });
    };
    const learnKey = (m: Verified<SessionMsg>) => table.keys?.learn(m.signer.pkiIdHex, { pkiId: m.signer.pkiId, incNum: m.payload.incNum, dh: m.payload.dh }) ?? false;
    const proven = (m: Verified<SessionMsg>, inbox: string) => {
      const known = table.proven.peek(m.signer.pkiIdHex);
      if (!known || known.incNum <= m.payload.incNum) table.proven.set(m.signer.pkiIdHex, { inbox, incNum: m.payload.incNum, at: clock.now() });
    };

    const unsubscribe = deps.inbound.onPeer('session', (m) => {
      if (m.signer.pkiIdHex === self.pkiIdHex) return;
      if (m.payload.probe) {
        remember(binding(m));
        const fresh = learnKey(m);
        const reply: SessionMsg = { t: 'session', pkiId: self.pkiId, inbox: transport.endpoint, incNum: deps.incNum, nonce: m.payload.nonce, to: m.signer.pkiId, probe: false, dh };
        transport.send(m.payload.inbox, seal(reply, signer));
        // A new incarnation's key: my answer gives it mine, my own probe's answer will confirm it holds it.
        if (fresh) proveOnce(m.payload.inbox);
        return;
      }
      if (!m.payload.to || !bytesEqual(m.payload.to, self.pkiId)) return;
      const probed = waiting.get(m.payload.nonce);
      if (probed === undefined) return;
      waiting.delete(m.payload.nonce);
      proving.delete(probed);
      remember(binding(m));
      learnKey(m);
      table.keys?.confirm(m.signer.pkiIdHex, m.payload.incNum, m.payload.dh);
      proven(m, probed);
      table.settle(m.signer.pkiIdHex, probed);
    });
    table.bindProbe(proveOnce);
    const members = deps.members$?.subscribe(proveOnce);

    for (const t of new Set(deps.targets)) probe(t);

    return () => {
      unsubscribe();
      members?.unsubscribe();
      table.bindProbe(null);
      timers.clear();
      waiting.clear();
      proving.clear();
    };
  });
}
