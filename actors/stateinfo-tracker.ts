// StateInfo: each peer's ledger height per channel, and the channel view built from it (digest §4.9, §5.1).
//   own height changes → dirty; every publishStateInfoInterval, if dirty and anyone is known: sign
//     StateInfo{ch, ts(incNum, now), height} and publish it to the org's channel subject and, when this
//     peer has an external endpoint, to the channel-wide subject
//   every requestStateInfoInterval: StateInfo pull request to pullPeerNum random channel peers (murmur profile:
//   one; StateInfo is published to every channel peer when it changes, the pull only repairs a lost one); the answer is
//     a snapshot of their cache (a foreign requester gets no internal-only peers of the answering org); murmur
//     profile, same org: the request carries a digest of the StateInfo messages the requester holds of others,
//     and a responder whose own and others' (but the requester's) hash the same has nothing new: it stays silent
//   cache: newest StateInfo per peer whose org belongs to the channel; swept of peers discovery forgot
//   channel view = alive in discovery ∧ StateInfo present ∧ not left the channel
//   leave(): sign and publish StateInfo{leftChannel} at once; from then on the view is empty, nothing is cached
//     or pulled, and a pull request is answered with that StateInfo alone (Fabric's LeaveChannel)
// Idle cost: a snapshot answer carries this peer's last signed StateInfo while its height is unchanged (no
// signature here, a verify-cache hit there), and a snapshot element that is exactly the StateInfo already
// cached for its signer (same signature) is skipped before any decoding.
import { Subject, Subscription } from 'rxjs';

import { subjects as subjectsOf } from '../runtime/transport/subjects.ts';
import type { StateInfoMsg, StateInfoPullReqMsg, StateInfoSnapshotMsg, Verified } from '../runtime/wire/messages.ts';
import { TimerGroup, phase } from '../runtime/timers.ts';
import { envelopeSignature, seal } from '../runtime/wire/envelope.ts';
import { compareTime } from '../machines/discovery.logic.ts';
import type { Observable } from 'rxjs';
import type { MemberRecord } from '../machines/discovery.logic.ts';
import type { PeerIO } from './peer-io.ts';
import { viewDigest } from './view-digest.ts';
import { QUIET_BACKOFF_MAX, QuietBackoff } from '../machines/backoff.logic.ts';
import { bytesEqual } from '../runtime/util/bytes.ts';

export interface ChannelPeer {
  pkiIdHex: string;
  id: string;
  mspId: string;
  height: number;
  /** External endpoint ('' if none). */
  endpoint: string;
  internalEndpoint: string | null;
}

export interface StateInfoTimings {
  publishStateInfoInterval: number;
  requestStateInfoInterval: number;
  pullInterval: number;
  pullPeerNum: number;
}

/** What the peer's parts read of membership (discovery implements it). */
export interface Membership {
  aliveMembers(): MemberRecord[];
  member(pkiIdHex: string): MemberRecord | undefined;
  /** A known peer's declared endpoint (internal inside the org, external across orgs). */
  endpointFor(pkiIdHex: string): string | null;
  readonly alive$: Observable<unknown>;
}

/** StateInfo's inbound kinds: this channel's stateInfo, stateInfoPullReq, stateInfoSnapshot. */
export interface StateInfoDeps extends PeerIO {
  channel: string;
  /** MSP ids of the channel's orgs (from its config). */
  orgs: string[];
  prefix: string;
  discovery: Membership;
  externalEndpoint: string;
  incNum: number;
  height: number;
  timings: StateInfoTimings;
  /** Peers asked per StateInfo pull round (default pullPeerNum, Fabric's). */
  syncPeerNum?: number;
  /** murmur profile: same-org pull requests carry a digest, and a responder with nothing new stays silent. */
  quietSync?: boolean;
}

interface Cached {
  msg: Verified<StateInfoMsg>;
  /** Its envelope's signature (base64): the key of `bySignature`. */
  sig: string;
}

/** The signature of an envelope, as a key; null if it is no envelope. */
function signatureKey(bytes: Uint8Array): string | null {
  const sig = envelopeSignature(bytes);
  return sig ? Buffer.from(sig).toString('base64') : null;
}

const MAX_OUTSTANDING = 256;
const MAX_CACHE = 10_000;

