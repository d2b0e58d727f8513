// A client of the ordering service (`murmur tx`, `murmur load`, `up`'s lag column, tests): submits transactions
// and asks the chain's height as NATS requests to the orderer; --wait asks the orderer to answer once the
// transaction's block is appended. It uses no JetStream API: with the generated authorization a client may
// not, so it cannot make the server deliver stream data anywhere (nats-auth.ts).
import { connect, headers, type NatsConnection } from 'nats';
import { subjects as subjectsOf, type Subjects } from '../transport/subjects.ts';
import { loginOptions, type NatsLogin } from '../transport/nats-login.ts';
import { decodeSubmitReply, WAIT_HEADER } from './nats-intake.ts';
import type { SubmitResult } from './orderer.ts';

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

  async submit(channel: string, tx: Uint8Array, timeoutMs = 5000, wait = false): Promise<SubmitResult> {
    try {
      const h = wait ? headers() : undefined;
      h?.set(WAIT_HEADER, '1');
      const m = await this.nc.request(this.subjects.ordererTx(channel), tx, { timeout: timeoutMs, ...(h ? { headers: h } : {}) });
      return decodeSubmitReply(m.data) ?? { ok: false, error: 'unreadable reply from the orderer' };
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === '503') return { ok: false, error: 'no orderer is serving transactions' };
      if (code === 'TIMEOUT') return { ok: false, error: wait ? `transaction not in a block within ${timeoutMs} ms` : `no answer from the orderer within ${timeoutMs} ms` };
      return { ok: false, error: (e as Error).message };
    }
  }

  /** The channel's height as an orderer serving it says, or null when none answers or it does not serve it. */
  async height(channel: string, timeoutMs = 2000): Promise<number | null> {
    try {
      const m = await this.nc.request(this.subjects.ordererHeight(channel), new Uint8Array(0), { timeout: timeoutMs });
      const h = (JSON.parse(new TextDecoder().decode(m.data)) as { height?: unknown }).height;
      return Number.isSafeInteger(h) && (h as number) >= 1 ? (h as number) : null;
    } catch {
      return null;
    }
  }

  /** Submits `tx` and resolves once the orderer has appended the block that holds it (`result.block`). */
  async submitAndWait(channel: string, tx: Uint8Array, timeoutMs: number): Promise<SubmitResult> {
    return this.submit(channel, tx, timeoutMs, true);
  }

  async close(): Promise<void> {
    await this.nc.drain().catch(() => this.nc.close());
  }
}
