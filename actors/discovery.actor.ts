// Discovery: keeps the membership view of live channel members (Fabric digest §3) on the bus.
//   every aliveTimeInterval:   if anyone is known, sign a fresh alive (incNum, ++seqNum) and publish it to the
//                              own org's discovery subject (with the internal-endpoint secret) and, when this
//                              peer has an external endpoint, to each channel subject with the secret stripped;
//                              murmur profile with SWIM (the default): publish it on the org subject only when
//                              it changes (first contact, new metadata or endpoint, a refutation) and probe one
//                              org member instead (actors/swim-prober.ts, machines/swim.logic.ts): a member
//                              whose probe fails is suspected on the org subject, a suspected peer refutes with
//                              a fresh alive, an unrefuted suspicion makes the member dead; org members are not
//                              timed out by heartbeat age, other orgs' external peers still are;
//                              fabric profile (aliveFanout): send it to aliveFanout random alive peers the
//                              disclosure policy allows instead, and forward every alive message received that
//                              is new to this peer to aliveFanout more (Fabric's gossiped membership; the secret
//                              is stripped for other orgs)
//   every expiration/10:       alive peers silent for aliveExpirationTimeout → dead; forget after
//                              expiration × msgExpirationFactor unless bootstrap or anchor
//   every pullInterval:        membership request to pullPeerNum random alive peers (anti-entropy; murmur
//                              profile: one peer, since alive messages already reach every org peer directly,
//                              and the request to a same-org peer carries a digest of the requester's view of
//                              the org: a responder whose view hashes the same stays silent, and unanswered
//                              rounds back off up to QUIET_BACKOFF_MAX periods until something changes)
//   every reconnectInterval:   membership request to every dead peer (a live one answers → resurrected)
//   identity purge:            a member whose certificate expired (checked with expiry) or was revoked (`suspect`,
//                              when a revocation list arrives) is removed at once, as is the old PKI-ID of a peer
//                              that restarted with a renewed certificate (the identity switch,
//                              machines/discovery.logic.ts)
//   at start:                  membership request to bootstrap (same org) and anchor peers, retried every
//                              reconnectInterval up to maxConnectionAttempts until one answers; a bootstrap
//                              endpoint gets it only once a peer of this org proved to receive there (the
//                              session probe's answer): the request carries the internal endpoint, and a
//                              misconfigured foreign bootstrap peer must not learn it (counted
//                              bootstrap-foreign-org, never asked again)
// A membership request is answered only if its embedded alive is the requester's own (anti-spoofing), with
// what the disclosure policy lets the requester know. Responses are accepted only for outstanding nonces.
// Requests and responses embed the last alive this peer signed if it is younger than aliveTimeInterval (a
// fresh one otherwise): liveness is the heartbeat's job, and the same bytes hit every receiver's verify cache
// instead of costing a signature here and one verification per receiver.
import { fromCallback, type EventObject } from 'xstate';
import { BehaviorSubject, Subject, Subscription } from 'rxjs';

import { isSafeEndpoint, MAX_ENDPOINT_LENGTH, subjects as subjectsOf } from '../runtime/transport/subjects.ts';
import { LIMITS } from '../runtime/wire/validate.ts';
import type { AliveMsg, MemReqMsg, MemResMsg, Verified } from '../runtime/wire/messages.ts';
import { TimerGroup, phase } from '../runtime/timers.ts';
import { envelopeSignature, parseEnvelope, seal, stripSecret } from '../runtime/wire/envelope.ts';
import { bytesEqual, toHex } from '../runtime/util/bytes.ts';
import { MembershipTable, identitySwitch, mayDisclose, type AliveInfo, type MemberRecord } from '../machines/discovery.logic.ts';
import type { PeerIO } from './peer-io.ts';
import type { SessionBinding, SessionTable } from './session.actor.ts';
import { viewDigest } from './view-digest.ts';
import { QUIET_BACKOFF_MAX, QuietBackoff } from '../machines/backoff.logic.ts';
import { compareTime } from '../machines/discovery.logic.ts';
import { Suspicions, suspicionTimeout } from '../machines/swim.logic.ts';
import { SwimProber } from './swim-prober.ts';
import type { Sealer } from '../runtime/wire/sealer.ts';
import type { SuspectMsg } from '../runtime/wire/messages.ts';
import { fromHex } from '../runtime/util/bytes.ts';

