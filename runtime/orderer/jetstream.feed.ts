// The ordering feed on JetStream: an ordered consumer (ephemeral, in-memory, flow-controlled by the client,
// recreated by nats.js on sequence gaps) on the channel's stream with deliver_policy by_start_sequence at
// H+1 and ONE filter subject (nats-server 2.9 has no multi-filter consumers). Block H sits at sequence H+1 or
// later (foreign entries only push blocks back; jetstream.log.ts), so starting there never misses it.
//   subscribe: consumer.consume() → ready; each message: decode → a block of this channel is passed on (the
//     deliver actor applies the chain rule: number, link, signature); anything else → skipped (counted by the
//     consumer), never an error, so a foreign entry cannot stall the feed
//   errors (the stream ends the subscription; the deliver actor resubscribes from its ledger height):
//     stream missing → not-found;  idle heartbeats missed twice → stalled;  consume ends by itself → closed
import { Observable } from 'rxjs';
import { ConsumerEvents, DeliverPolicy, type ConsumerMessages, type JsMsg, type NatsConnection } from 'nats';
import { decodeBlock } from '../ledger/block.ts';
import { subjects as subjectsOf, type Subjects } from '../transport/subjects.ts';
import { FeedError, type FeedEvent, type OrderingFeed } from './feed.ts';

export interface JetStreamFeedOptions {
  prefix?: string;
  /** Server heartbeats while idle; two missed in a row end the subscription; ms (default 2000). */
  idleHeartbeatMs?: number;
  /** Messages requested per pull (default 256). */
  maxMessages?: number;
}

export class JetStreamFeed implements OrderingFeed {
  private readonly subjects: Subjects;

  /** `connection` is read at each subscription, so a feed can outlive reconnects of its owner. */
  constructor(
    private readonly connection: () => NatsConnection | null,
    private readonly o: JetStreamFeedOptions = {},
  ) {
    this.subjects = subjectsOf(o.prefix);
  }

  blocks(channel: string, from: number): Observable<FeedEvent> {
    return new Observable<FeedEvent>((sub) => {
      let messages: ConsumerMessages | null = null;
      let done = false;
      const fail = (e: FeedError) => {
        if (done) return;
        done = true;
        messages?.stop();
        sub.error(e);
      };
      const hb = this.o.idleHeartbeatMs ?? 2000;

      (async () => {
        const nc = this.connection();
        if (!nc || nc.isClosed()) throw new FeedError('unavailable', 'not connected to NATS');
        const js = nc.jetstream();
        const consumer = await js.consumers.get(this.subjects.blockStream(channel), {
          filterSubjects: this.subjects.blocks(channel),
          deliver_policy: DeliverPolicy.StartSequence,
          opt_start_seq: Math.max(0, from) + 1,
        });
        let expectedSeq = Math.max(0, from) + 1;
        const onMessage = (m: JsMsg) => {
          if (done) return;
          const seq = m.info.streamSequence;
          if (seq < expectedSeq) return;
          if (seq > expectedSeq) return fail(new FeedError('stalled', `${channel}: stream sequence ${seq} arrived, expected ${expectedSeq}`));
          expectedSeq++;
          const block = decodeBlock(m.data);
          if (!block) return sub.next({ type: 'skipped', reason: 'garbage' });
          if (block.number > 0 && block.channel !== channel) return sub.next({ type: 'skipped', reason: 'foreign-channel' });
          sub.next({ type: 'block', block, bytes: m.data });
        };
        const msgs = await consumer.consume({
          max_messages: this.o.maxMessages ?? 256,
          idle_heartbeat: hb,
          expires: Math.max(hb * 2 + 1000, 5000),
          callback: onMessage,
        });
        if (done) return void msgs.stop();
        messages = msgs;
        sub.next({ type: 'ready' });
        void msgs.closed().then(
          () => fail(new FeedError('closed', `${channel}: the consumer ended`)),
          (e) => fail(new FeedError('closed', `${channel}: the consumer ended: ${(e as Error)?.message}`, { cause: e })),
        );
        for await (const s of await msgs.status()) {
          if (done) break;
          if (s.type === ConsumerEvents.HeartbeatsMissed && Number(s.data) >= 2)
            fail(new FeedError('stalled', `${channel}: ${s.data} heartbeats missed`));
          else if (s.type === ConsumerEvents.StreamNotFound) fail(new FeedError('not-found', `${channel}: stream not found`));
        }
      })().catch((e) => {
        if (e instanceof FeedError) return fail(e);
        const msg = (e as Error)?.message ?? String(e);
        fail(new FeedError(/stream not found/i.test(msg) ? 'not-found' : 'unavailable', `${channel}: ${msg}`, { cause: e }));
      });

      return () => {
        done = true;
        messages?.stop();
      };
    });
  }
}
