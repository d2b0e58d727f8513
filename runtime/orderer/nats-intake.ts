// The orderer's transaction intake on NATS: requests on `<prefix>.orderer.<channel>.tx` (one wildcard
// subscription, so an unknown channel gets a clear answer rather than "no responders"; a queue group, so
// several orderers would share the load). The request body is the transaction; the reply is JSON:
//   {"ok":true,"txId":"<hex sha-256>"}   validated and queued
//   {"ok":false,"error":"…"}             refused (unknown channel, empty, too large, overloaded)
import type { NatsConnection, Subscription } from 'nats';
import { isReplyInbox, parseSubject, subjects as subjectsOf } from '../transport/subjects.ts';
import type { Orderer, SubmitResult } from './orderer.ts';

const enc = new TextEncoder();
export const encodeSubmitReply = (r: SubmitResult): Uint8Array => enc.encode(JSON.stringify(r));

export function decodeSubmitReply(bytes: Uint8Array): SubmitResult | null {
  try {
    const v = JSON.parse(new TextDecoder().decode(bytes));
    if (v?.ok === true && typeof v.txId === 'string') return { ok: true, txId: v.txId };
    if (v?.ok === false && typeof v.error === 'string') return { ok: false, error: v.error };
    return null;
  } catch {
    return null;
  }
}

export function serveTransactions(nc: NatsConnection, orderer: Orderer, prefix: string): Subscription {
  const s = subjectsOf(prefix);
  const wildcard = `${s.prefix}.orderer.*.tx`;
  return nc.subscribe(wildcard, {
    queue: `${s.prefix}.orderers`,
    callback: (err, msg) => {
      if (err || !msg.reply) return;
      // Answer only into an inbox, and queue nothing for a request that could not be answered there: a reply
      // subject such as a block stream would make the orderer write its answer into the chain.
      if (!isReplyInbox(msg.reply)) return void orderer.refuse('reply-not-inbox');
      const parsed = parseSubject(msg.subject, s.prefix);
      const r: SubmitResult =
        parsed?.kind === 'ordererTx' ? orderer.submit(parsed.channel, msg.data) : { ok: false, error: `not a transaction subject: ${msg.subject}` };
      try {
        msg.respond(encodeSubmitReply(r));
      } catch {
        // The requester is gone or the connection closed; nothing to tell.
      }
    },
  });
}