export interface DiscoveryTimings {
  aliveTimeInterval: number;
  aliveExpirationTimeout: number;
  reconnectInterval: number;
  pullInterval: number;
  pullPeerNum: number;
  msgExpirationFactor: number;
  maxConnectionAttempts: number;
}

/** Discovery's inbound kinds: alive, memReq, memRes. */
export interface DiscoveryDeps extends PeerIO {
  prefix: string;
  internalEndpoint: string;
  /** '' = invisible outside the org. */
  externalEndpoint: string;
  bootstrap: string[];
  anchors: { mspId: string; endpoint: string }[];
  channels: string[];
  /** Incarnation: strictly greater at every start of this peer (persisted by the caller). */
  incNum: number;
  timings: DiscoveryTimings;
  metadata?: Uint8Array;
  /** Peers asked per membership sync round (default pullPeerNum, Fabric's). */
  syncPeerNum?: number;
  /** How often membership is synced (default pullInterval, Fabric's). */
  syncPeriod?: number;
  /** fabric profile: alive messages are gossiped to this many random peers and forwarded once by each peer that
   * finds them new, instead of being published on subjects (0: not gossiped at all; membership then comes from
   * the sync rounds alone). */
  aliveFanout?: number;
  /** murmur profile: same-org sync requests carry a view digest, and an equal view is not answered. */
  quietSync?: boolean;
  /** Who answers on which inbox (the session probes); without it bootstrap peers are asked unproven. */
  sessions?: Pick<SessionTable, 'provenBy' | 'onProof' | 'prove'> & Partial<Pick<SessionTable, 'bindings'>>;
  /** murmur profile: SWIM failure detection inside the org (probes sealed by `sealer`) instead of every member
   * publishing its alive message every aliveTimeInterval. */
  swim?: { sealer: Pick<Sealer, 'to'> };
}

export type PurgeReason = 'cert-expired' | 'cert-revoked' | 'identity-switch';
export type MembershipEvent =
  | { type: 'joined' | 'resurrected' | 'dead' | 'forgotten'; member: MemberRecord }
  | { type: 'purged'; member: MemberRecord; reason: PurgeReason };

/** Outstanding membership requests are bounded; older ones are dropped first. */
const MAX_OUTSTANDING = 1024;
/** How long a membership request waits for its response (Fabric waits 5 s for a bootstrap answer). */
const RESPONSE_WAIT_MS = 5000;

export class Discovery {
  readonly table = new MembershipTable();
  /** quietSyncs: sync requests left unanswered because the requester's view of the org hashed the same as this
   * peer's; probes: reconnection requests sent to dead members; purged: members removed by identity purge. */
  readonly stats = { quietSyncs: 0, probes: 0, purged: 0, suspected: 0, refuted: 0 };
  /** SWIM (murmur profile): the org's probes, and the members suspected and not yet refuted. */
  readonly prober: SwimProber | null;
  readonly suspicions = new Suspicions();
  /** SWIM: this peer's current alive was published on the org subject. */
  private announced = false;
  private lastRefute = -Infinity;
  private refutePending = false;
  readonly events$ = new Subject<MembershipEvent>();
  /** Alive members (self excluded), re-emitted on every change. */
  readonly alive$ = new BehaviorSubject<MemberRecord[]>([]);
  private seqNum = 0;
  private lastAlive: { env: Uint8Array; at: number } | null = null;
  private readonly subs: Subscription[] = [];
  private timers: TimerGroup;
  private readonly outstanding = new Map<number, { target: string; at: number }>();
  /** murmur profile: sync rounds slow down while converged (machines/backoff.logic.ts). */
  readonly backoff = new QuietBackoff(QUIET_BACKOFF_MAX);
  private readonly protectedEndpoints: Set<string>;
  private readonly self;
  private readonly s;
  private running = false;

