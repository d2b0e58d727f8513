// Binds one channel's election machine (machines/election.machine.ts) to the bus and the channel view.
//   in:  leadership messages of this channel from peers of my org that are in the channel view (Fabric drops
//        the rest), newest per sender only (replays dropped); the view's size and heights on every change
//   out: proposals and declarations, signed, published once on the org's channel subject (every org peer of
//        the channel receives it; Fabric sends to all of them too, never forwarded)
//   leading$: true while this peer leads the channel (drives the deliver actor)
import type { Actor } from 'xstate';
import { BehaviorSubject, Subscription } from 'rxjs';
import type { InboundPort } from './inbound-router.ts';

import type { electionMachine } from '../machines/election.machine.ts';
import { lagVerdict, roleOf } from '../machines/election.machine.ts';
import { compareTime } from '../machines/discovery.logic.ts';
import type { Transport } from '../runtime/transport/transport.ts';
import { subjects as subjectsOf } from '../runtime/transport/subjects.ts';
import type { LocalSigner } from '../runtime/crypto/signer.ts';
import type { WireCodec } from '../runtime/wire/codec.ts';
import type { LeadershipMsg, PeerTime, Verified } from '../runtime/wire/messages.ts';
import { seal } from '../runtime/wire/envelope.ts';
import type { Membership, StateInfoTracker } from './stateinfo-tracker.ts';
import type { Role } from './status-row.ts';

/** What the election reads of the channel (StateInfo implements it): the view, this peer's height, changes. */
export type ElectionView = Pick<StateInfoTracker, 'channelPeers' | 'inView' | 'ownHeight' | 'changes$' | 'ownHeight$'>;

export interface ElectionBindingDeps {
  channel: string;
  actor: Actor<typeof electionMachine>;
  transport: Transport;
  inbound: InboundPort;
  codec: WireCodec;
  signer: LocalSigner;
  prefix: string;
  stateInfo: ElectionView;
  discovery: Pick<Membership, 'member'>;
  incNum: number;
  peerId: string;
}

export class ElectionBinding {
  readonly leading$: BehaviorSubject<boolean>;
  private readonly subs: { unsubscribe(): void }[] = [];
  private readonly lastSeen = new Map<string, PeerTime>();
  private seqNum = 0;
  /** The org view's heights as last pushed (a commit changes only this peer's own height). */
  private peerHeights: Record<string, number> = {};
  /** lagVerdict of the heights last sent to the machine. */
  private verdict: string | null = null;
  private readonly self;

  constructor(private readonly d: ElectionBindingDeps) {
    this.self = d.signer.identity;
    this.leading$ = new BehaviorSubject(d.actor.getSnapshot().context.isLeader);
  }

  start(): void {
    const { actor, transport } = this.d;
    const topic = subjectsOf(this.d.prefix).org(this.self.mspId, this.d.channel);
    this.subs.push(
      actor.subscribe((s) => {
        if (s.context.isLeader !== this.leading$.value) this.leading$.next(s.context.isLeader);
      }),
      // Like Fabric, which sends to each peer of the view: with nobody in view nothing is signed or sent.
      actor.on('send.proposal', () => this.orgView().length > 0 && transport.publish(topic, this.sign(false))),
      actor.on('send.declaration', () => this.orgView().length > 0 && transport.publish(topic, this.sign(true))),
      new Subscription(this.d.inbound.onChannel('leadership', this.d.channel, (m) => this.onLeadership(m))),
      this.d.stateInfo.changes$.subscribe(() => this.pushView()),
      this.d.stateInfo.ownHeight$.subscribe((own) => this.pushHeights(own)),
    );
    this.pushView();
  }

  stop(): void {
    for (const s of this.subs) s.unsubscribe();
    this.subs.length = 0;
  }

  /** Step down and stay out for a while (the deliver actor gave up on the ordering service). */
  yield(): void {
    this.d.actor.send({ type: 'leadership.yield' });
  }

  role(): Role {
    return roleOf(this.d.actor.getSnapshot());
  }

  /** Peer id of the leader this peer follows (its own when leading), null when it knows none. */
  leaderId(): string | null {
    const c = this.d.actor.getSnapshot().context;
    if (c.isLeader) return this.d.peerId;
    if (!c.leaderId) return null;
    return this.d.discovery.member(c.leaderId)?.id ?? null;
  }

  private orgView() {
    return this.d.stateInfo.channelPeers().filter((p) => p.mspId === this.self.mspId);
  }

  private pushView(): void {
    const view = this.orgView();
    this.peerHeights = Object.fromEntries(view.map((p) => [p.pkiIdHex, p.height]));
    this.d.actor.send({ type: 'view.changed', size: view.length });
    this.sendHeights(this.d.stateInfo.ownHeight());
  }

  /** After a commit: the machine hears of it only when it changes who lags (lagVerdict), not at every block. */
  private pushHeights(own: number): void {
    const verdict = lagVerdict(this.d.actor.getSnapshot().context, own, this.peerHeights);
    if (verdict !== this.verdict) this.sendHeights(own, verdict);
  }

  private sendHeights(own: number, verdict = lagVerdict(this.d.actor.getSnapshot().context, own, this.peerHeights)): void {
    this.verdict = verdict;
    this.d.actor.send({ type: 'heights.changed', own, peers: this.peerHeights });
  }

  private sign(declaration: boolean): Uint8Array {
    const msg: LeadershipMsg = { t: 'leadership', ch: this.d.channel, pkiId: this.self.pkiId, ts: { incNum: this.d.incNum, seqNum: ++this.seqNum }, declaration };
    return seal(msg, this.d.signer);
  }

  private onLeadership(m: Verified<LeadershipMsg>): void {
    if (m.signer.pkiIdHex === this.self.pkiIdHex) return;
    if (m.signer.mspId !== this.self.mspId) {
      this.d.codec.rejections.count('foreign-leadership');
      return;
    }
    // Only peers in the channel view count (partitioned or unknown peers are invisible). Asked of the one peer:
    // listing the view for each leader heartbeat was a tenth of an idle peer's election work.
    if (!this.d.stateInfo.inView(m.signer.pkiIdHex)) return;
    const last = this.lastSeen.get(m.signer.pkiIdHex);
    if (last && compareTime(m.payload.ts, last) <= 0) return;
    this.lastSeen.set(m.signer.pkiIdHex, m.payload.ts);
    this.d.actor.send(m.payload.declaration ? { type: 'declaration.received', from: m.signer.pkiIdHex } : { type: 'proposal.received', from: m.signer.pkiIdHex });
  }
}
