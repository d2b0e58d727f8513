// Block pull for one channel: binds the generic pull engine (machines/pull.logic.ts) to the block store,
// the bus and the channel view (digest §4.5, §4.7).
//   every pullInterval: expire the block store; hello to pullPeerNum random same-org peers of the channel view
//     (murmur profile: only while one of them advertises a height above this ledger's);
//     after digestWaitTime send the requests; after responseWaitTime more, close the round
//   accepted only from same-org peers in the channel view (else counted: pull-foreign-org, pull-not-in-channel)
//   digests = seqs in my block store; I want seqs ≥ my height, not known, inside the payload buffer's window
//   update: every item must be a DataMsg envelope of this channel from my org, with a seq I asked this peer
//     for under this nonce, and every new block must verify — else the WHOLE update is dropped
//   pulled blocks go to the store and the payload buffer; they are not pushed on (Fabric)
import { Subscription } from 'rxjs';
import type { DataMsg, DigestMsg, HelloMsg, RequestMsg, UpdateMsg, Verified } from '../runtime/wire/messages.ts';
import { TimerGroup, phase } from '../runtime/timers.ts';
import { PullEngine, type PullSend, type PullTimings } from '../machines/pull.logic.ts';
import { chunkBySize } from '../machines/chunk.logic.ts';
import type { VerifiedBlock } from '../runtime/ledger/verified-block.ts';
import type { BlockIntake } from './block-intake.ts';

/** What the puller consumes of its channel (BlockIntake is the adapter). */
export type PullChannel = Pick<BlockIntake, 'admitData' | 'channel' | 'check' | 'clock' | 'codec' | 'copies$' | 'duplicates' | 'endpointOf' | 'envelopeOf' | 'expireStored' | 'inbound' | 'known' | 'ledger' | 'orgPeers' | 'replyWhenProven' | 'rng' | 'sealer' | 'signer' | 'storedSeqs' | 'transport'>;

export interface PullSettings extends PullTimings {
  pullInterval: number;
  pullPeerNum: number;
  blockBufferSize: number;
  /** murmur profile: pull only while some channel peer of the org advertises a greater height (Fabric: always). */
  onlyWhenBehind?: boolean;
}

/** Room left in a message for the wrapper: envelope, signer certificate, CBOR framing. */
export const ENVELOPE_OVERHEAD = 4096;

type PullMsg = HelloMsg | DigestMsg | RequestMsg | UpdateMsg;

export class BlockPuller {
  private readonly engine: PullEngine;
  private timers: TimerGroup;
  private sub: Subscription | null = null;
  private readonly self;
  readonly stats = { rounds: 0, skipped: 0, updatesAccepted: 0, updatesDropped: 0 };

  constructor(
    private readonly intake: PullChannel,
    private readonly s: PullSettings,
  ) {
    this.self = intake.signer.identity;
    this.timers = new TimerGroup(intake.clock);
    this.engine = new PullEngine(
      {
        digests: () => intake.storedSeqs().map(String),
        wants: (id) => {
          const seq = Number(id);
          const h = intake.ledger.height();
          return Number.isSafeInteger(seq) && String(seq) === id && seq >= h && seq < h + s.blockBufferSize && !intake.known(seq);
        },
      },
      intake.rng,
      s,
    );
  }

  start(): void {
    const { inbound, channel } = this.intake;
    this.timers = new TimerGroup(this.intake.clock);
    // Only block pulls: murmur does not pull identities (they travel with alive messages).
    const onPull = (m: Verified<PullMsg>) => void (m.payload.kind === 'block' && this.onMessage(m));
    this.sub = new Subscription();
    for (const kind of ['hello', 'digest', 'request', 'update'] as const) this.sub.add(inbound.onChannel(kind, channel, onPull));
    this.timers.every(this.s.pullInterval, () => this.round(), phase(this.intake.rng, this.s.pullInterval));
  }

  stop(): void {
    this.sub?.unsubscribe();
    this.timers.clear();
  }

  /** One pull round now (the timer calls it every pullInterval). */
  round(): void {
    this.intake.expireStored();
    const peers = this.intake.orgPeers();
    if (!peers.length) return;
    // murmur: a round can only bring a block some peer has beyond this ledger, and such a peer advertises a
    // greater height; while none does, the round (signed hello, digests) is skipped. Peers behind still pull here.
    if (this.s.onlyWhenBehind && !peers.some((p) => p.height > this.intake.ledger.height())) return void this.stats.skipped++;
    const chosen = this.intake.rng.sample(peers, this.s.pullPeerNum).map((p) => p.pkiIdHex);
    const { round, out } = this.engine.startRound(chosen);
    this.stats.rounds++;
    this.sendAll(out);
    this.timers.later(this.s.digestWaitTime, () => this.sendAll(this.engine.endDigests(round)));
    this.timers.later(this.s.digestWaitTime + this.s.responseWaitTime, () => this.engine.endRound(round));
  }

