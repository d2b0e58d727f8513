// `murmur status`: asks every live peer over NATS and prints one row per peer and channel.
// The request goes out once on the status subject; every peer answers on the reply inbox, which lives under
// the client's own inbox prefix (the generated permissions let a user read no other replies).
import { connect, createInbox, type Subscription } from 'nats';
import { subjects } from '../transport/subjects.ts';
import { loginOptions, type NatsLogin } from '../transport/nats-login.ts';
import { decodeStatusRows, type StatusRow } from '../../actors/status-row.ts';
import { readNetworkFile } from './network-file.ts';
import { clientLogin, explainLoginError, type ClientRole } from './nats-credentials.ts';

export interface StatusQuery {
  natsUrl: string;
  prefix?: string;
  timeoutMs: number;
  /** NATS credentials (nats-credentials.ts); absent: anonymous. */
  login?: NatsLogin;
}

export async function queryStatus(q: StatusQuery): Promise<StatusRow[]> {
  const login = loginOptions(q.login, 'status');
  let nc;
  try {
    nc = await connect({ servers: q.natsUrl.split(','), name: 'murmur status', timeout: q.timeoutMs, maxReconnectAttempts: 0, ...login });
  } catch (e) {
    const why = explainLoginError(e, q.natsUrl, q.login);
    throw why !== e ? why : new Error(`cannot reach NATS at ${q.natsUrl}`);
  }
  const replies: Uint8Array[] = [];
  let sub: Subscription | undefined;
  try {
    const inbox = createInbox(login.inboxPrefix);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, q.timeoutMs);
      sub = nc.subscribe(inbox, {
        callback: (err, msg) => {
          if (err) return;
          // A status message, not a reply: 503 is the server saying nobody listens on the subject.
          if (msg.headers?.hasError) {
            if (msg.headers.code === 503) {
              clearTimeout(timer);
              resolve();
            }
            return;
          }
          replies.push(msg.data);
        },
      });
      nc.publish(subjects(q.prefix).status(), new Uint8Array(0), { reply: inbox });
    });
  } finally {
    sub?.unsubscribe();
    await nc.close().catch(() => {});
  }
  const rows = replies.flatMap((r) => decodeStatusRows(r) ?? []);
  return rows.sort((a, b) => a.channel.localeCompare(b.channel) || a.org.localeCompare(b.org) || a.id.localeCompare(b.id, undefined, { numeric: true }));
}

/** Where a CLI client finds the network: --nats (with --credentials), else --data's network.json. */
export function resolveNats(opts: { nats?: string; data: string; credentials?: string }, role: ClientRole = 'monitor'): { natsUrl: string; prefix: string; login?: NatsLogin } {
  if (opts.nats) return { natsUrl: opts.nats, prefix: 'murmur', login: clientLogin({ credentials: opts.credentials }, role) };
  const n = readNetworkFile(opts.data);
  return { natsUrl: n.natsUrl, prefix: n.prefix ?? 'murmur', login: clientLogin({ credentials: opts.credentials, network: n }, role) };
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
