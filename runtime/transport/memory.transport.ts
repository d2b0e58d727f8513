// In-memory network for the simulator and tests: the same Transport port as NATS, driven entirely by an
// injected Clock and a seeded Rng, so a run replays exactly from its seed.
//
//   publish(from, subject, bytes):
//     for each started transport r ≠ from, in endpoint order, subscribed to a pattern matching subject:
//       if from and r are partitioned: count `partitioned`, skip
//       if chance(loss): count `lost`, skip
//       delay = latency(from, r) (+ extra if chance(reorder))
//       clock.setTimeout(deliver, delay)                 -- always through the clock, even delay 0
//       if chance(duplicate): count `duplicated`, schedule a second copy with its own latency
//   deliver: re-check partition, receiver still started and subscribed; decode with r's decoder; emit.
//
// Partitions: `partition(groups)` puts each listed endpoint in its group; every endpoint NOT listed forms one
// extra group together (so `partition([['a', 'b']])` cuts a and b off from everybody else). `isolate(e)`
// cuts e off from everyone on top of that; `heal()` removes both. A message in flight when a partition forms
// is dropped at delivery (counted as `partitioned`), like a cut link.
// Sent bytes are copied once at send time; every receiver of one publish sees that same copy.
import { createHash, type Hash } from 'node:crypto';
import { ReplaySubject, Subject, type Observable } from 'rxjs';
import type { Clock } from '../clock.ts';
import type { Rng } from '../rng.ts';
import type { InboundDecoder } from '../wire/messages.ts';
import { isPublishSubject, isSafeEndpoint, isSubscribeSubject, subjectMatches, subjects, type Subjects } from './subjects.ts';
import { countDrop, decodeOrDrop, emptyStats, type ConnectionEvent, type Inbound, type SendOptions, type Transport, type TransportStats } from './transport.ts';

export interface LatencyRange {
  minMs: number;
  maxMs: number;
}
/** Uniform over [minMs, maxMs] (whole milliseconds when both bounds are integers), or any function. */
export type Latency = LatencyRange | ((from: string, to: string, rng: Rng) => number);

export interface LinkConfig {
  latency: Latency;
  /** Probability a message is lost. */
  loss: number;
  /** Probability a message is delivered twice (the copy has its own latency). */
  duplicate: number;
  /** Probability a message gets `reorderDelay` on top of its latency, so later ones overtake it. */
  reorder: number;
  reorderDelay: LatencyRange;
}

export const DEFAULT_LINK: LinkConfig = {
  latency: { minMs: 1, maxMs: 5 },
  loss: 0,
  duplicate: 0,
  reorder: 0,
  reorderDelay: { minMs: 10, maxMs: 50 },
};

export interface MemoryNetworkOptions extends Partial<LinkConfig> {
  clock: Clock;
  /** The network draws from `rng.fork('net')`; the caller's stream is not advanced. */
  rng: Rng;
  prefix?: string;
  /** Bytes per message (default 1 MiB, NATS's default max_payload). */
  maxPayload?: number;
  /** Messages in flight network-wide before sends are refused as `queue-full` (default 1 000 000). */
  maxInFlight?: number;
}

export interface NetworkCounters {
  sent: number;
  delivered: number;
  lost: number;
  duplicated: number;
  partitioned: number;
  /** Arrived at a receiver that had stopped or unsubscribed meanwhile. */
  undeliverable: number;
}

const WILDCARD = '*';

function checkProbability(name: string, p: number | undefined): void {
  if (p !== undefined && !(p >= 0 && p <= 1)) throw new RangeError(`${name} must be a probability in [0, 1], got ${p}`);
}

function checkLink(cfg: Partial<LinkConfig>): void {
  checkProbability('loss', cfg.loss);
  checkProbability('duplicate', cfg.duplicate);
  checkProbability('reorder', cfg.reorder);
  for (const r of [cfg.latency, cfg.reorderDelay]) {
    if (r && typeof r === 'object' && !(r.minMs >= 0 && r.maxMs >= r.minMs)) {
      throw new RangeError(`latency range must satisfy 0 <= minMs <= maxMs, got ${JSON.stringify(r)}`);
    }
  }
}