  private onMessage(m: Verified<PullMsg>): void {
    const { codec, clock } = this.intake;
    const from = m.signer.pkiIdHex;
    if (from === this.self.pkiIdHex) return;
    if (m.signer.mspId !== this.self.mspId) return void codec.rejections.count('pull-foreign-org');
    if (!this.intake.orgPeers().some((p) => p.pkiIdHex === from)) return void codec.rejections.count('pull-not-in-channel');
    const p = m.payload;
    switch (p.t) {
      case 'hello':
        return this.sendAll([this.engine.onHello(from, p.nonce, clock.now())]);
      case 'digest':
        this.engine.onDigest(from, p.nonce, p.digests);
        return;
      case 'request':
        return this.sendAll([this.engine.onRequest(from, p.nonce, p.digests, clock.now())]);
      case 'update':
        return this.onUpdate(from, p);
    }
  }

  private onUpdate(from: string, p: UpdateMsg): void {
    const { codec, channel } = this.intake;
    const drop = (reason: string) => {
      codec.rejections.count(reason);
      this.stats.updatesDropped++;
    };
    // Items first: each must be a block envelope of this channel from my org (else the whole update goes).
    const items: { seq: number; msg: Verified<DataMsg> }[] = [];
    for (const bytes of p.items) {
      const r = codec.decode(bytes);
      // A tagged item convinces no one but its addressee: items are signed envelopes only.
      if (!r.ok || r.msg.tagged || r.msg.payload.t !== 'data' || r.msg.payload.ch !== channel || r.msg.signer.mspId !== this.self.mspId) return drop('pull-bad-update');
      items.push({ seq: r.msg.payload.seq, msg: r.msg as Verified<DataMsg> });
    }
    for (const i of items) this.intake.copies$.next({ seq: i.seq, source: 'pull' });
    const verdict = this.engine.onUpdate(from, p.nonce, items.map((i) => String(i.seq)));
    if (verdict !== 'accepted') return drop(`pull-${verdict}`);
    // Skip what the store or ledger already has; every remaining block must verify, or nothing is taken.
    const fresh: { seq: number; block: VerifiedBlock; msg: Verified<DataMsg> }[] = [];
    for (const { seq, msg } of items) {
      if (this.intake.known(seq) || fresh.some((f) => f.seq === seq)) {
        this.intake.duplicates++;
        continue;
      }
      const r = this.intake.check(seq, msg.payload.block);
      if (!r.ok) return drop('pull-bad-block');
      fresh.push({ seq, block: r.block, msg });
    }
    this.stats.updatesAccepted++;
    for (const f of fresh.sort((a, b) => a.seq - b.seq)) this.intake.admitData(f.msg, f.block, 'pull');
  }

  private sendAll(out: readonly (PullSend | null)[]): void {
    const { transport, sealer, channel } = this.intake;
    for (const o of out) {
      if (!o) continue;
      if (o.t === 'update') {
        // An update carries blocks: only to an inbox the requester proved (the rest are small and go anywhere).
        this.intake.replyWhenProven(o.to, (to) => {
          const envs = o.ids.map((id) => (String(Number(id)) === id ? this.intake.envelopeOf(Number(id)) : null)).filter((e): e is Uint8Array => !!e);
          const budget = transport.maxPayload - ENVELOPE_OVERHEAD;
          const { chunks, oversized } = chunkBySize(envs, (e) => e.byteLength, budget);
          if (oversized.length) this.intake.codec.rejections.count('pull-item-oversized');
          for (const items of chunks) transport.send(to, sealer.to(o.to, { t: 'update', ch: channel, nonce: o.nonce, kind: 'block', items } satisfies UpdateMsg));
        });
        continue;
      }
      const to = this.intake.endpointOf(o.to);
      if (!to) continue;
      const msg =
        o.t === 'hello'
          ? ({ t: 'hello', ch: channel, nonce: o.nonce, kind: 'block' } satisfies HelloMsg)
          : ({ t: o.t, ch: channel, nonce: o.nonce, kind: 'block', digests: o.ids } as DigestMsg | RequestMsg);
      transport.send(to, sealer.to(o.to, msg));
    }
  }
}
