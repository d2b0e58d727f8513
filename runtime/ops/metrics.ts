// Prometheus metrics of one peer (prom-client, one registry per peer so peers in one process stay apart).
// Fabric's names where Fabric has one: gossip_comm_messages_sent / _received, gossip_state_height,
// gossip_leader_election_leader, gossip_membership_total_peers_known. Gauges read the peer's status at scrape
// time, so they are never stale and cost nothing between scrapes.
import { Counter, Gauge, Registry } from './prom.ts';
import type { StatusRow } from '../../actors/status-row.ts';
import type { SendOptions, Transport } from '../transport/transport.ts';
import { envelopeKind } from '../wire/envelope.ts';

export interface MetricsSource {
  status(): StatusRow[];
  /** Tree dissemination per channel (absent or empty: push mode, or not started). */
  tree?(): TreeFigures[];
  /** Verified messages no concern handles, by kind (actors/inbound-router.ts). */
  unhandled?(): Record<string, number>;
}

/** A channel's tree links and repair counters (actors/tree-disseminator.ts, machines/plumtree.logic.ts). */
export interface TreeFigures {
  channel: string;
  eagerLinks: number;
  lazyLinks: number;
  missing: number;
  counters: Record<string, number>;
}

export class PeerMetrics {
  readonly registry = new Registry();
  readonly sent: Counter<'kind'>;
  readonly received: Counter<'kind'>;
  private readonly rejected: Gauge<'reason'>;

  constructor(source: MetricsSource, labels: { peer: string; org: string }) {
    this.registry.setDefaultLabels(labels);
    const r = [this.registry];
    this.sent = new Counter({ name: 'gossip_comm_messages_sent', help: 'Messages sent, by payload kind', labelNames: ['kind'], registers: r });
    this.received = new Counter({ name: 'gossip_comm_messages_received', help: 'Verified messages received, by payload kind', labelNames: ['kind'], registers: r });
    const perChannel = (name: string, help: string, value: (row: StatusRow) => number | null) =>
      new Gauge({
        name,
        help,
        labelNames: ['channel'],
        registers: r,
        collect() {
          for (const row of source.status()) {
            const v = value(row);
            if (v !== null) this.set({ channel: row.channel }, v);
          }
        },
      });
    perChannel('gossip_state_height', 'Ledger height (committed blocks, genesis only = 1)', (row) => row.height);
    perChannel('gossip_leader_election_leader', '1 while this peer leads the channel in its org', (row) => (row.role === 'leader' ? 1 : 0));
    perChannel('gossip_membership_total_peers_known', 'Peers discovery holds alive, self excluded', (row) => row.members?.length ?? null);
    perChannel('murmur_state_syncing', '1 while state transfer is catching up', (row) => (row.state === null ? null : row.state === 'syncing' ? 1 : 0));
    const sources = ['blocksFromOrderer', 'blocksByPush', 'blocksByPull', 'blocksByStateTransfer'] as const;
    new Gauge({
      name: 'murmur_blocks_committed',
      help: 'Blocks committed, by source',
      labelNames: ['channel', 'source'],
      registers: r,
      collect() {
        for (const row of source.status())
          for (const s of sources) {
            const v = row.counters[s];
            if (v !== null) this.set({ channel: row.channel, source: s.replace(/^blocks(By|From)/, '').toLowerCase() }, v);
          }
      },
    });
    this.rejected = new Gauge({
      name: 'murmur_messages_rejected',
      help: 'Refused inbound messages, by reason',
      labelNames: ['reason'],
      registers: r,
      collect() {
        const row = source.status()[0];
        for (const [reason, n] of Object.entries(row?.counters.rejected ?? {})) this.set({ reason }, n);
      },
    });
    const trees = () => source.tree?.() ?? [];
    new Gauge({
      name: 'murmur_tree_links',
      help: 'Tree dissemination links, by kind (eager: payloads, lazy: announcements)',
      labelNames: ['channel', 'kind'],
      registers: r,
      collect() {
        for (const t of trees()) {
          this.set({ channel: t.channel, kind: 'eager' }, t.eagerLinks);
          this.set({ channel: t.channel, kind: 'lazy' }, t.lazyLinks);
        }
      },
    });
    new Gauge({
      name: 'murmur_tree_missing_blocks',
      help: 'Blocks announced or seen missing that a graft timer waits for',
      labelNames: ['channel'],
      registers: r,
      collect() {
        for (const t of trees()) this.set({ channel: t.channel }, t.missing);
      },
    });
    new Gauge({
      name: 'murmur_tree_events',
      help: 'Tree dissemination events since start: payload sends, ihave sent, grafts sent and served, prunes, failures, skipped announcements, links refused or abandoned',
      labelNames: ['channel', 'event'],
      registers: r,
      collect() {
        for (const t of trees()) for (const [event, n] of Object.entries(t.counters)) this.set({ channel: t.channel, event }, n);
      },
    });
    new Gauge({
      name: 'murmur_storage_failures',
      help: 'Ledger commits that failed in the storage (full disk, I/O error) since start, by channel; retried with backoff',
      labelNames: ['channel'],
      registers: r,
      collect() {
        for (const row of source.status()) if (row.storage) this.set({ channel: row.channel }, row.storage.failures);
      },
    });
    new Gauge({
      name: 'murmur_storage_ok',
      help: '1 while the channel ledger storage commits, 0 while it fails',
      labelNames: ['channel'],
      registers: r,
      collect() {
        for (const row of source.status()) if (row.storage) this.set({ channel: row.channel }, row.storage.ok ? 1 : 0);
      },
    });
    new Gauge({
      name: 'murmur_inbound_unhandled',
      help: 'Verified messages no concern of this peer handles (a kind it does not serve, a channel it has not joined), by kind',
      labelNames: ['kind'],
      registers: r,
      collect() {
        for (const [kind, n] of Object.entries(source.unhandled?.() ?? {})) this.set({ kind }, n);
      },
    });
    new Gauge({
      name: 'murmur_nats_connected',
      help: '1 while connected to NATS',
      registers: r,
      collect() {
        this.set(source.status()[0]?.natsConnected ? 1 : 0);
      },
    });
    void this.rejected;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

/** Wraps a transport so every accepted send/publish is counted by payload kind. Everything else goes to
 * the transport itself (a Proxy, so its own state is never shadowed by the wrapper). */
export function countingTransport<T extends Transport>(t: T, onSent: (kind: string) => void): T {
  const send = (to: string, bytes: Uint8Array, opts?: SendOptions) => {
    const ok = t.send(to, bytes, opts);
    if (ok) onSent(envelopeKind(bytes) ?? 'unknown');
    return ok;
  };
  const publish = (subject: string, bytes: Uint8Array, opts?: SendOptions) => {
    const ok = t.publish(subject, bytes, opts);
    if (ok) onSent(envelopeKind(bytes) ?? 'unknown');
    return ok;
  };
  return new Proxy(t, {
    get(target, prop) {
      if (prop === 'send') return send;
      if (prop === 'publish') return publish;
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}
