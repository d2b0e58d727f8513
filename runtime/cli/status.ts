// `murmur status`: asks every live peer over NATS and prints one row per peer and channel.
import { NatsTransport } from '../transport/nats.transport.ts';
import { subjects } from '../transport/subjects.ts';
import { decodeStatusRows, type StatusRow } from '../../actors/status.ts';
import { readNetworkFile } from './network-file.ts';
import type { InboundDecoder } from '../wire/messages.ts';

const ignoreGossip: InboundDecoder = { decode: () => ({ ok: false, reason: 'bad-envelope', detail: 'status client' }) };

export interface StatusQuery {
  natsUrl: string;
  prefix?: string;
  timeoutMs: number;
}

export async function queryStatus(q: StatusQuery): Promise<StatusRow[]> {
  const t = new NatsTransport({ servers: q.natsUrl.split(','), endpoint: `cli-${process.pid}`, prefix: q.prefix, decoder: ignoreGossip, name: 'murmur status', reconnectTimeWaitMs: 250 });
  const connect = t.start();
  const deadline = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`cannot reach NATS at ${q.natsUrl}`)), q.timeoutMs).unref());
  try {
    await Promise.race([connect, deadline]);
    const replies = await t.request(subjects(q.prefix).status(), new Uint8Array(0), { timeoutMs: q.timeoutMs });
    const rows = replies.flatMap((r) => decodeStatusRows(r) ?? []);
    return rows.sort((a, b) => a.channel.localeCompare(b.channel) || a.org.localeCompare(b.org) || a.id.localeCompare(b.id, undefined, { numeric: true }));
  } finally {
    connect.catch(() => {});
    await t.stop();
  }
}

export function resolveNats(opts: { nats?: string; data: string }): { natsUrl: string; prefix: string } {
  if (opts.nats) return { natsUrl: opts.nats, prefix: 'murmur' };
  const n = readNetworkFile(opts.data);
  return { natsUrl: n.natsUrl, prefix: n.prefix ?? 'murmur' };
}

const cell = (v: unknown): string => (v === null || v === undefined ? '-' : Array.isArray(v) ? String(v.length) : String(v));

/** Extra live columns `murmur up` knows: the orderer's height per channel and each peer's commit rate. */
export interface TableExtras {
  ordererHeight?: ReadonlyMap<string, number>;
  /** Blocks per second by `${id}/${channel}`. */
  rates?: ReadonlyMap<string, number>;
}

/** A fixed-width table; `-` marks what is not known (null in JSON). */
export function formatStatusTable(rows: StatusRow[], extras: TableExtras = {}): string {
  const live = extras.ordererHeight !== undefined;
  const head = ['CHANNEL', 'ORG', 'PEER', 'ROLE', 'LEADER', 'HEIGHT', ...(live ? ['LAG', 'BLOCKS/S'] : []), 'STATE', 'MEMBERS', 'NATS', 'REJECTED'];
  const body = rows.map((r) => {
    const oh = extras.ordererHeight?.get(r.channel);
    const rate = extras.rates?.get(`${r.id}/${r.channel}`);
    return [
      r.channel,
      r.org,
      r.id,
      cell(r.role),
      cell(r.leaderId),
      cell(r.height),
      ...(live ? [oh !== undefined && r.height !== null ? String(Math.max(0, oh - r.height)) : '-', rate !== undefined ? rate.toFixed(1) : '-'] : []),
      cell(r.state),
      cell(r.members),
      r.natsConnected ? 'up' : 'down',
      String(Object.values(r.counters?.rejected ?? {}).reduce((a, b) => a + b, 0)),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cols: string[]) => cols.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(head), ...body.map(line)].join('\n');
}
