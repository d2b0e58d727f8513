// `murmur tx` and `murmur load`: clients of the ordering service over NATS.
//   tx:   one transaction (DATA, or stdin with `-`); prints its id; --wait until its block is in the stream;
//         exit 1 when refused or not appended in time.
//   load: R transactions/s of BYTES random bytes for DURATION; the last line is `accepted=N rejected=M`.
import { txIdOf } from '../orderer/orderer.ts';
import { OrdererClient } from '../orderer/client.ts';
import { LoadGenerator, type LoadStats } from '../orderer/load-generator.ts';
import { resolveNats } from './status.ts';
import { explainLoginError } from './nats-credentials.ts';

export interface TxOptions {
  channel: string;
  wait: boolean;
  json: boolean;
  nats?: string;
  dataDir: string;
  timeoutMs: number;
  /** --credentials (nats-credentials.ts). */
  credentials?: string;
}

async function readStdin(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

export async function runTx(data: string, o: TxOptions): Promise<number> {
  const { natsUrl, prefix, login } = resolveNats({ nats: o.nats, data: o.dataDir, credentials: o.credentials }, 'client');
  const tx = data === '-' ? await readStdin() : new TextEncoder().encode(data);
  const client = await OrdererClient.connect(natsUrl, prefix, undefined, login).catch((e) => {
    throw explainLoginError(e, natsUrl, login);
  });
  try {
    let out: { ok: boolean; txId?: string; error?: string; block?: number };
    if (o.wait) {
      const r = await client.submitAndWait(o.channel, tx, o.timeoutMs);
      out = r.ok ? { ok: true, txId: r.txId, ...(r.block !== undefined ? { block: r.block } : {}) } : { ok: false, txId: txIdOf(tx), error: r.error };
    } else {
      const r = await client.submit(o.channel, tx, o.timeoutMs);
      out = r.ok ? { ok: true, txId: r.txId } : { ok: false, error: r.error };
    }
    if (o.json) console.log(JSON.stringify(out));
    else if (out.ok) console.log(out.block !== undefined ? `${out.txId} in block ${out.block}` : `${out.txId} queued`);
    else console.error(`murmur tx: refused: ${out.error}`);
    return out.ok ? 0 : 1;
  } finally {
    await client.close();
  }
}

export interface LoadCliOptions {
  channel: string;
  rate: number;
  size: number;
  durationMs: number;
  json: boolean;
  nats?: string;
  dataDir: string;
  /** --credentials (nats-credentials.ts). */
  credentials?: string;
}

export interface LoadResult extends LoadStats {
  durationMs: number;
  rate: number;
}

/** Runs the load for `durationMs`, then waits for the answers in flight. */
export async function runLoad(o: LoadCliOptions, say: (line: string) => void = (l) => console.log(l)): Promise<LoadResult> {
  const { natsUrl, prefix, login } = resolveNats({ nats: o.nats, data: o.dataDir, credentials: o.credentials }, 'client');
  const client = await OrdererClient.connect(natsUrl, prefix, undefined, login).catch((e) => {
    throw explainLoginError(e, natsUrl, login);
  });
  const start = Date.now();
  try {
    const load = new LoadGenerator(client, { channels: [o.channel], rate: o.rate, size: o.size });
    while (Date.now() - start < o.durationMs) {
      await new Promise((r) => setTimeout(r, Math.min(5000, o.durationMs - (Date.now() - start))));
      const s = load.stats;
      if (!o.json && Date.now() - start < o.durationMs) say(`${Math.round((Date.now() - start) / 1000)}s: sent=${s.sent} accepted=${s.accepted} rejected=${s.rejected}`);
    }
    const stats = await load.stop();
    const res: LoadResult = { ...stats, durationMs: Date.now() - start, rate: o.rate };
    if (o.json) say(JSON.stringify(res));
    else for (const [e, n] of Object.entries(res.errors)) say(`rejected ${n}x: ${e}`);
    say(`accepted=${res.accepted} rejected=${res.rejected}`);
    return res;
  } finally {
    await client.close();
  }
}