  constructor(private readonly d: DiscoveryDeps) {
    this.timers = new TimerGroup(d.clock);
    this.self = d.signer.identity;
    this.s = subjectsOf(d.prefix);
    this.protectedEndpoints = new Set([...d.bootstrap, ...d.anchors.map((a) => a.endpoint)]);
    this.prober = d.swim
      ? new SwimProber({
          transport: d.transport,
          inbound: d.inbound,
          clock: d.clock,
          rng: d.rng.fork('swim'),
          sealer: d.swim.sealer,
          period: d.timings.aliveTimeInterval,
          watched: () => this.watched(),
          endpointOf: (id) => this.endpointFor(id) ?? this.d.sessions?.bindings?.peek(id)?.inbox ?? null,
          sameOrg: (mspId) => mspId === this.self.mspId,
          failed: (id) => this.suspectMember(id),
          count: (reason) => this.d.codec.rejections.count(reason),
        })
      : null;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.timers = new TimerGroup(this.d.clock);
    const { transport, timings: t } = this.d;
    if (this.d.externalEndpoint && this.d.externalEndpoint !== transport.endpoint) transport.subscribe(this.s.inbox(this.d.externalEndpoint));
    this.subs.push(
      new Subscription(this.d.inbound.onPeer('alive', (m) => this.onAlive(m, true))),
      new Subscription(this.d.inbound.onPeer('memReq', (m) => this.onMemReq(m))),
      new Subscription(this.d.inbound.onPeer('memRes', (m) => this.onMemRes(m))),
    );
    if (this.prober) {
      this.prober.start();
      this.subs.push(new Subscription(this.d.inbound.onPeer('suspect', (m) => this.onSuspect(m))));
    }
    this.timers.every(t.aliveTimeInterval, () => this.heartbeat(), phase(this.d.rng, t.aliveTimeInterval));
    this.timers.every(Math.max(1, Math.floor(t.aliveExpirationTimeout / 10)), () => this.checkExpiry());
    this.syncLoop(this.d.syncPeriod ?? t.pullInterval);
    this.timers.every(t.reconnectInterval, () => this.reconnectDead());
    this.connectTargets();
  }

  stop(): void {
    this.running = false;
    for (const s of this.subs) s.unsubscribe();
    this.subs.length = 0;
    this.timers.clear();
    this.outstanding.clear();
    this.connecting.clear();
    this.prober?.stop();
    this.announced = false;
    this.refutePending = false;
  }

  aliveMembers(): MemberRecord[] {
    return this.table.alive();
  }

  /** What the table holds of a peer (alive or dead), by PKI-ID. */
  member(pkiIdHex: string): MemberRecord | undefined {
    return this.table.get(pkiIdHex);
  }

  /** Alive metadata from now on (Fabric's UpdateMetadata): the next alive message carries it. */
  updateMetadata(metadata: Uint8Array): void {
    // What every receiver would refuse as a malformed alive message is refused here, where it can be fixed.
    if (!(metadata instanceof Uint8Array) || metadata.byteLength > LIMITS.metadata) throw new Error(`alive metadata must be at most ${LIMITS.metadata} bytes`);
    this.d.metadata = metadata;
    this.lastAlive = null;
    this.announced = false;
  }

  /** The external endpoint from now on (Fabric's UpdateEndpoint): this peer listens there too, and the next
   * alive message declares it. */
  updateEndpoint(endpoint: string): void {
    const { transport } = this.d;
    const old = this.d.externalEndpoint;
    if (endpoint !== '' && !isSafeEndpoint(endpoint)) throw new Error(`bad external endpoint ${JSON.stringify(endpoint)}: host:port tokens, at most ${MAX_ENDPOINT_LENGTH} characters, or '' for none`);
    if (endpoint === old) return;
    if (this.running && old && old !== transport.endpoint) transport.unsubscribe(this.s.inbox(old));
    this.d.externalEndpoint = endpoint;
    if (this.running && endpoint && endpoint !== transport.endpoint) transport.subscribe(this.s.inbox(endpoint));
    this.lastAlive = null;
    this.announced = false;
  }

  /** Removes every member `isSuspect` names (Fabric's SuspectPeers, run when a revocation list arrives). */
  suspect(isSuspect: (m: MemberRecord) => boolean, reason: PurgeReason): MemberRecord[] {
    const purged = this.table.all().filter(isSuspect);
    for (const m of purged) this.purge(m, reason);
    return purged;
  }