export class StateInfoTracker {
  /** Fires whenever the channel view may have changed (a StateInfo accepted, membership changed, a sweep). */
  readonly changes$ = new Subject<void>();
  /** This peer's own height, at each change (every commit). Apart from changes$: the view did not change, and
   * what reacts to the view (the tree's links, state transfer's peers) need not be recomputed per block. */
  readonly ownHeight$ = new Subject<number>();
  /** Pull requests left unanswered because the requester held everything this peer would have sent. */
  readonly stats = { quietPulls: 0 };
  /** murmur profile: pull rounds slow down while nothing changes (machines/backoff.logic.ts). */
  readonly backoff = new QuietBackoff(QUIET_BACKOFF_MAX);
  private readonly cache = new Map<string, Cached>();
  private readonly subs: Subscription[] = [];
  private timers: TimerGroup;
  private readonly outstanding = new Map<number, number>();
  private height: number;
  private dirty = true;
  /** This peer's last signed StateInfo and the height it carries. */
  private lastSigned: { env: Uint8Array; height: number } | null = null;
  /** Signatures of the cached StateInfo messages. */
  private readonly bySignature = new Set<string>();
  private lastSeq = 0;
  /** When a height (this peer's or another's) last changed. */
  private lastHeightChange = -Infinity;
  private running = false;
  /** This peer left the channel (leave()). */
  private left = false;
  private readonly self;
  private readonly s;
  private readonly orgs: Set<string>;

  constructor(private readonly d: StateInfoDeps) {
    this.timers = new TimerGroup(d.clock);
    this.height = d.height;
    this.self = d.signer.identity;
    this.s = subjectsOf(d.prefix);
    this.orgs = new Set(d.orgs);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.timers = new TimerGroup(this.d.clock);
    const { inbound, channel } = this.d;
    this.subs.push(
      new Subscription(inbound.onChannel('stateInfo', channel, (m) => this.accept(m))),
      new Subscription(inbound.onChannel('stateInfoPullReq', channel, (m) => this.answerPull(m))),
      new Subscription(inbound.onChannel('stateInfoSnapshot', channel, (m) => this.onSnapshot(m))),
    );
    this.subs.push(this.d.discovery.alive$.subscribe(() => this.changes$.next()));
    const t = this.d.timings;
    this.timers.every(t.publishStateInfoInterval, () => this.publish(), phase(this.d.rng, t.publishStateInfoInterval));
    const pullLoop = () => {
      this.pull();
      this.timers.later(this.d.quietSync ? this.backoff.round(t.requestStateInfoInterval) : t.requestStateInfoInterval, pullLoop);
    };
    this.timers.later(phase(this.d.rng, t.requestStateInfoInterval), pullLoop);
    this.timers.every(t.pullInterval * 5, () => this.sweep());
  }

  stop(): void {
    this.running = false;
    for (const s of this.subs) s.unsubscribe();
    this.subs.length = 0;
    this.timers.clear();
  }

  /** Called after every commit: the new height is advertised at the next publish tick. */
  setHeight(h: number): void {
    if (h !== this.height) {
      this.heightMoved();
      this.height = h;
      this.dirty = true;
      this.ownHeight$.next(h);
    }
  }

  /** This peer's own height as last set. */
  ownHeight(): number {
    return this.height;
  }

  /** Leaves the channel: the others learn it from this peer's StateInfo (published now, and the answer to
   * their pull requests); this peer's view of the channel is empty from now on. */
  leave(): void {
    if (this.left) return;
    this.left = true;
    this.cache.clear();
    this.bySignature.clear();
    this.lastSigned = null;
    this.dirty = true;
    this.publish();
    this.changes$.next();
  }

  /** Whether a StateInfo of this peer is cached (alive or not). */
  holds(pkiIdHex: string): boolean {
    return this.cache.has(pkiIdHex);
  }

  /** Whether this peer left the channel. */
  hasLeft(): boolean {
    return this.left;
  }