export class MemoryNetwork {
  readonly clock: Clock;
  readonly maxPayload: number;
  readonly maxInFlight: number;
  readonly subjects: Subjects;
  readonly counters: NetworkCounters = { sent: 0, delivered: 0, lost: 0, duplicated: 0, partitioned: 0, undeliverable: 0 };

  private readonly rng: Rng;
  private defaults: LinkConfig;
  private readonly links = new Map<string, Partial<LinkConfig>>();
  private readonly transports = new Map<string, MemoryTransport>();
  private groups = new Map<string, number>();
  private readonly isolated = new Set<string>();
  private inFlightCount = 0;
  private readonly trace: Hash = createHash('sha256');
  private readonly digests = new WeakMap<Uint8Array, string>();
  private requestSeq = 0;
  /** Started endpoints in order, rebuilt when one joins or leaves. */
  private sortedEndpoints: string[] | null = null;

  constructor(opts: MemoryNetworkOptions) {
    this.clock = opts.clock;
    this.rng = opts.rng.fork('net');
    this.subjects = subjects(opts.prefix);
    this.maxPayload = opts.maxPayload ?? 1024 * 1024;
    this.maxInFlight = opts.maxInFlight ?? 1_000_000;
    const { clock: _c, rng: _r, prefix: _p, maxPayload: _m, maxInFlight: _f, ...link } = opts;
    checkLink(link);
    this.defaults = { ...DEFAULT_LINK, ...link };
  }

  /** A transport on this network; it joins when started. */
  transport(opts: { endpoint: string; decoder: InboundDecoder }): MemoryTransport {
    return new MemoryTransport(this, opts.endpoint, opts.decoder);
  }

  setDefaults(cfg: Partial<LinkConfig>): void {
    checkLink(cfg);
    this.defaults = { ...this.defaults, ...cfg };
  }

  /** Override the directed link from → to; either side may be '*' (exact pairs win over wildcards). */
  setLink(from: string, to: string, cfg: Partial<LinkConfig>): void {
    checkLink(cfg);
    this.links.set(`${from}\u0000${to}`, { ...this.links.get(`${from}\u0000${to}`), ...cfg });
  }

  clearLink(from: string, to: string): void {
    this.links.delete(`${from}\u0000${to}`);
  }

  linkConfig(from: string, to: string): LinkConfig {
    return {
      ...this.defaults,
      ...this.links.get(`${WILDCARD}\u0000${WILDCARD}`),
      ...this.links.get(`${WILDCARD}\u0000${to}`),
      ...this.links.get(`${from}\u0000${WILDCARD}`),
      ...this.links.get(`${from}\u0000${to}`),
    };
  }

  /** Replace the partition: endpoints in different groups exchange nothing; unlisted endpoints form one group. */
  partition(groups: string[][]): void {
    const next = new Map<string, number>();
    groups.forEach((g, i) => {
      for (const e of g) {
        if (next.has(e) && next.get(e) !== i) throw new Error(`partition: ${e} is listed in two groups`);
        next.set(e, i);
      }
    });
    this.groups = next;
  }

  /** Cut one endpoint off from everyone (in addition to any partition). */
  isolate(endpoint: string): void {
    this.isolated.add(endpoint);
  }

  /** Remove every partition and isolation. Link faults (loss, latency) stay. */
  heal(): void {
    this.groups = new Map();
    this.isolated.clear();
  }

  canReach(from: string, to: string): boolean {
    if (from === to) return true;
    if (this.isolated.has(from) || this.isolated.has(to)) return false;
    return (this.groups.get(from) ?? -1) === (this.groups.get(to) ?? -1);
  }

  /** Simulate a bus outage for one endpoint: it reaches no one and its transport reports `disconnected`. */
  disconnect(endpoint: string): void {
    this.isolate(endpoint);
    this.transports.get(endpoint)?.connectionEvent('disconnected');
  }