  private purge(m: MemberRecord, reason: PurgeReason): void {
    const { aliveExpirationTimeout, msgExpirationFactor } = this.d.timings;
    if (!this.table.purge(m.pkiIdHex, this.d.clock.now(), aliveExpirationTimeout * msgExpirationFactor)) return;
    this.suspicions.clear(m.pkiIdHex);
    this.stats.purged++;
    this.backoff.reset();
    this.events$.next({ type: 'purged', member: m, reason });
    this.publishView();
  }

  /** A peer name held under another PKI-ID: the newcomer replaces it (true) or is ignored (false). */
  private admitsIdentity(a: AliveInfo): boolean {
    if (this.table.get(a.pkiIdHex)) return true;
    const holder = this.table.holderOf(a);
    if (!holder) return true;
    if (identitySwitch(a.ts, holder.ts) === 'ignore') {
      this.d.codec.rejections.count('superseded-identity');
      return false;
    }
    this.purge(holder, 'identity-switch');
    return true;
  }

  /** Where to reach a known peer (its declared endpoint: internal inside the org, external across orgs). */
  endpointFor(pkiIdHex: string): string | null {
    const m = this.table.get(pkiIdHex);
    return m ? this.endpointOf(m) : null;
  }

  // ---- outgoing ---------------------------------------------------------------------------------

  /** The last signed alive while younger than aliveTimeInterval, else a fresh one. */
  private currentAlive(): Uint8Array {
    const last = this.lastAlive;
    if (last && this.d.clock.now() - last.at < this.d.timings.aliveTimeInterval) return last.env;
    return this.signAlive();
  }

  /** A freshly signed alive message about this peer (with the internal endpoint in the secret). */
  private signAlive(): Uint8Array {
    const msg: AliveMsg = {
      t: 'alive',
      member: { endpoint: this.d.externalEndpoint, pkiId: this.self.pkiId, metadata: this.d.metadata ?? new Uint8Array(0) },
      ts: { incNum: this.d.incNum, seqNum: ++this.seqNum },
    };
    const env = seal(msg, this.d.signer, { secret: { internalEndpoint: this.d.internalEndpoint } });
    this.lastAlive = { env, at: this.d.clock.now() };
    return env;
  }

  private heartbeat(): void {
    // Fabric signs nothing while it knows nobody (TestNoSigningIfNoMembership).
    if (this.table.alive().length === 0) return;
    if (this.prober) {
      // SWIM: the org hears this peer's alive when it changes; other orgs (external peers) every period, as
      // their expiry still counts heartbeats.
      if (!this.announced || this.d.externalEndpoint) this.publishAlive(this.signAlive(), !this.announced);
      this.announced = true;
      this.prober.tick();
      return;
    }
    const env = this.signAlive();
    if (this.d.aliveFanout !== undefined) {
      this.gossipAlive(env, { pkiIdHex: this.self.pkiIdHex, mspId: this.self.mspId, endpoint: this.d.externalEndpoint });
      return;
    }
    this.publishAlive(env, true);
  }

  /** On the org subject (`org`), and for the other orgs on each channel subject when this peer is external. */
  private publishAlive(env: Uint8Array, org: boolean): void {
    if (org) this.d.transport.publish(this.s.discoveryOrg(this.self.mspId), env);
    if (this.d.externalEndpoint) {
      const stripped = stripSecret(env);
      for (const ch of this.d.channels) this.d.transport.publish(this.s.channel(ch), stripped);
    }
  }

  // ---- SWIM (murmur profile) ----------------------------------------------------------------------

  /** The members SWIM probes: alive peers of this org. */
  private watched(): string[] {
    const out: string[] = [];
    for (const m of this.table.alive()) if (m.mspId === this.self.mspId) out.push(m.pkiIdHex);
    return out;
  }

  /** A probe failed: suspect the member under the alive timestamp held of it, and tell the org once. */
  private suspectMember(id: string): void {
    const m = this.table.get(id);
    if (!m || m.status !== 'alive') return;
    if (!this.suspicions.suspect(id, m.ts, this.d.clock.now(), true)) return;
    this.stats.suspected++;
    this.publishSuspect(id, m);
  }

