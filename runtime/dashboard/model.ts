// The dashboard's view of a network, built only from successive `murmur status` answers (one sample a second):
// the latest row of each peer and channel, a bounded height history, and a timeline derived by comparing a
// sample with the one before (leader changes per org, peers that stop or resume answering, peers dropped from
// or back in another peer's membership view, rejected messages by reason). Nothing here is estimated: a value
// the peers do not report stays null and the page shows "n/a".
import type { StatusRow } from '../../actors/status-row.ts';

export type EventKind = 'up' | 'gone' | 'back' | 'restart' | 'leader' | 'dead' | 'resurrected' | 'rejected' | 'error';

export interface TimelineEvent {
  /** ms since the epoch, the time of the sample that showed the change. */
  t: number;
  kind: EventKind;
  channel: string | null;
  org: string | null;
  peer: string | null;
  text: string;
}

/** A peer the network file lists (it may never have answered). */
export interface ExpectedPeer {
  id: string;
  org: string;
  pid: number | null;
}

export interface PeerView {
  key: string;
  id: string;
  org: string;
  channel: string;
  /** The latest row it answered with (null: listed in network.json, never answered). */
  row: StatusRow | null;
  /** Whether it answered the latest sample. */
  answering: boolean;
  /** Time of the last sample it answered (null: never). */
  lastSeen: number | null;
  /** [time, height] pairs, oldest first, at most `historyLimit`; height null while it did not answer. */
  history: [number, number | null][];
}

export interface ChannelStats {
  channel: string;
  /** Block latency (orderer timestamp → commit) of the slowest answering peer: the largest p50 and the largest
   *  p99 any of them reports over its recent blocks (status `blocks`); null when none reports one. */
  latencyMs: { p50: number | null; p99: number | null; peers: number } | null;
  /** Payload copies that reached a peer per committed block, over every answering peer's recent blocks
   *  (Σ copiesPerBlock × window / Σ window, status `blocks`); null when no peer reports one. */
  copiesPerBlock: number | null;
  /** Answering peers whose `blocks.window` the copies figure covers. */
  copiesPeers: number;
  /** Committed blocks by source, summed over answering peers; null where no peer reports the counter. */
  blocksBySource: Record<'orderer' | 'push' | 'pull' | 'stateTransfer', number | null>;
  duplicates: number | null;
  /** Rejected messages by reason, summed over the answering peers' counters (cumulative since each started). */
  rejected: Record<string, number>;
}

export interface DashboardSnapshot {
  natsUrl: string;
  prefix: string;
  intervalMs: number;
  historyLimit: number;
  startedAt: number;
  /** Time of the latest sample (null before the first). */
  sampledAt: number | null;
  /** The latest poll's error (NATS unreachable, …), null when it succeeded. */
  error: string | null;
  channels: string[];
  peers: PeerView[];
  stats: ChannelStats[];
  events: TimelineEvent[];
}

/** What goes to the page after each sample (the page appends to its own bounded history). */
export interface SampleUpdate {
  t: number;
  error: string | null;
  channels: string[];
  peers: Omit<PeerView, 'history'>[];
  heights: Record<string, number | null>;
  stats: ChannelStats[];
  events: TimelineEvent[];
}

export interface ModelOptions {
  historyLimit?: number;
  eventLimit?: number;
  natsUrl: string;
  prefix: string;
  intervalMs: number;
  now?: () => number;
}

const keyOf = (channel: string, id: string) => `${channel}/${id}`;
const byId = (a: string, b: string) => a.localeCompare(b, undefined, { numeric: true });