  /** End a `disconnect`: reachable again, transport reports `reconnecting` then `reconnected`. */
  reconnect(endpoint: string): void {
    this.isolated.delete(endpoint);
    const t = this.transports.get(endpoint);
    t?.connectionEvent('reconnecting');
    t?.connectionEvent('reconnected');
  }

  inFlight(): number {
    return this.inFlightCount;
  }

  /** Endpoints of started transports, sorted. */
  endpoints(): string[] {
    return (this.sortedEndpoints ??= [...this.transports.keys()].sort()).slice();
  }

  /** SHA-256 (hex) over every delivery so far: time, from, to, subject, sha256(bytes). */
  traceDigest(): string {
    return this.trace.copy().digest('hex');
  }

  // ---- used by MemoryTransport ----

  /** @internal */
  join(t: MemoryTransport): void {
    if (this.transports.has(t.endpoint)) throw new Error(`memory network: endpoint ${t.endpoint} is already started`);
    this.transports.set(t.endpoint, t);
    this.sortedEndpoints = null;
  }

  /** @internal */
  leave(t: MemoryTransport): void {
    if (this.transports.get(t.endpoint) === t) this.transports.delete(t.endpoint);
    this.sortedEndpoints = null;
  }

  /** Observers of every accepted send/publish (simulator statistics: messages and bytes by kind). */
  readonly taps = new Set<(from: string, subject: string, bytes: Uint8Array) => void>();
  /** Observers of every delivery to a receiver (simulator statistics: copies received). One publish reaches
   * each receiver with the same `bytes` object, so observers may cache per object. */
  readonly deliveryTaps = new Set<(from: string, to: string, subject: string, bytes: Uint8Array) => void>();

  /** @internal Fan a message out to every matching subscriber. False if refused for queue space. */
  publish(from: MemoryTransport, subject: string, bytes: Uint8Array, via: string | null): boolean {
    if (this.inFlightCount >= this.maxInFlight) return false;
    this.counters.sent++;
    for (const tap of this.taps) tap(from.endpoint, subject, bytes);
    const copy = bytes.slice();
    for (const to of this.receivers(from, (r) => r.wants(subject))) {
      this.transmit(from.endpoint, to.endpoint, subject, copy, () => {
        if (!to.isLive() || !to.wants(subject)) return false;
        to.receive(subject, copy, via);
        return true;
      });
    }
    return true;
  }

