// A client of the ordering service (`murmur tx`, `murmur load`, tests): submits transactions as NATS
// requests and, for --wait, watches the channel's stream for the block that holds a transaction.
import { connect, type NatsConnection } from 'nats';
import { firstValueFrom, filter, share, timeout as rxTimeout } from 'rxjs';
import { decodeBlock, type Block } from '../ledger/block.ts';
import { subjects as subjectsOf, type Subjects } from '../transport/subjects.ts';
import { loginOptions, type NatsLogin } from '../transport/nats-login.ts';
import { JetStreamFeed } from './jetstream.feed.ts';
import { decodeSubmitReply } from './nats-intake.ts';
import { txIdOf, type SubmitResult } from './orderer.ts';

/** Entries `height` reads back from the stream's end at most. */
const HEIGHT_WALK_BACK = 256;

export class OrdererClient {
  private readonly subjects: Subjects;
  private constructor(
    readonly nc: NatsConnection,
    prefix: string,
  ) {
    this.subjects = subjectsOf(prefix);
  }

  static async connect(natsUrl: string, prefix = 'murmur', timeoutMs = 5000, login?: NatsLogin): Promise<OrdererClient> {
    const nc = await connect({ servers: natsUrl.split(','), name: 'murmur client', timeout: timeoutMs, maxReconnectAttempts: 10, reconnectTimeWait: 250, ...loginOptions(login, 'tx') });
    return new OrdererClient(nc, prefix);
  }

  async submit(channel: string, tx: Uint8Array, timeoutMs = 5000): Promise<SubmitResult> {
    try {
      const m = await this.nc.request(this.subjects.ordererTx(channel), tx, { timeout: timeoutMs });
      return decodeSubmitReply(m.data) ?? { ok: false, error: 'unreadable reply from the orderer' };
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === '503') return { ok: false, error: 'no orderer is serving transactions' };
      if (code === 'TIMEOUT') return { ok: false, error: `no answer from the orderer within ${timeoutMs} ms` };
      return { ok: false, error: (e as Error).message };
    }
  }

  /** The chain's height as the stream's last block of this channel says (number + 1; foreign entries after it are
   * skipped, at most HEIGHT_WALK_BACK of them), or null when the stream does not exist or no block is found.
   * The client checks no signature: a forged block can mislead this figure, never a peer's ledger. */
  async height(channel: string): Promise<number | null> {
    const jsm = await this.nc.jetstreamManager();
    const stream = this.subjects.blockStream(channel);
    try {
      const last = (await jsm.streams.info(stream)).state.last_seq;
      for (let seq = last; seq >= 1 && seq > last - HEIGHT_WALK_BACK; seq--) {
        const b = decodeBlock((await jsm.streams.getMessage(stream, { seq })).data);
        if (b && (b.number === 0 || b.channel === channel)) return b.number + 1;
      }
      return null;
    } catch {
      return null;
    }
  }

  /** Submits `tx` and resolves with the block that holds it once that block is in the stream. */
  async submitAndWait(channel: string, tx: Uint8Array, timeoutMs: number): Promise<{ result: SubmitResult; block: Block | null }> {
    const from = await this.height(channel);
    if (from === null) return { result: await this.submit(channel, tx, timeoutMs), block: null };
    const txId = txIdOf(tx);
    const feed = new JetStreamFeed(() => this.nc, { prefix: this.subjects.prefix });
    // One subscription (one consumer) shared by both waits; it ends when `found` settles.
    const events = feed.blocks(channel, from).pipe(share());
    const found = firstValueFrom(
      events.pipe(
        filter((e) => e.type === 'block' && e.block.data.some((d) => txIdOf(d) === txId)),
        rxTimeout({ first: timeoutMs, with: () => { throw new Error(`transaction ${txId} not in a block within ${timeoutMs} ms`); } }),
      ),
    );
    found.catch(() => undefined);
    await firstValueFrom(events.pipe(filter((e) => e.type === 'ready')));
    const result = await this.submit(channel, tx, timeoutMs);
    if (!result.ok) return { result, block: null };
    const e = await found;
    return { result, block: e.type === 'block' ? e.block : null };
  }

  async close(): Promise<void> {
    await this.nc.drain().catch(() => this.nc.close());
  }
}
