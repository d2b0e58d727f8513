// The orderer's transaction intake on NATS: requests on `<prefix>.orderer.<channel>.tx` and `.height` (one
// wildcard subscription, so an unknown channel gets a clear answer rather than "no responders"; a queue
// group, so several orderers would share the load). A transaction request's body is the transaction; the
// reply is JSON:
//   {"ok":true,"txId":"<hex sha-256>"}            validated and queued (header Murmur-Wait: 1 → answered
//   {"ok":true,"txId":"…","block":N}              once block N holding it is appended: `tx --wait`)
//   {"ok":false,"error":"…"}                      refused (unknown channel, empty, too large, overloaded)
// A height request's reply: {"height":N} (null for a channel this orderer does not serve). Clients need no
// JetStream permission for either, so none of them can point stream data at a subject of their choice.
import type { Msg, NatsConnection, Subscription } from 'nats';
import { isReplyInbox, parseSubject, subjects as subjectsOf } from '../transport/subjects.ts';
import type { Orderer, SubmitResult } from './orderer.ts';

const enc = new TextEncoder();
export const encodeSubmitReply = (r: SubmitResult): Uint8Array => enc.encode(JSON.stringify(r));

/** The request header that asks for the answer once the transaction is in a block. */
export const WAIT_HEADER = 'Murmur-Wait';

export function decodeSubmitReply(bytes: Uint8Array): SubmitResult | null {
  try {
    const v = JSON.parse(new TextDecoder().decode(bytes));
    if (v?.ok === true && typeof v.txId === 'string')
      return Number.isSafeInteger(v.block) && v.block >= 0 ? { ok: true, txId: v.txId, block: v.block } : { ok: true, txId: v.txId };
    if (v?.ok === false && typeof v.error === 'string') return { ok: false, error: v.error };
    return null;
  } catch {
    return null;
  }
}

/** Serves transaction and height requests; returns the subscriptions (one per subject pattern, as the
 * generated permissions list them). */
export function serveTransactions(nc: NatsConnection, orderer: Orderer, prefix: string): { unsubscribe(): void } {
  const s = subjectsOf(prefix);
  const callback = (err: unknown, msg: Msg) => {
    if (err || !msg.reply) return;
    // Answer only into an inbox, and queue nothing for a request that could not be answered there: a reply
    // subject such as a block stream would make the orderer write its answer into the chain.
    if (!isReplyInbox(msg.reply)) return void orderer.refuse('reply-not-inbox');
    const respond = (bytes: Uint8Array) => {
      try {
        msg.respond(bytes);
      } catch {
        // The requester is gone or the connection closed; nothing to tell.
      }
    };
    const parsed = parseSubject(msg.subject, s.prefix);
    if (parsed?.kind === 'ordererHeight') return respond(enc.encode(JSON.stringify({ height: orderer.height(parsed.channel) })));
    if (parsed?.kind !== 'ordererTx') return respond(encodeSubmitReply({ ok: false, error: `not a transaction subject: ${msg.subject}` }));
    if (msg.headers?.get(WAIT_HEADER) === '1') return void orderer.submitAndWait(parsed.channel, msg.data).then((r) => respond(encodeSubmitReply(r)));
    respond(encodeSubmitReply(orderer.submit(parsed.channel, msg.data)));
  };
  const subs: Subscription[] = ['tx', 'height'].map((kind) => nc.subscribe(`${s.prefix}.orderer.*.${kind}`, { queue: `${s.prefix}.orderers`, callback }));
  return { unsubscribe: () => subs.forEach((x) => x.unsubscribe()) };
}
