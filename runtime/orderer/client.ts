// A client of the ordering service (`murmur tx`, `murmur load`, tests): submits transactions as NATS
// requests and, for --wait, watches the channel's stream for the block that holds a transaction.
import { connect, type NatsConnection } from 'nats';
import { firstValueFrom, filter, share, timeout as rxTimeout } from 'rxjs';
import type { Block } from '../ledger/block.ts';
import { subjects as subjectsOf, type Subjects } from '../transport/subjects.ts';
import { loginOptions, type NatsLogin } from '../transport/nats-login.ts';
import { JetStreamFeed } from './jetstream.feed.ts';
import { decodeSubmitReply } from './nats-intake.ts';
import { txIdOf, type SubmitResult } from './orderer.ts';

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

  /** Blocks in the channel's stream (its height), or null when the stream does not exist. */
  async height(channel: string): Promise<number | null> {
    const jsm = await this.nc.jetstreamManager();
    try {
      return (await jsm.streams.info(this.subjects.blockStream(channel))).state.last_seq;
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