export class DashboardModel {
  readonly historyLimit: number;
  private readonly eventLimit: number;
  private readonly startedAt: number;
  private readonly peers = new Map<string, PeerView>();
  private readonly events: TimelineEvent[] = [];
  private sampledAt: number | null = null;
  private error: string | null = null;
  /** Previous sample, per peer id (first row of the id): pid and members. */
  private prevById = new Map<string, { pid: number | null; members: string[] | null }>();
  /** Ids that answered at some point. */
  private readonly everSeen = new Set<string>();
  /** Leaders per channel/org in the previous sample (answering peers with role leader). */
  private prevLeaders = new Map<string, string[]>();
  /** observer → targets it once dropped from its members (so a return is a resurrection, not a first sight). */
  private readonly dropped = new Map<string, Set<string>>();
  private readonly expected = new Map<string, ExpectedPeer>();

  constructor(private readonly o: ModelOptions) {
    this.historyLimit = o.historyLimit ?? 300;
    this.eventLimit = o.eventLimit ?? 500;
    this.startedAt = (o.now ?? Date.now)();
  }

  /** Peers the network file lists: shown even before (or without) answering. */
  setExpected(peers: ExpectedPeer[]): void {
    this.expected.clear();
    for (const p of peers) this.expected.set(p.id, p);
  }

  /** A poll that failed (no answer collected at all): nothing about the peers is inferred from it. */
  fail(t: number, message: string): SampleUpdate {
    const events: TimelineEvent[] = [];
    if (this.error !== message) events.push(this.push({ t, kind: 'error', channel: null, org: null, peer: null, text: `status poll failed: ${message}` }));
    this.error = message;
    this.sampledAt = t;
    return this.update(t, events);
  }

