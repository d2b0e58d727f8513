// Binds one channel's state-transfer machine (machines/state-transfer.machine.ts, the channel's `stateTransfer`
// child) to the channel view, the ledger, the commit queue and the bus; run by the channel's
// `stateTransferLink` port while the channel lives.
//   in:  view.changed ← StateInfo channel view (every org: heights of channel peers)
//        ledger.advanced ← every ledger commit;  buffer.level ← the commit queue's high-water mark
//        murmur profile: a gap in pushed blocks that outlives gapGrace (25 × maxPropagationBurstLatency, at
//        least 100 ms) → gossip.ahead(originator of the block past the gap): state transfer starts at once
//   request.send(attempt, to, range) → a fresh random nonce, stateReq signed, to the peer's endpoint; several
//     may be out at once (the machine's window), each remembered by nonce with the time it left
//   stateRes: only from the peer asked, with the nonce of an attempt the machine still waits for (else counted,
//     ignored: a retried, completed or dropped attempt is over);
//     every block must be in the asked range and consecutive; a block already committed or queued is skipped
//     before any crypto, one the gossip window holds is taken from there; every other block must verify and link (to the ledger tip, the queue or the previous
//     block of the response) → else response.invalid (the machine retries another peer);
//     blocks go to the commit queue in blocking mode; response.received(maxSeq = last block now held
//     without a gap from the range's start, rtt = ms from the request to its first chunk) tells the machine
//     how far the range got (a response may come in several chunks) and how long a round trip takes
import type { Actor } from 'xstate';
import { Subscription } from 'rxjs';
import type { StateReqMsg, StateResMsg, Verified } from '../runtime/wire/messages.ts';
import { blockHash } from '../runtime/ledger/block.ts';
import type { VerifiedBlock } from '../runtime/ledger/verified-block.ts';
import { heightMatters, syncStateOf, type StateTransferEvent, type StateTransferTimings, type stateTransferMachine } from '../machines/state-transfer.machine.ts';
import { TimerGroup } from '../runtime/timers.ts';
import type { BlockIntake } from './block-intake.ts';

/** What the state-transfer link consumes of its channel (BlockIntake is the adapter). */
export type StateTransferChannel = Pick<BlockIntake, 'admit' | 'channel' | 'check' | 'clock' | 'codec' | 'copies$' | 'duplicates' | 'endpointOf' | 'inbound' | 'known' | 'ledger' | 'ahead$' | 'profile' | 'queueFull$' | 'rng' | 'sealer' | 'signer' | 'stateInfo' | 'stored' | 'transport'>;

export interface StateTransferSettings extends StateTransferTimings {
  batchSize: number;
  maxRetries: number;
  /** peer.gossip.maxPropagationBurstLatency (ms): sets how long a gap in pushed blocks may last (murmur). */
  maxPropagationBurstLatency: number;
}

/** The channel's stateTransfer child, which the link drives. */
export type StateTransferRef = Actor<typeof stateTransferMachine>;

interface Outstanding {
  attempt: number;
  nonce: number;
  to: string;
  start: number;
  end: number;
  /** When the request left (the link's clock), until its first chunk came back. */
  sentAt: number | null;
}

export class StateTransferLink {
  /** The bound machine (the channel's child), while the link runs. */
  actor: StateTransferRef | null = null;
  private readonly subs: { unsubscribe(): void }[] = [];
  /** Requests out, by nonce; an entry whose attempt the machine no longer waits for is dropped at the next
   * request or answer, so this holds at most the window plus the attempts it just gave up. */
  private readonly outstanding = new Map<number, Outstanding>();
  private timers: TimerGroup;
  private gap: { from: string; seq: number } | null = null;
  private readonly gapGrace: number;
  readonly stats = { requests: 0, responses: 0, invalid: 0, abandoned: 0 };
  private gate: CommitGate | null = null;

  constructor(
    private readonly intake: StateTransferChannel,
    s: StateTransferSettings,
  ) {
    this.timers = new TimerGroup(intake.clock);
    this.gapGrace = Math.max(100, 25 * s.maxPropagationBurstLatency);
  }

  /** Binds `actor` (the channel's stateTransfer child, already running) until stop(). */
  start(actor: StateTransferRef): void {
    const { inbound, channel, stateInfo, ledger, clock, profile } = this.intake;
    this.actor = actor;
    const gate = (this.gate = new CommitGate(actor));
    this.timers = new TimerGroup(clock);
    const view = () => this.send({ type: 'view.changed', peers: stateInfo.channelPeers().map((p) => ({ id: p.pkiIdHex, height: p.height })) });
    this.subs.push(
      actor.on('request.send', (e) => this.request(e)),
      actor.on('round.abandoned', () => void this.stats.abandoned++),
      stateInfo.changes$.subscribe(view),
      ledger.commits$.subscribe((c) => gate.committed(c.height)),
      this.intake.queueFull$.subscribe((full) => this.send({ type: 'buffer.level', full })),
      new Subscription(inbound.onChannel('stateRes', channel, (m) => this.onResponse(m))),
    );
    if (profile !== 'fabric') this.subs.push(this.intake.ahead$.subscribe((a) => this.noteAhead(a.originator, a.seq)));
    view();
    actor.send({ type: 'ledger.advanced', height: ledger.height() });
  }

  stop(): void {
    for (const s of this.subs) s.unsubscribe();
    this.subs.length = 0;
    this.timers.clear();
    this.gap = null;
    this.gate = null;
    this.outstanding.clear();
    this.actor = null;
  }