  /** @internal Request/reply: every other transport serving a matching subject answers through the links. */
  request(from: MemoryTransport, subject: string, data: Uint8Array, timeoutMs: number, maxReplies: number): Promise<Uint8Array[]> {
    const replies: Uint8Array[] = [];
    const replySubject = `_INBOX.${from.endpoint}.${++this.requestSeq}`;
    return new Promise((resolve) => {
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        this.clock.clearTimeout(timer);
        resolve(replies);
      };
      const timer = this.clock.setTimeout(finish, Math.max(0, timeoutMs));
      const copy = data.slice();
      for (const to of this.receivers(from, (r) => r.handlersFor(subject).length > 0)) {
        this.transmit(from.endpoint, to.endpoint, subject, copy, () => {
          if (!to.isLive()) return false;
          for (const handler of to.handlersFor(subject)) {
            to.answer(handler, copy, (reply) => {
              if (done || !to.isLive()) return;
              const replyCopy = reply.slice();
              this.transmit(to.endpoint, from.endpoint, replySubject, replyCopy, () => {
                if (done || !from.isLive()) return false;
                replies.push(replyCopy);
                if (replies.length >= maxReplies) finish();
                return true;
              });
            });
          }
          return true;
        });
      }
    });
  }

  private receivers(from: MemoryTransport, pred: (r: MemoryTransport) => boolean): MemoryTransport[] {
    return (this.sortedEndpoints ??= [...this.transports.keys()].sort())
      .map((e) => this.transports.get(e)!)
      .filter((r) => r !== from && pred(r));
  }

  private sampleLatency(latency: Latency, from: string, to: string): number {
    let ms: number;
    if (typeof latency === 'function') ms = latency(from, to, this.rng);
    else if (Number.isInteger(latency.minMs) && Number.isInteger(latency.maxMs)) ms = latency.minMs + this.rng.int(latency.maxMs - latency.minMs + 1);
    else ms = this.rng.range(latency.minMs, latency.maxMs);
    return Number.isFinite(ms) && ms > 0 ? ms : 0;
  }

  private transmit(from: string, to: string, subject: string, bytes: Uint8Array, deliver: () => boolean): void {
    if (!this.canReach(from, to)) {
      this.counters.partitioned++;
      return;
    }
    const link = this.linkConfig(from, to);
    if (this.rng.chance(link.loss)) {
      this.counters.lost++;
      return;
    }
    const copies = this.rng.chance(link.duplicate) ? 2 : 1;
    if (copies === 2) this.counters.duplicated++;
    for (let i = 0; i < copies; i++) {
      let delay = this.sampleLatency(link.latency, from, to);
      if (this.rng.chance(link.reorder)) delay += this.sampleLatency(link.reorderDelay, from, to);
      this.inFlightCount++;
      this.clock.setTimeout(() => {
        this.inFlightCount--;
        if (!this.canReach(from, to)) {
          this.counters.partitioned++;
        } else if (!deliver()) {
          this.counters.undeliverable++;
        } else {
          this.counters.delivered++;
          this.record(from, to, subject, bytes);
        }
      }, delay);
    }
  }

  private record(from: string, to: string, subject: string, bytes: Uint8Array): void {
    let d = this.digests.get(bytes);
    if (d === undefined) {
      d = createHash('sha256').update(bytes).digest('hex');
      this.digests.set(bytes, d);
    }
    this.trace.update(`${this.clock.now()}\u0000${from}\u0000${to}\u0000${subject}\u0000${d}\n`);
    for (const tap of this.deliveryTaps) tap(from, to, subject, bytes);
  }
}

type Handler = (req: Uint8Array) => Uint8Array | Promise<Uint8Array>;

export class MemoryTransport implements Transport {
  readonly stats: TransportStats = emptyStats();
  private readonly inbound = new Subject<Inbound>();
  private readonly status = new ReplaySubject<ConnectionEvent>(1);
  private readonly subs = new Set<string>();
  /** subject → wanted, memoized until the subscriptions change (matching is the network's hot path). */
  private readonly wanted = new Map<string, boolean>();
  private readonly handlers: Array<{ subject: string; handler: Handler }> = [];
  private state: 'new' | 'started' | 'stopped' = 'new';
  private up = false;
  private readonly ownInbox: string;

  constructor(
    private readonly net: MemoryNetwork,
    readonly endpoint: string,
    private readonly decoder: InboundDecoder,
  ) {
    if (!isSafeEndpoint(endpoint)) throw new Error(`unsafe endpoint: ${JSON.stringify(endpoint)}`);
    this.ownInbox = net.subjects.inbox(endpoint);
  }

  get maxPayload(): number {
    return this.net.maxPayload;
  }
  get connected(): boolean {
    return this.state === 'started' && this.up;
  }
  get inbound$(): Observable<Inbound> {
    return this.inbound.asObservable();
  }
  get status$(): Observable<ConnectionEvent> {
    return this.status.asObservable();
  }

  async start(): Promise<void> {
    if (this.state === 'started') return;
    if (this.state === 'stopped') throw new Error(`transport ${this.endpoint} was stopped; create a new one`);
    this.net.join(this);
    this.state = 'started';
    this.connectionEvent('connected');
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    const wasStarted = this.state === 'started';
    this.state = 'stopped';
    if (wasStarted) this.net.leave(this);
    this.up = false;
    this.status.next({ type: 'closed', at: this.net.clock.now() });
    this.status.complete();
    this.inbound.complete();
  }