  /** One sample: every row that answered within the poll. Returns what changed, for the page. */
  ingest(t: number, rows: StatusRow[]): SampleUpdate {
    const events: TimelineEvent[] = [];
    const ev = (e: Omit<TimelineEvent, 't'>) => events.push(this.push({ t, ...e }));
    this.error = null;
    this.sampledAt = t;

    const first = new Map<string, StatusRow>();
    for (const r of rows) if (!first.has(r.id)) first.set(r.id, r);

    // Answering, restarts.
    for (const [id, r] of first) {
      const prev = this.prevById.get(id);
      if (!this.everSeen.has(id)) ev({ kind: 'up', channel: null, org: r.org, peer: id, text: `${id} answering${r.pid !== null ? ` (pid ${r.pid})` : ''}` });
      else if (!prev) ev({ kind: 'back', channel: null, org: r.org, peer: id, text: `${id} answering again` });
      else if (prev.pid !== null && r.pid !== null && prev.pid !== r.pid) ev({ kind: 'restart', channel: null, org: r.org, peer: id, text: `${id} restarted (pid ${prev.pid} → ${r.pid})` });
      this.everSeen.add(id);
    }
    for (const id of this.prevById.keys()) {
      if (first.has(id)) continue;
      const org = [...this.peers.values()].find((p) => p.id === id)?.org ?? null;
      ev({ kind: 'gone', channel: null, org, peer: id, text: `${id} stopped answering status` });
    }

    // Membership views: a target leaving an observer's members is declared dead by it; coming back after that
    // is a resurrection. Only observers that answered both samples as the same process count.
    const deadBy = new Map<string, string[]>();
    const backFor = new Map<string, string[]>();
    for (const [id, r] of first) {
      const prev = this.prevById.get(id);
      if (!prev || prev.pid !== r.pid || !prev.members || !r.members) continue;
      const now = new Set(r.members);
      const before = new Set(prev.members);
      const once = this.dropped.get(id) ?? new Set<string>();
      for (const m of before) if (!now.has(m)) (deadBy.get(m) ?? deadBy.set(m, []).get(m)!).push(id), once.add(m);
      for (const m of now) if (!before.has(m) && once.has(m)) (backFor.get(m) ?? backFor.set(m, []).get(m)!).push(id), once.delete(m);
      this.dropped.set(id, once);
    }
    for (const [target, by] of [...deadBy].sort((a, b) => byId(a[0], b[0])))
      ev({ kind: 'dead', channel: null, org: this.orgOf(target, first), peer: target, text: `${target} declared dead by ${by.sort(byId).join(', ')}` });
    for (const [target, by] of [...backFor].sort((a, b) => byId(a[0], b[0])))
      ev({ kind: 'resurrected', channel: null, org: this.orgOf(target, first), peer: target, text: `${target} alive again for ${by.sort(byId).join(', ')}` });

    // Rejections: counter increases per row (a restarted process starts from zero).
    for (const r of rows) {
      const old = this.peers.get(keyOf(r.channel, r.id))?.row;
      const samePid = old && old.pid === r.pid;
      const parts: string[] = [];
      for (const [reason, n] of Object.entries(r.counters?.rejected ?? {})) {
        const before = samePid ? (old.counters?.rejected?.[reason] ?? 0) : 0;
        const d = n >= before ? n - before : n;
        if (d > 0) parts.push(`${d} × ${reason}`);
      }
      if (parts.length) ev({ kind: 'rejected', channel: r.channel, org: r.org, peer: r.id, text: `${r.id} rejected ${parts.join(', ')}` });
    }

    // Rows and history.
    const answered = new Set<string>();
    for (const r of rows) {
      const key = keyOf(r.channel, r.id);
      answered.add(key);
      const p = this.peers.get(key) ?? { key, id: r.id, org: r.org, channel: r.channel, row: null, answering: false, lastSeen: null, history: [] };
      p.row = r;
      p.org = r.org;
      p.answering = true;
      p.lastSeen = t;
      this.peers.set(key, p);
    }
    for (const p of this.peers.values()) if (!answered.has(p.key)) p.answering = false;
    // Listed in network.json but never answered: one placeholder per known channel.
    const channels = this.channels();
    for (const e of this.expected.values())
      for (const ch of channels) {
        const key = keyOf(ch, e.id);
        if (!this.peers.has(key)) this.peers.set(key, { key, id: e.id, org: e.org, channel: ch, row: null, answering: false, lastSeen: null, history: [] });
      }
    for (const p of this.peers.values()) {
      p.history.push([t, p.answering ? (p.row?.height ?? null) : null]);
      if (p.history.length > this.historyLimit) p.history.splice(0, p.history.length - this.historyLimit);
    }

    // Leaders per channel and org, among the peers that answered.
    const leaders = new Map<string, string[]>();
    const orgsSeen = new Set<string>();
    for (const p of this.peers.values()) {
      const k = `${p.channel}\u0000${p.org}`;
      orgsSeen.add(k);
      if (p.answering && p.row?.role === 'leader') (leaders.get(k) ?? leaders.set(k, []).get(k)!).push(p.id);
    }
    for (const k of [...orgsSeen].sort()) {
      const [channel, org] = k.split('\u0000') as [string, string];
      const cur = (leaders.get(k) ?? []).sort(byId);
      const prev = this.prevLeaders.get(k);
      if (prev === undefined && cur.length === 0) continue;
      const was = prev ?? [];
      if (JSON.stringify(was) === JSON.stringify(cur)) continue;
      const w = was.length ? was.join(', ') : 'none';
      const text =
        cur.length === 0
          ? `${org} on ${channel}: no answering peer leads (was ${w})`
          : cur.length > 1
            ? `${org} on ${channel}: ${cur.length} leaders: ${cur.join(', ')} (was ${w})`
            : `${org} on ${channel}: ${cur[0]} leads (was ${w})`;
      ev({ kind: 'leader', channel, org, peer: cur[0] ?? null, text });
    }
    this.prevLeaders = new Map([...orgsSeen].map((k) => [k, (leaders.get(k) ?? []).sort(byId)]));

    this.prevById = new Map([...first].map(([id, r]) => [id, { pid: r.pid, members: r.members ? [...r.members] : null }]));
    return this.update(t, events);
  }