  private publishSuspect(id: string, m: MemberRecord): void {
    const msg: SuspectMsg = { t: 'suspect', pkiId: fromHex(id), ts: m.ts };
    this.d.transport.publish(this.s.discoveryOrg(this.self.mspId), seal(msg, this.d.signer));
  }

  /** An org peer suspects a member: start suspecting it too (under the timestamp it names, if that is still the
   * latest held); a suspicion of this peer is refuted at once with a fresh alive message. */
  private onSuspect(m: Verified<SuspectMsg>): void {
    if (m.signer.mspId !== this.self.mspId) return this.d.codec.rejections.count('suspect-foreign-org');
    const id = toHex(m.payload.pkiId);
    if (id === this.self.pkiIdHex) return this.refute();
    const r = this.table.get(id);
    if (!r || r.mspId !== this.self.mspId || r.status !== 'alive') return;
    // The accuser holds an older alive than this peer: the member may have refuted since, or the accuser missed
    // a refutation (announcements are not repeated). Either way this peer sees for itself, at once.
    if (compareTime(m.payload.ts, r.ts) < 0) return this.prober!.check(id);
    this.suspicions.suspect(id, r.ts, this.d.clock.now(), false);
  }

  /** A fresh alive on the org subject, at most one per half period (a flood of suspicions costs one each). */
  private refute(): void {
    const now = this.d.clock.now();
    const gap = this.d.timings.aliveTimeInterval / 2;
    if (now - this.lastRefute < gap) {
      if (!this.refutePending) {
        this.refutePending = true;
        this.timers.later(Math.ceil(this.lastRefute + gap - now), () => {
          this.refutePending = false;
          this.refute();
        });
      }
      return;
    }
    this.lastRefute = now;
    this.stats.refuted++;
    this.publishAlive(this.signAlive(), true);
    this.announced = true;
  }

  /** Suspicions that stood their time: the members are dead; the accuser tells the org once more. */
  private settleSuspicions(now: number): void {
    const { aliveTimeInterval, aliveExpirationTimeout } = this.d.timings;
    for (const [id, s] of this.suspicions.due(now, suspicionTimeout(aliveTimeInterval, aliveExpirationTimeout))) {
      const r = this.table.get(id);
      if (!r || r.status !== 'alive' || compareTime(r.ts, s.ts) > 0) continue;
      this.table.markDead(id);
      // A dead member is kept, probed and forgotten as if its heartbeats had stopped an expiry ago.
      r.lastSeen = r.storedAt = now - aliveExpirationTimeout;
      if (s.mine) this.publishSuspect(id, r);
      this.emit('dead', id, r);
    }
  }

  /** Fabric's gossiped membership: an alive message about `about` to aliveFanout random alive peers it may be
   * disclosed to (never back to its subject), with the internal-endpoint secret only inside the org. */
  private gossipAlive(env: Uint8Array, about: { pkiIdHex: string; mspId: string; endpoint: string }): void {
    const subject = { mspId: about.mspId, external: about.endpoint !== '' };
    const targets = this.table
      .alive()
      .filter((m) => m.pkiIdHex !== about.pkiIdHex && mayDisclose(this.self.mspId, subject, { mspId: m.mspId, external: m.endpoint !== '' }));
    for (const m of this.d.rng.sample(targets, Math.min(this.d.aliveFanout ?? 0, targets.length))) {
      const e = this.endpointOf(m);
      if (e) this.d.transport.send(e, m.mspId === this.self.mspId ? env : stripSecret(env));
    }
  }

  private sendMemReq(endpoint: string, sameOrg: boolean, view?: Uint8Array): number {
    const nonce = this.d.rng.nonce();
    const alive = this.currentAlive();
    const req: MemReqMsg = { t: 'memReq', nonce, alive: sameOrg ? alive : stripSecret(alive), ...(view ? { view } : {}) };
    if (this.outstanding.size >= MAX_OUTSTANDING) this.outstanding.delete(this.outstanding.keys().next().value as number);
    this.outstanding.set(nonce, { target: endpoint, at: this.d.clock.now() });
    this.d.transport.send(endpoint, seal(req, this.d.signer));
    this.timers.later(RESPONSE_WAIT_MS, () => this.outstanding.delete(nonce));
    return nonce;
  }