  send(toEndpoint: string, bytes: Uint8Array, opts?: SendOptions): boolean {
    if (!isSafeEndpoint(toEndpoint)) return this.drop('bad-subject');
    return this.publish(this.net.subjects.inbox(toEndpoint), bytes, opts);
  }

  publish(subject: string, bytes: Uint8Array, opts?: SendOptions): boolean {
    if (this.state !== 'started') return this.drop('stopped');
    if (!isPublishSubject(subject)) return this.drop('bad-subject');
    if (bytes.byteLength > this.maxPayload) return this.drop('oversized');
    if (!this.net.publish(this, subject, bytes, opts?.via ?? null)) return this.drop('queue-full');
    this.stats.sent++;
    return true;
  }

  subscribe(subject: string): void {
    if (!isSubscribeSubject(subject)) throw new Error(`invalid subscription subject: ${JSON.stringify(subject)}`);
    this.subs.add(subject);
    this.wanted.clear();
  }

  unsubscribe(subject: string): void {
    this.subs.delete(subject);
    this.wanted.clear();
  }

  serve(subject: string, handler: Handler): () => void {
    if (!isSubscribeSubject(subject)) throw new Error(`invalid serve subject: ${JSON.stringify(subject)}`);
    const entry = { subject, handler };
    this.handlers.push(entry);
    return () => {
      const i = this.handlers.indexOf(entry);
      if (i >= 0) this.handlers.splice(i, 1);
    };
  }

  async request(subject: string, data: Uint8Array, opts: { timeoutMs: number; maxReplies?: number }): Promise<Uint8Array[]> {
    if (this.state !== 'started') {
      this.drop('stopped');
      return [];
    }
    if (!isPublishSubject(subject)) {
      this.drop('bad-subject');
      return [];
    }
    if (data.byteLength > this.maxPayload) {
      this.drop('oversized');
      return [];
    }
    this.stats.sent++;
    return this.net.request(this, subject, data, opts.timeoutMs, opts.maxReplies ?? Infinity);
  }

  // ---- used by MemoryNetwork ----

  /** @internal */
  isLive(): boolean {
    return this.state === 'started';
  }

  /** @internal */
  wants(subject: string): boolean {
    let w = this.wanted.get(subject);
    if (w === undefined) {
      w = subject === this.ownInbox;
      if (!w) for (const s of this.subs) if (subjectMatches(s, subject)) w = true;
      if (this.wanted.size >= 4096) this.wanted.clear();
      this.wanted.set(subject, w);
    }
    return w;
  }

  /** @internal */
  handlersFor(subject: string): Handler[] {
    return this.handlers.filter((h) => subjectMatches(h.subject, subject)).map((h) => h.handler);
  }

  /** @internal Runs a serve handler; a throw or rejection is counted, never propagated. */
  answer(handler: Handler, req: Uint8Array, reply: (bytes: Uint8Array) => void): void {
    this.stats.received++;
    Promise.resolve()
      .then(() => handler(req))
      .then(
        (res) => {
          if (res instanceof Uint8Array && res.byteLength <= this.maxPayload) reply(res);
          else this.drop(res instanceof Uint8Array ? 'oversized' : 'serve-error');
        },
        () => this.drop('serve-error'),
      );
  }

  /** @internal Decode at delivery time with this transport's decoder. */
  receive(subject: string, bytes: Uint8Array, via: string | null): void {
    this.stats.received++;
    const msg = decodeOrDrop(this.decoder, bytes, subject, (r) => this.drop(r));
    if (msg) this.inbound.next({ msg, subject, via });
  }

  /** @internal */
  connectionEvent(type: 'connected' | 'disconnected' | 'reconnecting' | 'reconnected'): void {
    if (this.state !== 'started') return;
    this.up = type === 'connected' || type === 'reconnected';
    this.status.next({ type, at: this.net.clock.now(), server: 'memory' });
  }

  private drop(reason: string): false {
    countDrop(this.stats, reason);
    return false;
  }
}
