// Serving state requests for one channel (digest §5.5). Always on, even with state.enabled false (Fabric).
//   stateReq from a peer whose org is in the channel (any org: Fabric's channel Readers) and that discovery
//   can address → validate (start ≤ end, end − start ≤ batchSize; else counted and ignored, no reply)
//   → blocks [start, min(end, height − 1)] read from the ledger as stored → stateRes messages echoing the
//   nonce, split by bytes so each stays under the bus's max_payload. Blocks are not re-verified when served.
// Requests are answered synchronously (ledger reads), so there is no request queue to bound; a peer that
// floods requests is limited per requester (peer.gossip.murmur.limits.stateRequestsPerSecond, a token bucket:
// machines/rate-limit.logic.ts), counted as state-request-rate when it bites.
import { Subscription } from 'rxjs';
import type { StateBlock, StateReqMsg, StateResMsg, Verified } from '../runtime/wire/messages.ts';
import { RequesterLimits } from '../machines/rate-limit.logic.ts';
import { chunkBySize } from '../machines/chunk.logic.ts';
import { servedRange, validateRequest } from '../machines/state-transfer.logic.ts';
import type { BlockIntake } from './block-intake.ts';
import { ENVELOPE_OVERHEAD } from './block-puller.ts';

/** What the state server consumes of its channel (BlockIntake is the adapter). */
export type StateServerChannel = Pick<BlockIntake, 'channel' | 'clock' | 'codec' | 'endpointOf' | 'inbound' | 'replyWhenProven' | 'ledger' | 'orgs' | 'sealer' | 'signer' | 'transport'>;

export interface StateServerSettings {
  batchSize: number;
  /** Requests served per requester per second (bursts of twice that); default 200. */
  requestsPerSecond?: number;
}

export class StateServer {
  private sub: Subscription | null = null;
  private readonly limits: RequesterLimits;
  readonly stats = { requests: 0, responses: 0, blocks: 0 };

  constructor(
    private readonly intake: StateServerChannel,
    private readonly s: StateServerSettings,
  ) {
    this.limits = new RequesterLimits(s.requestsPerSecond ?? 200);
  }

  start(): void {
    const { inbound, channel } = this.intake;
    this.sub = new Subscription(inbound.onChannel('stateReq', channel, (m) => this.onRequest(m)));
  }

  stop(): void {
    this.sub?.unsubscribe();
  }

  private onRequest(m: Verified<StateReqMsg>): void {
    const { codec, signer, orgs } = this.intake;
    if (m.signer.pkiIdHex === signer.identity.pkiIdHex) return;
    if (!orgs.includes(m.signer.mspId)) return void codec.rejections.count('state-request-not-in-channel');
    const v = validateRequest(m.payload.start, m.payload.end, this.s.batchSize);
    if (!v.ok) return void codec.rejections.count(v.reason);
    if (!this.limits.take(m.signer.pkiIdHex, this.intake.clock.now())) return void codec.rejections.count('state-request-rate');
    // Blocks go only to an inbox the requester proved it receives on (after a probe's answer if need be).
    if (!this.intake.replyWhenProven(m.signer.pkiIdHex, (to) => this.serve(m, to))) return void codec.rejections.count('state-request-unreachable');
  }

  private serve(m: Verified<StateReqMsg>, to: string): void {
    const { ledger, transport, sealer, channel } = this.intake;
    this.stats.requests++;
    const range = servedRange(m.payload.start, m.payload.end, ledger.height());
    if (!range) return;
    const blocks: StateBlock[] = [];
    for (let seq = range.start; seq <= range.end; seq++) {
      const block = ledger.getEncoded(seq);
      if (!block) break;
      blocks.push({ seq, block });
    }
    // Everything up to the first block that cannot travel (a requester needs a consecutive run).
    const { chunks } = chunkBySize(blocks, (b) => b.block.byteLength, transport.maxPayload - ENVELOPE_OVERHEAD);
    let expect = range.start;
    for (const c of chunks) {
      if (c[0]!.seq !== expect) break;
      expect = c.at(-1)!.seq + 1;
      transport.send(to, sealer.to(m.signer.pkiIdHex, { t: 'stateRes', ch: channel, nonce: m.payload.nonce, blocks: c } satisfies StateResMsg));
      this.stats.responses++;
      this.stats.blocks += c.length;
    }
  }
}
