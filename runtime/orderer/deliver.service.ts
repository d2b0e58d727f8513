// The orderer's deliver service: Fabric's Deliver with a seek position, as JetStream consumers the orderer
// creates on a party's behalf. Peers and clients get no JetStream API permission (nats-auth.ts), because every
// JetStream API request carries a reply subject of the requester's choice and a push consumer's deliver subject
// is free: either lets its user make the server write the chain onto a subject it may not publish to (another
// org's subject, say). nats-server 2.9 cannot restrict a consumer's configuration per user, so the orderer,
// which writes the chain anyway, is the only party that configures consumers:
//   request  <p>.deliver.<channel>.<token>   (the generated permissions let a party publish only its own
//            token), body JSON {"from":N,"session":S}, reply subject under _INBOX.<token>.deliver.
//   → the party's one consumer of the channel's stream, `deliver_<token>`, is (re)created: a new session
//     replaces the old one, so retries never leave more than one behind; ephemeral, so the server removes it
//     seconds after its subscriber goes; push, from stream sequence N+1, into
//     _INBOX.<token>.deliver.<channel>.<S> — inside the requester's own inbox, whatever the request says;
//     acknowledgement policy all with at most MAX_ACK_PENDING blocks unacknowledged (the party acks on
//     `$JS.ACK.<stream>.deliver_<token>.>` only), idle heartbeats for liveness
//   reply    {"ok":true} | {"ok":false,"reason":R,"error":…}; refused requests are counted by reason
// At most MAX_OPENING requests are worked on at once (more are refused `busy`, the party retries with back-off).
import { AckPolicy, DeliverPolicy, nanos, type JetStreamManager, type Msg, type NatsConnection, type Subscription } from 'nats';
import { deliverConsumerName, deliverInbox, isSafeToken, parseSubject, subjects as subjectsOf } from '../transport/subjects.ts';

/** Blocks a party's consumer delivers beyond its last acknowledgement before it waits. */
export const MAX_ACK_PENDING = 256;
/** Deliver requests worked on at once. */
const MAX_OPENING = 64;
/** The server removes a consumer this long after its subscriber went away. */
const INACTIVE_MS = 10_000;

export type DeliverRefusal = 'bad-request' | 'reply-not-own-inbox' | 'unknown-channel' | 'not-found' | 'busy' | 'unavailable';

export type DeliverReply = { ok: true } | { ok: false; reason: DeliverRefusal; error: string };

export interface DeliverServiceStats {
  opened: number;
  refused: Partial<Record<DeliverRefusal, number>>;
}

export interface DeliverServiceOptions {
  prefix: string;
  /** The channels this orderer serves. */
  channels: () => string[];
  /** Idle heartbeat of the consumers; ms (default 2000). */
  idleHeartbeatMs?: number;
}

export interface DeliverRequest {
  from: number;
  session: string;
}

const enc = new TextEncoder();

export function decodeDeliverRequest(bytes: Uint8Array): DeliverRequest | null {
  if (bytes.byteLength > 256) return null;
  try {
    const v = JSON.parse(new TextDecoder().decode(bytes)) as Partial<DeliverRequest>;
    if (!Number.isSafeInteger(v.from) || (v.from as number) < 0) return null;
    if (!isSafeToken(v.session) || v.session.length > 32) return null;
    return { from: v.from as number, session: v.session };
  } catch {
    return null;
  }
}

export function decodeDeliverReply(bytes: Uint8Array): DeliverReply | null {
  try {
    const v = JSON.parse(new TextDecoder().decode(bytes)) as { ok?: unknown; reason?: unknown; error?: unknown };
    if (v.ok === true) return { ok: true };
    if (v.ok === false && typeof v.reason === 'string' && typeof v.error === 'string') return { ok: false, reason: v.reason as DeliverRefusal, error: v.error };
    return null;
  } catch {
    return null;
  }
}

