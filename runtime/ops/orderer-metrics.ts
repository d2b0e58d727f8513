// Prometheus metrics of the ordering service (prom-client, its own registry like each peer's). Fabric's name
// where Fabric's orderer has one (ledger_blockchain_height); the rest are murmur_orderer_*. Appends are
// counted as they happen (blocks$); submissions and heights are read from the orderer at scrape time.
//   murmur_orderer_blocks_appended{channel}           counter   blocks appended to the channel's stream
//   murmur_orderer_transactions_ordered{channel}      counter   transactions in those blocks
//   murmur_orderer_transactions_accepted              counter   transactions validated and queued
//   murmur_orderer_transactions_rejected{reason}      counter   refused (unknown-channel, empty, too-large, overloaded, stopped)
//   murmur_orderer_batch_transactions{channel}        histogram transactions per block
//   murmur_orderer_batch_bytes{channel}               histogram transaction bytes per block
//   murmur_orderer_append_seconds{channel}            histogram from the batch's cut to the stream's acknowledgement
//   murmur_orderer_pending_batches{channel}           gauge     cut batches waiting for their append
//   ledger_blockchain_height{channel}                 gauge     blocks in the chain (genesis only = 1)
//   murmur_nats_connected                             gauge     1 while connected to NATS
import { Counter, Gauge, Histogram, Registry } from './prom.ts';
import type { Subscription } from 'rxjs';
import type { Orderer } from '../orderer/orderer.ts';

/** What the metrics read of the orderer (a narrow view of Orderer). */
export type OrdererSource = Pick<Orderer, 'blocks$' | 'stats' | 'channels' | 'height' | 'pendingBatches'>;

export class OrdererMetrics {
  readonly registry = new Registry();
  private sub: Subscription | null = null;
  private readonly appended: Counter<'channel'>;
  private readonly ordered: Counter<'channel'>;
  private readonly batchTxs: Histogram<'channel'>;
  private readonly batchBytes: Histogram<'channel'>;
  private readonly appendSeconds: Histogram<'channel'>;
  private orderer: OrdererSource | null = null;
  /** Foreign stream entries the block log skipped, by reason (jetstream.log.ts), when it counts them. */
  skipped: () => Record<string, number> = () => ({});
  /** The deliver service's requests (deliver.service.ts), when it runs. */
  deliver: () => { opened: number; refused: Record<string, number> } = () => ({ opened: 0, refused: {} });

  constructor(natsConnected: () => boolean) {
    const r = [this.registry];
    const self = this;
    this.appended = new Counter({ name: 'murmur_orderer_blocks_appended', help: "Blocks appended to the channel's stream", labelNames: ['channel'], registers: r });
    this.ordered = new Counter({ name: 'murmur_orderer_transactions_ordered', help: 'Transactions in appended blocks', labelNames: ['channel'], registers: r });
    this.batchTxs = new Histogram({
      name: 'murmur_orderer_batch_transactions',
      help: 'Transactions per appended block',
      labelNames: ['channel'],
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
      registers: r,
    });
    this.batchBytes = new Histogram({
      name: 'murmur_orderer_batch_bytes',
      help: 'Transaction bytes per appended block',
      labelNames: ['channel'],
      buckets: [1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216],
      registers: r,
    });
    this.appendSeconds = new Histogram({
      name: 'murmur_orderer_append_seconds',
      help: "From a batch's cut to the stream's acknowledgement of its block, in seconds",
      labelNames: ['channel'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: r,
    });
    // Monotonic totals kept by the orderer itself, mirrored at scrape time.
    new Counter({
      name: 'murmur_orderer_transactions_accepted',
      help: 'Transactions validated and queued',
      registers: r,
      collect() {
        this.reset();
        this.inc(self.orderer?.stats.accepted ?? 0);
      },
    });
    new Counter({
      name: 'murmur_orderer_transactions_rejected',
      help: 'Transactions refused, by reason',
      labelNames: ['reason'],
      registers: r,
      collect() {
        this.reset();
        for (const [reason, n] of Object.entries(self.orderer?.stats.rejected ?? {})) this.inc({ reason }, n);
      },
    });
    new Counter({
      name: 'murmur_orderer_foreign_entries',
      help: 'Block-stream entries that are not blocks of the chain (garbage, another channel, replays, forgeries), by reason',
      labelNames: ['reason'],
      registers: r,
      collect() {
        this.reset();
        for (const [reason, n] of Object.entries(self.skipped())) this.inc({ reason }, n);
      },
    });
    new Counter({
      name: 'murmur_orderer_deliver_requests',
      help: 'Deliver requests: consumers opened (result="opened") and requests refused, by reason',
      labelNames: ['result'],
      registers: r,
      collect() {
        this.reset();
        const d = self.deliver();
        this.inc({ result: 'opened' }, d.opened);
        for (const [result, n] of Object.entries(d.refused)) this.inc({ result }, n);
      },
    });
    const perChannel = (name: string, help: string, value: (o: OrdererSource, channel: string) => number | null) =>
      new Gauge({
        name,
        help,
        labelNames: ['channel'],
        registers: r,
        collect() {
          const o = self.orderer;
          if (!o) return;
          for (const channel of o.channels()) {
            const v = value(o, channel);
            if (v !== null) this.set({ channel }, v);
          }
        },
      });
    perChannel('ledger_blockchain_height', 'Blocks in the chain (genesis only = 1)', (o, ch) => o.height(ch));
    perChannel('murmur_orderer_pending_batches', 'Cut batches waiting for their append', (o, ch) => o.pendingBatches(ch));
    new Gauge({
      name: 'murmur_nats_connected',
      help: '1 while connected to NATS',
      registers: r,
      collect() {
        this.set(natsConnected() ? 1 : 0);
      },
    });
  }

  /** Starts counting the orderer's appends (the ops server may serve before the orderer is open). */
  attach(orderer: OrdererSource): void {
    this.orderer = orderer;
    this.sub?.unsubscribe();
    this.sub = orderer.blocks$.subscribe(({ channel, block, appendMs }) => {
      this.appended.inc({ channel });
      this.ordered.inc({ channel }, block.data.length);
      this.batchTxs.observe({ channel }, block.data.length);
      this.batchBytes.observe({ channel }, block.data.reduce((n, tx) => n + tx.byteLength, 0));
      this.appendSeconds.observe({ channel }, appendMs / 1000);
    });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