  /** Peers of this channel: alive, with a StateInfo, not left. Self excluded; none once this peer left. */
  channelPeers(): ChannelPeer[] {
    const out: ChannelPeer[] = [];
    if (this.left) return out;
    for (const m of this.d.discovery.aliveMembers()) {
      const c = this.cache.get(m.pkiIdHex);
      if (!c || c.msg.payload.props.leftChannel) continue;
      out.push({ pkiIdHex: m.pkiIdHex, id: m.id, mspId: m.mspId, height: c.msg.payload.props.height, endpoint: m.endpoint, internalEndpoint: m.internalEndpoint });
    }
    return out;
  }

  /** Whether a peer is in this channel's view (what channelPeers() would list), without listing the view. */
  inView(pkiIdHex: string): boolean {
    if (this.left) return false;
    const c = this.cache.get(pkiIdHex);
    if (!c || c.msg.payload.props.leftChannel) return false;
    return this.d.discovery.member(pkiIdHex)?.status === 'alive';
  }

  /** Highest height advertised by a channel peer (0 if none). */
  maxHeight(): number {
    return this.channelPeers().reduce((h, p) => Math.max(h, p.height), 0);
  }

  private sign(): Uint8Array {
    // seqNum is the wall clock as in Fabric (strictly increasing within an incarnation).
    const seqNum = Math.max(this.d.clock.now(), this.lastSeq + 1);
    this.lastSeq = seqNum;
    const msg: StateInfoMsg = {
      t: 'stateInfo',
      ch: this.d.channel,
      pkiId: this.self.pkiId,
      ts: { incNum: this.d.incNum, seqNum },
      props: { height: this.height, leftChannel: this.left },
    };
    const env = seal(msg, this.d.signer);
    this.lastSigned = { env, height: this.height };
    return env;
  }

  /** The last signed StateInfo while the height it carries is still this peer's, else a fresh one. */
  private current(): Uint8Array {
    return this.lastSigned && this.lastSigned.height === this.height ? this.lastSigned.env : this.sign();
  }

  private publish(): void {
    if (!this.dirty || this.d.discovery.aliveMembers().length === 0) return;
    this.dirty = false;
    const env = this.sign();
    this.d.transport.publish(this.s.org(this.self.mspId, this.d.channel), env);
    if (this.d.externalEndpoint) this.d.transport.publish(this.s.channel(this.d.channel), env);
  }

  private accept(m: Verified<StateInfoMsg>): boolean {
    if (m.signer.pkiIdHex === this.self.pkiIdHex || this.left) return false;
    if (!this.orgs.has(m.signer.mspId)) {
      this.d.codec.rejections.count('not-in-channel');
      return false;
    }
    // Internal-only peers know only their own org (as with alive messages).
    if (m.signer.mspId !== this.self.mspId && !this.d.externalEndpoint) return false;
    const known = this.cache.get(m.signer.pkiIdHex);
    if (known && compareTime(m.payload.ts, known.msg.payload.ts) <= 0) return false;
    if (!known && this.cache.size >= MAX_CACHE) return false;
    const sig = signatureKey(m.bytes);
    if (known) this.bySignature.delete(known.sig);
    if (sig) this.bySignature.add(sig);
    this.cache.set(m.signer.pkiIdHex, { msg: m, sig: sig ?? '' });
    // A StateInfo of a new peer, or a height that starts moving: views may differ, repair at full pace again.
    if (!known) this.backoff.reset();
    else if (known.msg.payload.props.height !== m.payload.props.height) this.heightMoved();
    this.changes$.next();
    return true;
  }

  private pull(): void {
    if (this.left) return;
    const peers = this.d.discovery.aliveMembers().filter((m) => this.orgs.has(m.mspId));
    for (const m of this.d.rng.sample(peers, Math.min(this.d.syncPeerNum ?? this.d.timings.pullPeerNum, peers.length))) {
      const to = m.mspId === this.self.mspId ? (m.internalEndpoint ?? m.endpoint) : m.endpoint;
      if (!to) continue;
      const nonce = this.d.rng.nonce();
      if (this.outstanding.size >= MAX_OUTSTANDING) this.outstanding.delete(this.outstanding.keys().next().value as number);
      this.outstanding.set(nonce, this.d.clock.now());
      const view = this.d.quietSync && m.mspId === this.self.mspId ? { view: this.heldDigest() } : {};
      this.d.transport.send(to, seal({ t: 'stateInfoPullReq', ch: this.d.channel, nonce, ...view } satisfies StateInfoPullReqMsg, this.d.signer));
      this.timers.later(this.d.timings.requestStateInfoInterval, () => this.outstanding.delete(nonce));
    }
  }