  /** Where to reach a member: its internal endpoint inside the org, its external one across orgs. */
  private endpointOf(m: MemberRecord): string | null {
    if (m.mspId === this.self.mspId) return m.internalEndpoint ?? (m.endpoint || null);
    return m.endpoint || null;
  }

  private connectTargets(): void {
    const own = new Set([this.d.internalEndpoint, this.d.externalEndpoint, this.d.transport.endpoint].filter(Boolean));
    const targets = new Map<string, boolean>();
    for (const b of this.d.bootstrap) if (!own.has(b)) targets.set(b, true);
    for (const a of this.d.anchors) {
      if (own.has(a.endpoint)) continue;
      const sameOrg = a.mspId === this.self.mspId;
      // A peer without an external endpoint does not contact foreign anchor peers (Fabric §3.7).
      if (!sameOrg && !this.d.externalEndpoint) continue;
      if (!targets.has(a.endpoint)) targets.set(a.endpoint, sameOrg);
    }
    const bootstrap = new Set(this.d.bootstrap);
    for (const [endpoint, sameOrg] of targets) {
      if (bootstrap.has(endpoint) && this.d.sessions) this.connectBootstrap(endpoint, 1);
      else this.connect(endpoint, sameOrg, 1);
    }
  }

  /** A bootstrap peer is only declared to be of this org; its answer to the session probe shows whose it is.
   * Of this org: the membership request goes out. Foreign: refused for good (Fabric's
   * TestBootstrapPeerMisConfiguration). Not proven within the response wait: tried again later. */
  private connectBootstrap(endpoint: string, attempt: number): void {
    if (!this.running) return;
    let settled = false;
    const decide = (b: SessionBinding): void => {
      if (settled || !this.running) return;
      settled = true;
      if (b.mspId === this.self.mspId) this.connect(endpoint, true, attempt);
      else this.d.codec.rejections.count('bootstrap-foreign-org');
    };
    const known = this.d.sessions!.provenBy(endpoint);
    if (known) return decide(known);
    this.d.sessions!.onProof(endpoint, decide);
    // The session's own probe of it may have gone out before that peer was up: ask again at this cadence.
    if (attempt > 1) this.d.sessions!.prove(endpoint);
    this.timers.later(RESPONSE_WAIT_MS, () => {
      if (settled || !this.running) return;
      settled = true;
      if (attempt < this.d.timings.maxConnectionAttempts) this.timers.later(this.d.timings.reconnectInterval, () => this.connectBootstrap(endpoint, attempt + 1));
    });
  }

  /** Bootstrap/anchor requests waiting for an answer: nonce → answered flag (bounded by the target list). */
  private readonly connecting = new Map<number, boolean>();

  private connect(endpoint: string, sameOrg: boolean, attempt: number): void {
    if (!this.running) return;
    const nonce = this.sendMemReq(endpoint, sameOrg);
    this.connecting.set(nonce, false);
    this.timers.later(RESPONSE_WAIT_MS, () => {
      const answered = this.connecting.get(nonce);
      this.connecting.delete(nonce);
      if (!answered && attempt < this.d.timings.maxConnectionAttempts) this.timers.later(this.d.timings.reconnectInterval, () => this.connect(endpoint, sameOrg, attempt + 1));
    });
  }

  /** Sync rounds every `period`; in the murmur profile (quietSync) they back off while nobody answers. */
  private syncLoop(period: number): void {
    const next = () => {
      this.sync();
      this.timers.later(this.d.quietSync ? this.backoff.round(period) : period, next);
    };
    this.timers.later(phase(this.d.rng, period), next);
  }

  private sync(): void {
    const alive = this.table.alive();
    for (const m of this.d.rng.sample(alive, Math.min(this.d.syncPeerNum ?? this.d.timings.pullPeerNum, alive.length))) {
      const e = this.endpointOf(m);
      const sameOrg = m.mspId === this.self.mspId;
      if (e) this.sendMemReq(e, sameOrg, sameOrg && this.d.quietSync ? this.orgView() : undefined);
    }
  }