  snapshot(): DashboardSnapshot {
    return {
      natsUrl: this.o.natsUrl,
      prefix: this.o.prefix,
      intervalMs: this.o.intervalMs,
      historyLimit: this.historyLimit,
      startedAt: this.startedAt,
      sampledAt: this.sampledAt,
      error: this.error,
      channels: this.channels(),
      peers: this.sortedPeers().map((p) => ({ ...p, history: p.history.map((h) => [h[0], h[1]] as [number, number | null]) })),
      stats: this.stats(),
      events: [...this.events],
    };
  }

  private update(t: number, events: TimelineEvent[]): SampleUpdate {
    const peers = this.sortedPeers();
    return {
      t,
      error: this.error,
      channels: this.channels(),
      peers: peers.map(({ history: _h, ...rest }) => rest),
      heights: Object.fromEntries(peers.map((p) => [p.key, p.answering ? (p.row?.height ?? null) : null])),
      stats: this.stats(),
      events,
    };
  }

  private push(e: TimelineEvent): TimelineEvent {
    this.events.push(e);
    if (this.events.length > this.eventLimit) this.events.splice(0, this.events.length - this.eventLimit);
    return e;
  }

  private orgOf(id: string, first: Map<string, StatusRow>): string | null {
    return first.get(id)?.org ?? [...this.peers.values()].find((p) => p.id === id)?.org ?? this.expected.get(id)?.org ?? null;
  }

  private channels(): string[] {
    return [...new Set([...this.peers.values()].map((p) => p.channel))].sort(byId);
  }

  private sortedPeers(): PeerView[] {
    return [...this.peers.values()].sort((a, b) => byId(a.channel, b.channel) || byId(a.org, b.org) || byId(a.id, b.id));
  }

  private stats(): ChannelStats[] {
    return this.channels().map((channel) => {
      const rows = [...this.peers.values()].filter((p) => p.channel === channel && p.answering && p.row).map((p) => p.row!);
      const sum = (f: (r: StatusRow) => number | null): number | null => {
        const vs = rows.map(f).filter((v): v is number => typeof v === 'number');
        return vs.length ? vs.reduce((a, b) => a + b, 0) : null;
      };
      const c = (r: StatusRow) => r.counters ?? ({} as StatusRow['counters']);
      // Older peers answer without `blocks`: they count as not reporting.
      const figs = rows.map((r) => r.blocks ?? null).filter((b): b is NonNullable<StatusRow['blocks']> => b !== null && b.window > 0);
      const max = (vs: (number | null)[]): number | null => {
        const ns = vs.filter((v): v is number => typeof v === 'number');
        return ns.length ? Math.max(...ns) : null;
      };
      const lat = figs.filter((b) => b.latencyP50Ms !== null || b.latencyP99Ms !== null);
      const cop = figs.filter((b) => b.copiesPerBlock !== null);
      const copWindow = cop.reduce((n, b) => n + b.window, 0);
      const rejected: Record<string, number> = {};
      for (const r of rows) for (const [k, n] of Object.entries(c(r).rejected ?? {})) rejected[k] = (rejected[k] ?? 0) + n;
      return {
        channel,
        latencyMs: lat.length ? { p50: max(lat.map((b) => b.latencyP50Ms)), p99: max(lat.map((b) => b.latencyP99Ms)), peers: lat.length } : null,
        copiesPerBlock: copWindow > 0 ? Math.round((cop.reduce((n, b) => n + b.copiesPerBlock! * b.window, 0) / copWindow) * 1000) / 1000 : null,
        copiesPeers: cop.length,
        blocksBySource: {
          orderer: sum((r) => c(r).blocksFromOrderer),
          push: sum((r) => c(r).blocksByPush),
          pull: sum((r) => c(r).blocksByPull),
          stateTransfer: sum((r) => c(r).blocksByStateTransfer),
        },
        duplicates: sum((r) => c(r).duplicates),
        rejected,
      };
    });
  }
}