  private answerPull(m: Verified<StateInfoPullReqMsg>): void {
    if (!this.orgs.has(m.signer.mspId)) {
      this.d.codec.rejections.count('not-in-channel');
      return;
    }
    const requester = this.d.discovery.member(m.signer.pkiIdHex);
    const sameOrg = m.signer.mspId === this.self.mspId;
    const to = sameOrg ? (requester?.internalEndpoint ?? requester?.endpoint) : requester?.endpoint;
    if (!to) return;
    // An internal-only requester keeps nothing of other orgs (accept()): it is sent none.
    const onlyOrg = requester?.endpoint ? undefined : m.signer.mspId;
    if (sameOrg && m.payload.view && !this.left && bytesEqual(m.payload.view, this.heldDigest(m.signer.pkiIdHex, this.current(), onlyOrg))) {
      this.stats.quietPulls++;
      return;
    }
    const elements = [this.current()];
    for (const [pki, c] of this.cache) {
      if (pki === m.signer.pkiIdHex || (onlyOrg && c.msg.signer.mspId !== onlyOrg)) continue;
      // A foreign requester does not learn my org's internal-only peers.
      if (!sameOrg && c.msg.signer.mspId === this.self.mspId && !this.d.discovery.member(pki)?.endpoint) continue;
      elements.push(c.msg.bytes);
    }
    this.d.transport.send(to, seal({ t: 'stateInfoSnapshot', ch: this.d.channel, nonce: m.payload.nonce, elements } satisfies StateInfoSnapshotMsg, this.d.signer));
  }

  /** The StateInfo messages (by signature) this peer holds of others, but `except`'s (and only of `onlyOrg`, if
   * given), plus `own` if given: as a requester, what it holds; as a responder, what it would send. */
  private heldDigest(except?: string, own?: Uint8Array, onlyOrg?: string): Uint8Array {
    const sigs = [...this.cache].filter(([pki, c]) => pki !== except && (!onlyOrg || c.msg.signer.mspId === onlyOrg)).map(([, c]) => c.sig);
    if (own) sigs.push(signatureKey(own) ?? '');
    return viewDigest(sigs);
  }

  private onSnapshot(m: Verified<StateInfoSnapshotMsg>): void {
    if (!this.outstanding.delete(m.payload.nonce)) {
      this.d.codec.rejections.count('unsolicited-response');
      return;
    }
    // (An answer alone does not reset the backoff: what it brings that matters, a new peer or a height that had
    // settled, does, in accept().)
    if (this.left) return;
    for (const bytes of m.payload.elements) {
      const sig = signatureKey(bytes);
      if (sig && this.bySignature.has(sig)) continue;
      const r = this.d.codec.decode(bytes);
      // The first bad element aborts the rest (Fabric).
      if (!r.ok || r.msg.payload.t !== 'stateInfo' || r.msg.payload.ch !== this.d.channel) return;
      // Only peers discovery knows (Fabric skips unknown originators).
      if (!this.d.discovery.member(r.msg.signer.pkiIdHex) && r.msg.signer.pkiIdHex !== m.signer.pkiIdHex) continue;
      this.accept(r.msg as Verified<StateInfoMsg>);
    }
  }

  /** Heights that keep moving are repaired by their next publication, so only the first change after a quiet
   * publish interval brings the repair rounds back to full pace; while blocks flow they stay backed off, and a
   * lost StateInfo of a height that then settles is repaired within QUIET_BACKOFF_MAX periods, as in a quiet
   * network. (Answered rounds used to reset it too, and while heights are in flight every answer differs: every
   * peer pulled a full snapshot every period.) */
  private heightMoved(): void {
    const now = this.d.clock.now();
    if (now - this.lastHeightChange > this.d.timings.publishStateInfoInterval) this.backoff.reset();
    this.lastHeightChange = now;
  }

  private sweep(): void {
    let changed = false;
    for (const [pki, c] of this.cache) {
      if (this.d.discovery.member(pki)) continue;
      this.bySignature.delete(c.sig);
      changed = this.cache.delete(pki);
    }
    if (changed) this.changes$.next();
  }

}
