// Block push for one channel (digest §4.1–§4.5): Fabric's infect-and-die push of blocks inside an org.
//   originate(block from the orderer): seal DataMsg{ch, seq, block} once → block store → emitter
//   on DataMsg (inbox):  signer = self → drop; signer of another org → refused (blocks never cross orgs);
//                        known (committed, buffered, or the store refuses it) → duplicate, dropped before crypto;
//                        check (number, dataHash, orderer signature, link) → refused whole on any failure;
//                        store + payload buffer (non-blocking) → forward the ORIGINAL envelope bytes
//   emitter flush (burst size reached, or maxPropagationBurstLatency after the first pending item):
//     pick propagatePeerNum random same-org peers of the channel view once for the flush; send every block to
//     them except its relayer (`via`) and its originator; each pending block takes part in
//     propagateIterations flushes
import { Subscription } from 'rxjs';
import type { DataMsg, Verified } from '../runtime/wire/messages.ts';
import { seal } from '../runtime/wire/envelope.ts';
import { TimerGroup } from '../runtime/timers.ts';
import type { VerifiedBlock } from '../runtime/ledger/verified-block.ts';
import { BatchingEmitter, routeBatch } from '../machines/emitter.logic.ts';
import type { ChannelPeer } from './stateinfo-tracker.ts';
import type { BlockIntake } from './block-intake.ts';

/** What push consumes of its channel (BlockIntake is the adapter). */
export type PushChannel = Pick<BlockIntake, 'acceptData' | 'channel' | 'clock' | 'inbound' | 'envelopeOf' | 'orgPeers' | 'remember' | 'rng' | 'signer' | 'transport'>;

export interface PushSettings {
  propagateIterations: number;
  propagatePeerNum: number;
  maxPropagationBurstSize: number;
  maxPropagationBurstLatency: number;
}

interface Pending {
  seq: number;
  envelope: Uint8Array;
  /** PKI-IDs and endpoints this copy must not go back to. */
  exclude: string[];
}

export class BlockPusher {
  private readonly emitter: BatchingEmitter<Pending>;
  private timers: TimerGroup;
  private armed = false;
  private sub: Subscription | null = null;
  /** Blocks forwarded (first copies) and sends made, for the figures. */
  readonly stats = { originated: 0, forwarded: 0, sends: 0 };

  constructor(
    private readonly intake: PushChannel,
    private readonly s: PushSettings,
  ) {
    this.emitter = new BatchingEmitter({ propagateIterations: s.propagateIterations, maxPropagationBurstSize: s.maxPropagationBurstSize });
    this.timers = new TimerGroup(intake.clock);
  }

  start(): void {
    const { inbound, channel } = this.intake;
    this.timers = new TimerGroup(this.intake.clock);
    this.sub = new Subscription(inbound.onChannel('data', channel, (m, via) => this.onData(m, via)));
  }

  stop(): void {
    this.sub?.unsubscribe();
    this.timers.clear();
    this.armed = false;
  }

  /** A block this peer committed from the ordering service: sign it once and push it. */
  originate(block: VerifiedBlock, bytes: Uint8Array): void {
    const msg: DataMsg = { t: 'data', ch: this.intake.channel, seq: block.number, block: bytes };
    const envelope = seal(msg, this.intake.signer);
    this.intake.remember(block, envelope);
    this.stats.originated++;
    this.enqueue({ seq: block.number, envelope, exclude: [] });
  }

  private onData(m: Verified<DataMsg>, via: string | null): void {
    if (this.intake.acceptData(m).kind !== 'admitted') return;
    // Forwarded as it came, unless it came tagged (then signed here: a tag convinces no one else).
    const envelope = m.tagged ? this.intake.envelopeOf(m.payload.seq) : m.bytes;
    if (!envelope) return;
    this.stats.forwarded++;
    this.enqueue({ seq: m.payload.seq, envelope, exclude: via ? [via, m.signer.pkiIdHex] : [m.signer.pkiIdHex] });
  }

  private enqueue(p: Pending): void {
    const r = this.emitter.add(p);
    if (r === 'flush-now') this.flush();
    else if (r === 'arm-timer' && !this.armed) {
      this.armed = true;
      this.timers.later(this.s.maxPropagationBurstLatency, () => {
        this.armed = false;
        this.flush();
      });
    }
  }

  private flush(): void {
    const batch = this.emitter.flush();
    const peers = this.intake.orgPeers();
    const same = (x: string, p: ChannelPeer) => x === p.pkiIdHex || x === p.internalEndpoint || x === p.endpoint || x === p.id;
    for (const { msg, to } of routeBatch(batch, peers, this.s.propagatePeerNum, (xs, k) => this.intake.rng.sample(xs, k), same)) {
      for (const p of to) {
        const endpoint = p.internalEndpoint ?? (p.endpoint || null);
        if (!endpoint) continue;
        this.intake.transport.send(endpoint, msg.envelope, { via: this.intake.transport.endpoint });
        this.stats.sends++;
      }
    }
    // Items with iterations left wait for the next flush.
    if (this.emitter.size && !this.armed) {
      this.armed = true;
      this.timers.later(this.s.maxPropagationBurstLatency, () => {
        this.armed = false;
        this.flush();
      });
    }
  }
}
