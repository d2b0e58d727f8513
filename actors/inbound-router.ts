// The peer's one inbound router: every verified message from the transport is dispatched by its kind and,
// for channel messages, its channel, to the handlers registered for exactly that key (one map lookup per
// message instead of every concern filtering the whole stream). A message nobody handles (a kind this peer
// does not serve, or a channel it has not joined) is counted by kind (`unhandled`, metrics
// murmur_inbound_unhandled_total) and dropped.
import type { Observable, Subscription } from 'rxjs';
import type { Inbound } from '../runtime/transport/transport.ts';
import type { Payload, PayloadOf, Verified } from '../runtime/wire/messages.ts';

/** Kinds scoped to a channel (their payload names it), routed by (kind, channel). */
export type ChannelKind = Extract<Payload, { ch: string }>['t'];
/** Kinds of the peer as a whole (membership, sessions), routed by kind. */
export type PeerKind = Exclude<Payload['t'], ChannelKind>;
/** `via`: the transport's unauthenticated hint of the relaying peer (only to avoid sending a message back). */
type Handler = (m: Verified, via: string | null) => void;

/** What a concern consumes from the bus: handlers for its kinds; each call returns its unsubscribe. */
export interface InboundPort {
  onPeer<K extends PeerKind>(kind: K, handler: (m: Verified<PayloadOf<K>>, via: string | null) => void): () => void;
  onChannel<K extends ChannelKind>(kind: K, channel: string, handler: (m: Verified<PayloadOf<K>>, via: string | null) => void): () => void;
}

const keyOf = (kind: string, channel: string | undefined) => (channel === undefined ? kind : `${kind}\u0000${channel}`);

export class InboundRouter implements InboundPort {
  private readonly routes = new Map<string, Set<Handler>>();
  /** Messages nobody handled, by kind. */
  readonly unhandled: Record<string, number> = {};
  private sub: Subscription | null = null;

  constructor(private readonly inbound$: Observable<Inbound>) {}

  start(): void {
    this.sub ??= this.inbound$.subscribe((i) => this.route(i));
  }

  stop(): void {
    this.sub?.unsubscribe();
    this.sub = null;
  }

  onPeer<K extends PeerKind>(kind: K, handler: (m: Verified<PayloadOf<K>>, via: string | null) => void): () => void {
    return this.add(keyOf(kind, undefined), handler as Handler);
  }

  onChannel<K extends ChannelKind>(kind: K, channel: string, handler: (m: Verified<PayloadOf<K>>, via: string | null) => void): () => void {
    return this.add(keyOf(kind, channel), handler as Handler);
  }

  /** Dispatches one message (the transport's subscription calls this). */
  route(i: Inbound): void {
    const p = i.msg.payload as { t: string; ch?: string };
    const handlers = this.routes.get(keyOf(p.t, p.ch));
    if (!handlers || handlers.size === 0) {
      this.unhandled[p.t] = (this.unhandled[p.t] ?? 0) + 1;
      return;
    }
    for (const h of handlers) h(i.msg, i.via);
  }

  private add(key: string, h: Handler): () => void {
    let set = this.routes.get(key);
    if (!set) this.routes.set(key, (set = new Set()));
    set.add(h);
    return () => {
      set.delete(h);
      if (set.size === 0 && this.routes.get(key) === set) this.routes.delete(key);
    };
  }
}
