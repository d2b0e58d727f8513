// The ordering feed port, as the deliver actor consumes it (Fabric's deliver with a seek position):
// "blocks of channel C from number H onward", in order, live. `ready` says the subscription is in place
// (the deliver machine leaves `connecting`); an error ends the stream and the consumer resubscribes from its
// own ledger height. Implementations: deliver.feed.ts (through the orderer's deliver service) and memory.ordering.ts.
import type { Observable } from 'rxjs';
import type { Block } from '../ledger/block.ts';

/** `skipped`: an entry of the feed that is no block of this channel (garbage, another channel's block), left
 * out and reported so the consumer counts it. Blocks may still be replays or forgeries: the consumer checks. */
export type FeedEvent = { type: 'ready' } | { type: 'block'; block: Block; bytes: Uint8Array } | { type: 'skipped'; reason: string };

export interface OrderingFeed {
  blocks(channel: string, from: number): Observable<FeedEvent>;
}

export type FeedErrorReason = 'unavailable' | 'not-found' | 'malformed' | 'stalled' | 'closed';

export class FeedError extends Error {
  override readonly name = 'FeedError';
  constructor(
    readonly reason: FeedErrorReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
