// The Transport port on NATS (nats.js v2 API). Core NATS only: gossip is fire-and-forget like Fabric's comm
// layer, and the protocols above retry and pull what they miss. `via` rides in a header. The connection
// never echoes (noEcho), so a peer never hears its own publishes, and reconnects forever.
import {
  connect,
  createInbox,
  DebugEvents,
  Events,
  headers,
  type ConnectionOptions,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from 'nats';
import { ReplaySubject, Subject, type Observable } from 'rxjs';
import { realClock, type Clock } from '../clock.ts';
import type { InboundDecoder } from '../wire/messages.ts';
import { isPublishSubject, isReplyInbox, isSafeEndpoint, isSubscribeSubject, subjects, type Subjects } from './subjects.ts';
import { loginOptions } from './nats-login.ts';
import { countDrop, decodeOrDrop, emptyStats, type ConnectionEvent, type Inbound, type SendOptions, type Transport, type TransportStats } from './transport.ts';

export const VIA_HEADER = 'Murmur-Via';
/** Room left under the server's max_payload for the `via` header (NATS counts headers in the payload). */
export const HEADER_RESERVE = 256;

export interface NatsTransportOptions {
  servers: string[];
  /** Own inbox token. */
  endpoint: string;
  prefix?: string;
  decoder: InboundDecoder;
  /** Connection name shown by the server (default: `murmur <endpoint>`). */
  name?: string;
  user?: string;
  pass?: string;
  token?: string;
  /** Path of a NATS .creds file (JWT + NKey seed). */
  credsFile?: string;
  /** Share an existing connection: then `stop()` only unsubscribes. It should have been opened with `noEcho: true`. */
  connection?: NatsConnection;
  /** Delay between reconnect attempts (ms, default 2000 as nats.js); also between first-connect attempts. */
  reconnectTimeWaitMs?: number;
  /** Give up the first connection after this long (ms); default: wait until connected or stopped. */
  connectTimeoutMs?: number;
  /** Bound on `stop()`'s drain (ms, default 5000); after it the connection is closed. */
  drainTimeoutMs?: number;
  /** Timestamps of status events (default realClock). */
  clock?: Clock;
}

type Handler = (req: Uint8Array) => Uint8Array | Promise<Uint8Array>;
interface Served {
  subject: string;
  handler: Handler;
  sub: Subscription | null;
}

export class NatsTransport implements Transport {
  readonly endpoint: string;
  readonly stats: TransportStats = emptyStats();
  readonly subjects: Subjects;
  private readonly inbound = new Subject<Inbound>();
  private readonly status = new ReplaySubject<ConnectionEvent>(1);
  private readonly clock: Clock;
  private nc: NatsConnection | null = null;
  private readonly subs = new Map<string, Subscription | null>();
  private readonly serves = new Set<Served>();
  private state: 'new' | 'starting' | 'started' | 'stopped' = 'new';
  private up = false;
  private stopping: Promise<void> | null = null;
  private statusIter: { stop?: () => void } | null = null;
  private closedEmitted = false;
  private wake: (() => void) | null = null;
  /** Finishers of requests still collecting replies; stop() ends them so no timer outlives the transport. */
  private readonly pendingRequests = new Set<() => void>();

  constructor(private readonly opts: NatsTransportOptions) {
    if (!isSafeEndpoint(opts.endpoint)) throw new Error(`unsafe endpoint: ${JSON.stringify(opts.endpoint)}`);
    this.endpoint = opts.endpoint;
    this.subjects = subjects(opts.prefix);
    this.clock = opts.clock ?? realClock;
    this.subs.set(this.subjects.inbox(this.endpoint), null);
  }

  get maxPayload(): number {
    const server = this.nc?.info?.max_payload ?? 1024 * 1024;
    return Math.max(0, server - HEADER_RESERVE);
  }
  get connected(): boolean {
    return this.state === 'started' && this.up && !!this.nc && !this.nc.isClosed();
  }
  get inbound$(): Observable<Inbound> {
    return this.inbound.asObservable();
  }
  get status$(): Observable<ConnectionEvent> {
    return this.status.asObservable();
  }
  /** The underlying connection (null before start). */
  get connection(): NatsConnection | null {
    return this.nc;
  }

  async start(): Promise<void> {
    if (this.state !== 'new') {
      if (this.state === 'stopped') throw new Error(`transport ${this.endpoint} was stopped; create a new one`);
      return;
    }
    this.state = 'starting';
    let nc: NatsConnection | null;
    try {
      nc = this.opts.connection ?? (await this.connectUntilStopped());
    } catch (err) {
      this.state = 'new';
      throw err;
    }
    if (!nc) return; // stopped before the first connection
    if (this.stopping) {
      // stop() was called while connecting.
      if (!this.opts.connection) await nc.close().catch(() => undefined);
      return;
    }
    this.nc = nc;
    this.watchStatus(nc);
    for (const subject of this.subs.keys()) this.subs.set(subject, this.natsSubscribe(subject));
    for (const entry of this.serves) entry.sub = this.natsServe(entry.subject, entry.handler);
    // Once start() resolves the server has registered the inbox: a message sent to it from now on arrives.
    await nc.flush().catch(() => undefined);
    if (this.stopping) return;
    this.state = 'started';
    this.up = true;
    this.emit({ type: 'connected', server: nc.getServer() });
  }

  stop(): Promise<void> {
    if (!this.stopping) this.stopping = this.doStop();
    return this.stopping;
  }

  /** Resolves when the server has processed everything sent so far (a PING/PONG round trip). */
  async flush(): Promise<void> {
    if (this.nc && !this.nc.isClosed()) await this.nc.flush();
  }

  send(toEndpoint: string, bytes: Uint8Array, opts?: SendOptions): boolean {
    if (!isSafeEndpoint(toEndpoint)) return this.drop('bad-subject');
    return this.publish(this.subjects.inbox(toEndpoint), bytes, opts);
  }

  publish(subject: string, bytes: Uint8Array, opts?: SendOptions): boolean {
    const nc = this.nc;
    if (this.state !== 'started' || !nc || nc.isClosed()) return this.drop('stopped');
    if (!isPublishSubject(subject)) return this.drop('bad-subject');
    if (bytes.byteLength > this.maxPayload) return this.drop('oversized');
    let hdrs: MsgHdrs | undefined;
    if (opts?.via !== undefined) {
      if (!isSafeEndpoint(opts.via)) return this.drop('bad-subject');
      hdrs = headers();
      hdrs.set(VIA_HEADER, opts.via);
    }
    try {
      nc.publish(subject, bytes, hdrs ? { headers: hdrs } : undefined);
    } catch {
      // Closed meanwhile, reconnect buffer full, or the server lowered max_payload.
      return this.drop('publish-error');
    }
    this.stats.sent++;
    return true;
  }

  subscribe(subject: string): void {
    if (!isSubscribeSubject(subject)) throw new Error(`invalid subscription subject: ${JSON.stringify(subject)}`);
    if (this.subs.has(subject) || this.state === 'stopped') return;
    this.subs.set(subject, this.state === 'started' ? this.natsSubscribe(subject) : null);
  }

  unsubscribe(subject: string): void {
    if (subject === this.subjects.inbox(this.endpoint)) return; // the own inbox lives as long as the transport
    const sub = this.subs.get(subject);
    this.subs.delete(subject);
    safeUnsubscribe(sub);
  }

  /** Serves requests on `subject` (every responder answers; no queue group). Before start: applied on start. */
  serve(subject: string, handler: Handler): () => void {
    if (!isSubscribeSubject(subject)) throw new Error(`invalid serve subject: ${JSON.stringify(subject)}`);
    const entry: Served = { subject, handler, sub: null };
    if (this.state === 'stopped') return () => undefined;
    if (this.state === 'started') entry.sub = this.natsServe(subject, handler);
    this.serves.add(entry);
    return () => {
      if (this.serves.delete(entry)) safeUnsubscribe(entry.sub);
    };
  }

  private natsServe(subject: string, handler: Handler): Subscription {
    const nc = this.nc!;
    return nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err || !msg.reply) return;
        const reply = msg.reply;
        this.stats.received++;
        if (!isReplyInbox(reply)) return void this.drop('reply-not-inbox');
        Promise.resolve()
          .then(() => handler(msg.data))
          .then((res) => {
            if (!(res instanceof Uint8Array)) throw new Error('serve handler must return bytes');
            if (res.byteLength > this.maxPayload) return void this.drop('oversized');
            if (nc.isClosed()) return void this.drop('stopped');
            nc.publish(reply, res);
            this.stats.sent++;
          })
          .catch(() => this.drop('serve-error'));
      },
    });
  }

  request(subject: string, data: Uint8Array, opts: { timeoutMs: number; maxReplies?: number }): Promise<Uint8Array[]> {
    const nc = this.nc;
    const refused =
      this.state !== 'started' || !nc || nc.isClosed() ? 'stopped' : !isPublishSubject(subject) ? 'bad-subject' : data.byteLength > this.maxPayload ? 'oversized' : null;
    if (refused || !nc) {
      this.drop(refused ?? 'stopped');
      return Promise.resolve([]);
    }
    const maxReplies = opts.maxReplies ?? Infinity;
    const replies: Uint8Array[] = [];
    return new Promise((resolve) => {
      let done = false;
      let timer: unknown;
      let sub: Subscription | undefined;
      const finish = (): void => {
        if (done) return;
        done = true;
        this.clock.clearTimeout(timer);
        safeUnsubscribe(sub);
        this.pendingRequests.delete(finish);
        resolve(replies);
      };
      this.pendingRequests.add(finish);
      try {
        // Under the connection's own inbox prefix (loginOptions): the generated permissions allow no other.
        const inbox = createInbox((nc as unknown as { options?: ConnectionOptions }).options?.inboxPrefix);
        sub = nc.subscribe(inbox, {
          callback: (err, msg) => {
            if (err || done) return;
            // A status message, not a reply: 503 is the server saying nobody listens on the subject.
            if (msg.headers?.hasError) {
              if (msg.headers.code === 503) finish();
              return;
            }
            replies.push(msg.data);
            if (replies.length >= maxReplies) finish();
          },
        });
        nc.publish(subject, data, { reply: inbox });
        this.stats.sent++;
      } catch {
        this.drop('publish-error');
        finish();
        return;
      }
      timer = this.clock.setTimeout(finish, Math.max(0, opts.timeoutMs));
    });
  }

  /**
   * Waits for the first connection like nats.js's `waitOnFirstConnect`, but in a loop of single attempts so
   * that `stop()` can end the wait (a pending nats.js connect cannot be cancelled and would keep the process
   * alive). Authentication errors fail at once; `connectTimeoutMs` bounds the wait. Null when stopped.
   */
  private async connectUntilStopped(): Promise<NatsConnection | null> {
    const deadline = this.opts.connectTimeoutMs === undefined ? Infinity : this.clock.now() + this.opts.connectTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await connect(this.connectionOptions());
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (typeof code === 'string' && /AUTH|PERMISSION/.test(code)) throw err;
        if (this.stopping) return null;
        if (this.clock.now() >= deadline) {
          throw new Error(`${this.endpoint}: no NATS server reachable at ${this.opts.servers.join(', ')} within ${this.opts.connectTimeoutMs} ms`, { cause: err });
        }
        if (attempt === 1) this.emit({ type: 'error', detail: `connect failed, retrying: ${(err as Error).message}` });
        await this.pause(Math.min(this.opts.reconnectTimeWaitMs ?? 2000, Math.max(0, deadline - this.clock.now())));
        if (this.stopping) return null;
      }
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.clock.clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      const timer = this.clock.setTimeout(done, ms);
      this.wake = done;
    });
  }

  private connectionOptions(): ConnectionOptions {
    const o = this.opts;
    const co: ConnectionOptions = {
      servers: o.servers,
      name: o.name ?? `murmur ${o.endpoint}`,
      noEcho: true,
      maxReconnectAttempts: -1,
      // One attempt per connect(): connectUntilStopped() loops, so the wait can be cancelled.
      waitOnFirstConnect: false,
      reconnectTimeWait: o.reconnectTimeWaitMs ?? 2000,
    };
    return { ...co, ...loginOptions(o) };
  }

  private natsSubscribe(subject: string): Subscription {
    return this.nc!.subscribe(subject, { callback: (err, msg) => this.onMessage(err, msg) });
  }

  /** Runs inside nats.js's dispatch: must never throw. */
  private onMessage(err: Error | null, msg: Msg): void {
    try {
      if (err) {
        this.drop('subscription-error');
        return;
      }
      if (this.state === 'stopped') return;
      this.stats.received++;
      const verified = decodeOrDrop(this.opts.decoder, msg.data, msg.subject, (r) => this.drop(r));
      if (!verified) return;
      const via = msg.headers?.get(VIA_HEADER) || null;
      this.inbound.next({ msg: verified, subject: msg.subject, via });
    } catch {
      this.drop('inbound-error');
    }
  }

  private watchStatus(nc: NatsConnection): void {
    const it = nc.status();
    this.statusIter = it as { stop?: () => void };
    let reconnecting = false;
    void (async () => {
      try {
        for await (const s of it) {
          if (this.state === 'stopped') break;
          const server = typeof s.data === 'string' ? s.data : undefined;
          switch (s.type) {
            case Events.Disconnect:
              this.up = false;
              reconnecting = false;
              this.emit({ type: 'disconnected', server });
              break;
            case DebugEvents.Reconnecting:
              if (!reconnecting) this.emit({ type: 'reconnecting', server });
              reconnecting = true;
              break;
            case Events.Reconnect:
              this.up = true;
              reconnecting = false;
              this.emit({ type: 'reconnected', server });
              break;
            case Events.Error:
              this.emit({ type: 'error', detail: String(s.data) });
              break;
            default:
              break;
          }
        }
      } catch {
        // The iterator ends with the connection.
      }
    })();
    if (!this.opts.connection) {
      void nc.closed().then((err) => {
        this.up = false;
        if (err) this.emit({ type: 'error', detail: err.message });
        // Closed by the client itself (fatal error), not by stop(): the transport is dead; say so.
        if (!this.stopping) this.emitClosed();
      });
    }
  }

  private async doStop(): Promise<void> {
    this.wake?.();
    for (const finish of [...this.pendingRequests]) finish();
    const nc = this.nc;
    this.state = 'stopped';
    this.up = false;
    for (const entry of this.serves) safeUnsubscribe(entry.sub);
    this.serves.clear();
    if (nc) {
      if (this.opts.connection) {
        for (const sub of this.subs.values()) safeUnsubscribe(sub);
      } else if (!nc.isClosed()) {
        const deadline = this.opts.drainTimeoutMs ?? 5000;
        let timer: unknown;
        const timedOut = new Promise<'timeout'>((r) => (timer = this.clock.setTimeout(() => r('timeout'), deadline)));
        const drained = nc.drain().then(
          () => 'ok' as const,
          () => 'error' as const,
        );
        const outcome = await Promise.race([drained, timedOut]);
        this.clock.clearTimeout(timer);
        // Drain can resolve without closing when the server is unreachable: make sure it is closed.
        if (outcome !== 'ok' || !nc.isClosed()) await nc.close().catch(() => undefined);
      }
      this.statusIter?.stop?.();
    }
    this.subs.clear();
    this.emitClosed();
    this.status.complete();
    this.inbound.complete();
  }

  private emitClosed(): void {
    if (this.closedEmitted) return;
    this.closedEmitted = true;
    this.status.next({ type: 'closed', at: this.clock.now() });
  }

  private emit(e: Omit<ConnectionEvent, 'at'>): void {
    if (this.closedEmitted) return;
    const event: ConnectionEvent = { ...e, at: this.clock.now() };
    if (event.server === undefined) delete event.server;
    this.status.next(event);
  }

  private drop(reason: string): false {
    countDrop(this.stats, reason);
    return false;
  }
}

function safeUnsubscribe(sub: Subscription | null | undefined): void {
  try {
    if (sub && !sub.isClosed()) sub.unsubscribe();
  } catch {
    // Already closed with its connection.
  }
}