  /** What this peer knows of its org (itself included), as the members and their status: the part of a
   * membership response to a same-org requester that is not liveness. */
  private orgView(): Uint8Array {
    const entries = [`${this.self.pkiIdHex}:alive`];
    for (const m of this.table.all()) if (m.mspId === this.self.mspId) entries.push(`${m.pkiIdHex}:${m.status}`);
    return viewDigest(entries);
  }

  private reconnectDead(): void {
    for (const m of this.table.dead()) {
      const e = this.endpointOf(m);
      if (!e) continue;
      m.probes = (m.probes ?? 0) + 1;
      this.stats.probes++;
      this.sendMemReq(e, m.mspId === this.self.mspId);
    }
  }

  // ---- incoming ---------------------------------------------------------------------------------

  private info(m: Verified<AliveMsg>): AliveInfo | null {
    if (m.signer.pkiIdHex === this.self.pkiIdHex) return null;
    const sameOrg = m.signer.mspId === this.self.mspId;
    // A peer without an external endpoint knows only its own org (Fabric never routes foreign alive
    // messages to it); on NATS it may still see them on a channel subject, so it ignores them.
    if (!sameOrg && !this.d.externalEndpoint) return null;
    // A foreign peer without an external endpoint must be invisible to us; its alive should never arrive.
    if (!sameOrg && !m.payload.member.endpoint) {
      this.d.codec.rejections.count('undisclosable-alive');
      return null;
    }
    return {
      pkiIdHex: m.signer.pkiIdHex,
      mspId: m.signer.mspId,
      id: m.signer.subject,
      endpoint: m.payload.member.endpoint,
      internalEndpoint: sameOrg ? (m.secret?.internalEndpoint ?? null) : null,
      ts: m.payload.ts,
      metadata: m.payload.member.metadata,
      notAfter: m.signer.notAfter,
      envelope: m.bytes,
    };
  }

  /** `gossiped`: it came as an alive message of its own (not inside a membership request or response), so in
   * the fabric profile it is forwarded if it was new here, as Fabric forwards what its message store admits. */
  private onAlive(m: Verified<AliveMsg>, gossiped = false): void {
    const a = this.info(m);
    if (!a || !this.admitsIdentity(a)) return;
    const outcome = this.table.handleAlive(a, this.d.clock.now());
    if (outcome === 'new') this.emit('joined', a.pkiIdHex);
    else if (outcome === 'resurrected') this.emit('resurrected', a.pkiIdHex);
    if (outcome === 'refreshed' || outcome === 'resurrected') this.suspicions.clear(a.pkiIdHex);
    if (gossiped && this.d.aliveFanout && (outcome === 'new' || outcome === 'refreshed' || outcome === 'resurrected')) this.gossipAlive(m.bytes, a);
  }

  private onMemReq(m: Verified<MemReqMsg>): void {
    const inner = this.d.codec.decode(m.payload.alive);
    if (!inner.ok || inner.msg.payload.t !== 'alive' || inner.msg.signer.pkiIdHex !== m.signer.pkiIdHex) {
      // The embedded alive must be the requester's own: relaying someone else's is spoofing (Fabric §3.6).
      this.d.codec.rejections.count('spoofed-membership-request');
      return;
    }
    const alive = inner.msg as Verified<AliveMsg>;
    this.onAlive(alive);
    const requester = { mspId: m.signer.mspId, external: alive.payload.member.endpoint !== '' };
    const sameOrg = requester.mspId === this.self.mspId;
    const replyTo = sameOrg ? (alive.secret?.internalEndpoint ?? alive.payload.member.endpoint) : alive.payload.member.endpoint;
    // If this peer may not be disclosed to the requester, it answers nothing.
    if (!replyTo || !mayDisclose(this.self.mspId, { mspId: this.self.mspId, external: !!this.d.externalEndpoint }, requester)) return;
    if (sameOrg && m.payload.view && bytesEqual(m.payload.view, this.orgView())) {
      this.stats.quietSyncs++;
      return;
    }
    const visible = (r: MemberRecord) =>
      r.pkiIdHex !== m.signer.pkiIdHex && mayDisclose(this.self.mspId, { mspId: r.mspId, external: r.endpoint !== '' }, requester);
    const prepare = (env: Uint8Array) => (sameOrg ? env : stripSecret(env));
    const own = this.currentAlive();
    const res: MemResMsg = {
      t: 'memRes',
      nonce: m.payload.nonce,
      alive: [prepare(own), ...this.table.alive().filter(visible).map((r) => prepare(r.envelope))],
      dead: this.table.dead().filter(visible).map((r) => prepare(r.envelope)),
    };
    this.d.transport.send(replyTo, seal(res, this.d.signer));
  }