  /** One pending gap check at a time, for the furthest block seen ahead. */
  private noteAhead(from: string, seq: number): void {
    if (this.gap && this.gap.seq >= seq) return;
    const armed = this.gap !== null;
    this.gap = { from, seq };
    if (armed) return;
    this.timers.later(this.gapGrace, () => {
      const g = this.gap;
      this.gap = null;
      if (g && this.intake.ledger.height() <= g.seq) this.ahead(g.from, g.seq + 1);
    });
  }

  /** murmur: `from` holds every block below `height` (it originated a later block while we have a gap). */
  ahead(from: string, height: number): void {
    this.send({ type: 'gossip.ahead', from, height });
  }

  private send(e: Exclude<StateTransferEvent, { type: 'ledger.advanced' }>): void {
    this.gate?.send(e);
  }

  /** Null while unbound (the channel is not running). */
  state(): 'syncing' | 'synced' | null {
    return this.actor ? syncStateOf(this.actor.getSnapshot()) : null;
  }

  /** Whether the machine still waits for this attempt. */
  private live(attempt: number): boolean {
    return this.actor?.getSnapshot().context.flights.some((f) => f.attempt === attempt) ?? false;
  }

  private request(e: { attempt: number; to: string; start: number; end: number }): void {
    const { transport, sealer, channel, rng, clock } = this.intake;
    for (const [n, o] of this.outstanding) if (!this.live(o.attempt)) this.outstanding.delete(n);
    const nonce = rng.nonce();
    this.outstanding.set(nonce, { attempt: e.attempt, nonce, to: e.to, start: e.start, end: e.end, sentAt: clock.now() });
    const to = this.intake.endpointOf(e.to);
    // Unreachable: the response timeout turns this into a retry with another peer.
    if (!to) return;
    this.stats.requests++;
    transport.send(to, sealer.to(e.to, { t: 'stateReq', ch: channel, nonce, start: e.start, end: e.end } satisfies StateReqMsg));
  }

  private onResponse(m: Verified<StateResMsg>): void {
    const { codec, ledger, clock } = this.intake;
    const o = this.outstanding.get(m.payload.nonce);
    if (o && !this.live(o.attempt)) this.outstanding.delete(o.nonce);
    if (!o || m.signer.pkiIdHex !== o.to || !this.live(o.attempt)) return void codec.rejections.count('state-unsolicited-response');
    this.stats.responses++;
    // The round trip of this attempt: to its first chunk only (later chunks follow it, they measure nothing).
    const rtt = o.sentAt === null ? undefined : clock.now() - o.sentAt;
    o.sentAt = null;
    for (const b of m.payload.blocks) this.intake.copies$.next({ seq: b.seq, source: 'state' });
    const invalid = (reason: string) => {
      codec.rejections.count(reason);
      this.stats.invalid++;
      this.send({ type: 'response.invalid', attempt: o.attempt });
    };
    const blocks = m.payload.blocks;
    if (!blocks.length) return invalid('state-empty-response');
    // Check everything before taking anything; what this peer already holds is not verified again (intake.check
    // links a block after a held one to the ledger tip or the queued block instead).
    const checked: VerifiedBlock[] = [];
    let prevHash: Uint8Array | null = null;
    for (let i = 0; i < blocks.length; i++) {
      const { seq, block } = blocks[i]!;
      if (seq < o.start || seq > o.end || (i > 0 && seq !== blocks[i - 1]!.seq + 1)) return invalid('state-bad-range');
      if (this.intake.known(seq, false)) {
        this.intake.duplicates++;
        prevHash = null;
        continue;
      }
      // A copy the gossip window holds (beyond the queue's reach) was verified when it came.
      const stored = this.intake.stored(seq);
      const r = stored ? { ok: true as const, block: stored } : this.intake.check(seq, block);
      if (!r.ok) return invalid('state-bad-block');
      if (prevHash && Buffer.compare(Buffer.from(prevHash), Buffer.from(r.block.previousHash)) !== 0) return invalid('state-bad-block');
      prevHash = blockHash(r.block);
      checked.push(r.block);
    }
    for (const b of checked) {
      // Committed or queued meanwhile by another source (a response may take its time to check).
      if (this.intake.known(b.number, false)) {
        this.intake.duplicates++;
        continue;
      }
      this.intake.admit(b.number, b, null, 'state', 'blocking');
    }
    // How far the range is now covered without a gap (committed or waiting in the buffer).
    let maxSeq = Math.max(o.start, ledger.height()) - 1;
    while (maxSeq < o.end && this.intake.known(maxSeq + 1, false)) maxSeq++;
    if (maxSeq >= o.start) this.send({ type: 'response.received', attempt: o.attempt, maxSeq, ...(rtt === undefined ? {} : { rtt }) });
  }
}

/**
 * Commits to the machine, minus those that cannot change a decision (`heightMatters`): those are held back
 * and the latest goes first with the next other event, so the machine decides as if it had heard each one. At
 * 50 blocks/s one event per commit was a fiftieth of a loaded peer's thread.
 */
export class CommitGate {
  private held: number | null = null;

  constructor(private readonly actor: StateTransferRef) {}

  committed(height: number): void {
    if (heightMatters(this.actor.getSnapshot())) {
      this.held = null;
      this.actor.send({ type: 'ledger.advanced', height });
    } else this.held = height;
  }

  /** Every event but a commit: the held height first. */
  send(e: Exclude<StateTransferEvent, { type: 'ledger.advanced' }>): void {
    if (this.held !== null) {
      const height = this.held;
      this.held = null;
      if (height > this.actor.getSnapshot().context.height) this.actor.send({ type: 'ledger.advanced', height });
    }
    this.actor.send(e);
  }
}
