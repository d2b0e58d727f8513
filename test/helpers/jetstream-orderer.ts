// An orderer over a channel's JetStream stream for integration tests: the test material's orderer key, the real
// clock, small batches (MaxMessageCount `perBlock`, BatchTimeout `timeoutMs`).
import type { NatsConnection } from 'nats';
import { JetStreamBlockLog } from '../../runtime/orderer/jetstream.log.ts';
import { Orderer } from '../../runtime/orderer/orderer.ts';
import type { Genesis } from '../../runtime/ledger/channel-config.ts';
import { realClock } from '../../runtime/clock.ts';
import { ed, material } from './material.ts';

export function startStreamOrderer(nc: NatsConnection, genesis: Genesis, o: { perBlock: number; timeoutMs: number; maxPendingBatches?: number }): Promise<Orderer> {
  return Orderer.start({
    channels: [genesis],
    log: new JetStreamBlockLog(nc),
    sign: (m) => ed.sign(material().orderer.secret, m),
    clock: realClock,
    batchSize: { maxMessageCount: o.perBlock, preferredMaxBytes: 1 << 16, absoluteMaxBytes: 1 << 17 },
    batchTimeoutMs: o.timeoutMs,
    maxPendingBatches: o.maxPendingBatches ?? 10_000,
  });
}