  /** Whether `bytes` is the very alive message (same signature) this peer's record of its signer holds. */
  private holds(bytes: Uint8Array): boolean {
    const e = parseEnvelope(bytes);
    if (!e.ok) return false;
    const held = this.table.get(toHex(e.env.signer))?.envelope;
    const sig = held && envelopeSignature(held);
    return !!sig && bytesEqual(sig, e.env.signature);
  }

  private onMemRes(m: Verified<MemResMsg>): void {
    if (!this.outstanding.delete(m.payload.nonce)) {
      this.d.codec.rejections.count('unsolicited-response');
      return;
    }
    if (this.connecting.has(m.payload.nonce)) this.connecting.set(m.payload.nonce, true);
    this.backoff.reset();
    const now = this.d.clock.now();
    for (const bytes of m.payload.alive) {
      // The view mostly repeats what this peer holds: an alive identical to the member's record (same
      // signature) would change nothing, so it is skipped before any decoding.
      if (this.holds(bytes)) continue;
      const r = this.d.codec.decode(bytes);
      if (r.ok && r.msg.payload.t === 'alive') this.onAlive(r.msg as Verified<AliveMsg>);
    }
    for (const bytes of m.payload.dead) {
      const r = this.d.codec.decode(bytes);
      if (!r.ok || r.msg.payload.t !== 'alive') continue;
      const a = this.info(r.msg as Verified<AliveMsg>);
      // A dead record of a peer known under a newer certificate is not learned.
      if (a && !this.table.holderOf(a) && this.table.learnDead(a, now)) this.publishView();
    }
  }

  // ---- time ---------------------------------------------------------------------------------------

  private checkExpiry(): void {
    const { aliveExpirationTimeout, msgExpirationFactor } = this.d.timings;
    const now = this.d.clock.now();
    // Fabric wipes an identity a millisecond after its certificate expires; here within expiry's period.
    for (const m of this.table.all()) if (now > m.notAfter) this.purge(m, 'cert-expired');
    const swim = this.prober !== null;
    const watched = (m: MemberRecord) => swim && m.mspId === this.self.mspId;
    for (const m of this.table.expire(now, aliveExpirationTimeout, watched)) this.emit('dead', m.pkiIdHex, m);
    if (swim) this.settleSuspicions(now);
    const isProtected = (m: MemberRecord) =>
      (watched(m) && m.status === 'alive') ||
      this.protectedEndpoints.has(m.endpoint) || (m.internalEndpoint !== null && this.protectedEndpoints.has(m.internalEndpoint)) || this.protectedEndpoints.has(m.id);
    for (const m of this.table.forget(now, aliveExpirationTimeout * msgExpirationFactor, isProtected)) this.emit('forgotten', m.pkiIdHex, m);
  }

  private emit(type: 'joined' | 'resurrected' | 'dead' | 'forgotten', pkiIdHex: string, member?: MemberRecord): void {
    this.backoff.reset();
    const m = member ?? this.table.get(pkiIdHex);
    if (type !== 'joined') this.suspicions.clear(pkiIdHex);
    if (m) this.events$.next({ type, member: m });
    this.publishView();
  }

  private publishView(): void {
    this.alive$.next(this.table.alive());
  }

}

/** The discovery concern as a child of the peer actor. */
export function discoveryLogic(discovery: Discovery) {
  return fromCallback<EventObject>(() => {
    discovery.start();
    return () => discovery.stop();
  });
}
