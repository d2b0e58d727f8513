// The transport port: how a peer's actors reach the bus. Two implementations pass one contract test
// (test/contract/transport.contract.ts): NatsTransport (nats.transport.ts) and MemoryTransport
// (memory.transport.ts, the simulator's network). Everything that arrives is decoded and verified by the
// injected InboundDecoder before it is emitted; refusals are counted by the decoder and dropped here, never
// thrown into an actor. A sender never receives its own messages.
import type { Observable } from 'rxjs';
import type { InboundDecoder, Verified } from '../wire/messages.ts';

export interface ConnectionEvent {
  type: 'connected' | 'disconnected' | 'reconnecting' | 'reconnected' | 'closed' | 'error';
  server?: string;
  /** Clock time of the event (ms). */
  at: number;
  detail?: string;
}

export interface Inbound {
  msg: Verified;
  subject: string;
  /** Unauthenticated hint of the relaying peer's endpoint: used only to avoid sending a message back. */
  via: string | null;
}

export interface SendOptions {
  via?: string;
}

/**
 * Counters of one transport. `received` counts every message that reached the transport (before decoding);
 * `dropped` counts by reason every message not sent or not emitted:
 * `oversized`, `stopped`, `bad-subject`, `queue-full`, `publish-error` (outgoing),
 * `rejected` (the decoder refused it), `copy` (genuine, but a channel-wide copy of an own-org message the
 * peer also receives on its org's subject: not a refusal), `decoder-error` (the decoder threw), `serve-error`, `reply-not-inbox` (a
 * request whose reply subject is not an inbox: never answered) (incoming).
 */
export interface TransportStats {
  sent: number;
  received: number;
  dropped: Record<string, number>;
}

export interface Transport {
  /** Own inbox token (subject `<prefix>.inbox.<endpoint>`). */
  readonly endpoint: string;
  /** Largest payload `send`/`publish` accept, in bytes (NATS: server max_payload less room for headers). */
  readonly maxPayload: number;
  readonly connected: boolean;
  /** Decoded and verified inbound messages. Completes after `stop()`. */
  readonly inbound$: Observable<Inbound>;
  /** Connection events; replays the latest one to a new subscriber. Completes after `stop()`. */
  readonly status$: Observable<ConnectionEvent>;
  readonly stats: TransportStats;
  /** Connect and subscribe to the own inbox. */
  start(): Promise<void>;
  /** Drain / unregister; idempotent. A stopped transport cannot be started again. */
  stop(): Promise<void>;
  /** Point-to-point to `toEndpoint`'s inbox; false if dropped (oversized, stopped, bad endpoint, queue full). */
  send(toEndpoint: string, bytes: Uint8Array, opts?: SendOptions): boolean;
  publish(subject: string, bytes: Uint8Array, opts?: SendOptions): boolean;
  /** Start receiving a subject (NATS wildcards allowed); idempotent. Subjects added before start apply on start. */
  subscribe(subject: string): void;
  unsubscribe(subject: string): void;
  /** Plain request/reply outside the gossip wire (status queries). Not signed, not decoded. Returns a remover. */
  serve(subject: string, handler: (req: Uint8Array) => Uint8Array | Promise<Uint8Array>): () => void;
  /** Collects replies until `timeoutMs` elapses or `maxReplies` arrived. Never rejects for lack of replies. */
  request(subject: string, data: Uint8Array, opts: { timeoutMs: number; maxReplies?: number }): Promise<Uint8Array[]>;
}

export function emptyStats(): TransportStats {
  return { sent: 0, received: 0, dropped: {} };
}

export function countDrop(stats: TransportStats, reason: string): void {
  stats.dropped[reason] = (stats.dropped[reason] ?? 0) + 1;
}

/**
 * Decodes one received message with the transport's decoder; a refusal (or a decoder that throws) is counted
 * as a drop — `copy` for an own-org message's channel-wide copy, `rejected` for everything the codec refused
 * (the codec counts its reasons), `decoder-error` for a throw — and gives null.
 */
export function decodeOrDrop(decoder: InboundDecoder, bytes: Uint8Array, subject: string, drop: (reason: string) => void): Verified | null {
  let result;
  try {
    result = decoder.decode(bytes, subject);
  } catch {
    drop('decoder-error');
    return null;
  }
  if (result.ok) return result.msg;
  drop(result.reason === 'copy' ? 'copy' : 'rejected');
  return null;
}