export class DeliverService {
  readonly stats: DeliverServiceStats = { opened: 0, refused: {} };
  private sub: Subscription | null = null;
  private opening = 0;
  private jsm: Promise<JetStreamManager> | null = null;
  /** Per party and channel, the last open (a newer request waits for it, so the two never interleave). */
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly o: DeliverServiceOptions,
  ) {}

  start(): this {
    const s = subjectsOf(this.o.prefix);
    this.sub = this.nc.subscribe(`${s.prefix}.deliver.*.*`, { queue: `${s.prefix}.orderers`, callback: (err, msg) => !err && this.onRequest(msg) });
    return this;
  }

  stop(): void {
    this.sub?.unsubscribe();
    this.sub = null;
  }

  private refuse(msg: Msg | null, reason: DeliverRefusal, error: string): void {
    this.stats.refused[reason] = (this.stats.refused[reason] ?? 0) + 1;
    if (msg) this.reply(msg, { ok: false, reason, error });
  }

  private reply(msg: Msg, r: DeliverReply): void {
    try {
      msg.respond(enc.encode(JSON.stringify(r)));
    } catch {
      // The requester is gone; nothing to tell.
    }
  }

  private onRequest(msg: Msg): void {
    const s = subjectsOf(this.o.prefix);
    const parsed = parseSubject(msg.subject, s.prefix);
    if (parsed?.kind !== 'deliver' || !msg.reply) return this.refuse(null, 'bad-request', 'not a deliver request');
    const { channel, token } = parsed;
    // The answer goes only into the requester's own deliver inbox: anywhere else would let a request aim it.
    if (!msg.reply.startsWith(`_INBOX.${token}.deliver.`)) return this.refuse(null, 'reply-not-own-inbox', msg.reply);
    const req = decodeDeliverRequest(msg.data);
    if (!req) return this.refuse(msg, 'bad-request', 'expected {"from":<block number>,"session":"<token>"}');
    if (!this.o.channels().includes(channel)) return this.refuse(msg, 'unknown-channel', `this orderer does not serve channel ${channel}`);
    if (this.opening >= MAX_OPENING) return this.refuse(msg, 'busy', `${this.opening} deliver requests are being served`);
    this.opening++;
    const key = `${channel}\u0000${token}`;
    const run = (this.chains.get(key) ?? Promise.resolve())
      .then(() => this.open(channel, token, req))
      .then(
        () => {
          this.stats.opened++;
          this.reply(msg, { ok: true });
        },
        (e) => {
          const m = (e as Error)?.message ?? String(e);
          this.refuse(msg, /stream not found/i.test(m) ? 'not-found' : 'unavailable', m);
        },
      )
      .finally(() => {
        this.opening--;
        if (this.chains.get(key) === run) this.chains.delete(key);
      });
    this.chains.set(key, run);
  }

  private async open(channel: string, token: string, req: DeliverRequest): Promise<void> {
    const s = subjectsOf(this.o.prefix);
    const jsm = await (this.jsm ??= this.nc.jetstreamManager());
    const stream = s.blockStream(channel);
    const name = deliverConsumerName(token);
    // The previous session's consumer (if any) goes first: at most one per party and channel.
    await jsm.consumers.delete(stream, name).catch((e) => {
      if (/stream not found/i.test((e as Error)?.message ?? '')) throw e;
    });
    await jsm.consumers.add(stream, {
      name,
      deliver_subject: deliverInbox(token, channel, req.session),
      filter_subject: s.blocks(channel),
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: req.from + 1,
      ack_policy: AckPolicy.All,
      ack_wait: nanos(30_000),
      max_ack_pending: MAX_ACK_PENDING,
      idle_heartbeat: nanos(this.o.idleHeartbeatMs ?? 2000),
      inactive_threshold: nanos(INACTIVE_MS),
      mem_storage: true,
      num_replicas: 1,
    });
  }
}
