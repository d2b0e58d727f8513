// The ordering feed on NATS, through the orderer's deliver service (deliver.service.ts): the party subscribes
// to a fresh session subject inside its own inbox, asks the orderer for blocks from H (the orderer creates
// its one consumer of the channel's stream, delivering from stream sequence H+1 there), and reads.
// Block H sits at sequence H+1 or later (foreign entries only push blocks back; jetstream.log.ts), so starting
// there never misses it.
//   reply ok → ready;  each message: a block of this channel is passed on (the deliver actor applies the chain
//     rule: number, link, signature); anything else → skipped (counted by the consumer), never an error, so a
//     foreign entry cannot stall the feed; every ACK_EVERY-th message, and the last one pending, is
//     acknowledged (policy all), which lets the consumer send more (it holds back after MAX_ACK_PENDING)
//   errors (the stream ends; the deliver actor asks again from its ledger height, which replaces the consumer):
//     no orderer answers → unavailable;  stream missing → not-found;  nothing (not even a heartbeat) for two
//     heartbeat periods → stalled;  a stream sequence skipped → stalled
import { randomBytes } from 'node:crypto';
import { Observable } from 'rxjs';
import type { Msg, NatsConnection, Subscription } from 'nats';
import { decodeBlock } from '../ledger/block.ts';
import { deliverInbox, subjects as subjectsOf, type Subjects } from '../transport/subjects.ts';
import { FeedError, type FeedEvent, type OrderingFeed } from './feed.ts';
import { decodeDeliverReply } from './deliver.service.ts';

export interface DeliverFeedOptions {
  prefix?: string;
  /** The party's inbox token (inboxTokenFor of its NATS user, or of its id without authorization). */
  token: string;
  /** The consumer's idle heartbeat as the orderer configures it; ms (default 2000). */
  idleHeartbeatMs?: number;
  /** How long to wait for the orderer's answer; ms (default 5000). */
  requestTimeoutMs?: number;
}

/** Messages between acknowledgements (well under the consumer's MAX_ACK_PENDING). */
const ACK_EVERY = 32;

/** `$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>` → stream seq, pending. */
function ackInfo(reply: string): { seq: number; pending: number } | null {
  const t = reply.split('.');
  if (t.length < 9 || t[0] !== '$JS' || t[1] !== 'ACK') return null;
  const seq = Number(t[t.length - 4]);
  const pending = Number(t[t.length - 1]);
  return Number.isSafeInteger(seq) && Number.isSafeInteger(pending) ? { seq, pending } : null;
}

export class DeliverFeed implements OrderingFeed {
  private readonly subjects: Subjects;

  /** `connection` is read at each subscription, so a feed can outlive reconnects of its owner. */
  constructor(
    private readonly connection: () => NatsConnection | null,
    private readonly o: DeliverFeedOptions,
  ) {
    this.subjects = subjectsOf(o.prefix);
  }

  blocks(channel: string, from: number): Observable<FeedEvent> {
    return new Observable<FeedEvent>((sub) => {
      let done = false;
      let data: Subscription | null = null;
      let watchdog: ReturnType<typeof setTimeout> | null = null;
      const hb = this.o.idleHeartbeatMs ?? 2000;
      const close = () => {
        done = true;
        if (watchdog) clearTimeout(watchdog);
        data?.unsubscribe();
      };
      const fail = (e: FeedError) => {
        if (done) return;
        close();
        sub.error(e);
      };
      const alive = () => {
        if (watchdog) clearTimeout(watchdog);
        watchdog = setTimeout(() => fail(new FeedError('stalled', `${channel}: nothing from the consumer for ${2 * hb + 1000} ms`)), 2 * hb + 1000);
      };

      const nc = this.connection();
      if (!nc || nc.isClosed()) {
        sub.error(new FeedError('unavailable', 'not connected to NATS'));
        return;
      }
      const inbox = deliverInbox(this.o.token, channel, randomBytes(6).toString('hex'));
      let expected = Math.max(0, from) + 1;
      let unacked = 0;
      const onMessage = (m: Msg) => {
        if (done) return;
        alive();
        const info = m.reply ? ackInfo(m.reply) : null;
        if (!info) return; // an idle heartbeat (status 100) or anything else without a JetStream ack subject
        if (info.seq < expected) return; // a redelivery
        if (info.seq > expected) return fail(new FeedError('stalled', `${channel}: stream sequence ${info.seq} arrived, expected ${expected}`));
        expected++;
        if (++unacked >= ACK_EVERY || info.pending === 0) {
          unacked = 0;
          nc.publish(m.reply!);
        }
        const block = decodeBlock(m.data);
        if (!block) return sub.next({ type: 'skipped', reason: 'garbage' });
        if (block.number > 0 && block.channel !== undefined && block.channel !== channel) return sub.next({ type: 'skipped', reason: 'foreign-channel' });
        sub.next({ type: 'block', block, bytes: m.data });
      };
      data = nc.subscribe(inbox, { callback: (err, m) => !err && onMessage(m) });
      const body = new TextEncoder().encode(JSON.stringify({ from: Math.max(0, from), session: inbox.split('.').at(-1) }));
      nc.request(this.subjects.deliver(channel, this.o.token), body, { timeout: this.o.requestTimeoutMs ?? 5000, noMux: true, reply: `${inbox}.r` }).then(
        (m) => {
          if (done) return;
          const r = decodeDeliverReply(m.data);
          if (r?.ok) {
            alive();
            return sub.next({ type: 'ready' });
          }
          fail(new FeedError(r?.reason === 'not-found' ? 'not-found' : 'unavailable', `${channel}: the orderer refused to deliver: ${r ? r.error : 'unreadable answer'}`));
        },
        (e) => {
          const code = (e as { code?: string }).code;
          fail(new FeedError('unavailable', code === '503' ? `${channel}: no orderer serves deliver requests` : `${channel}: ${(e as Error)?.message ?? e}`, { cause: e }));
        },
      );
      return close;
    });
  }
}
