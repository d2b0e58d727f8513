// `murmur orderer start`: the ordering service as a process on NATS. Reads its identity and each channel's
// genesis block, checks that it is the orderer those genesis blocks name, fits the batch size under the
// server's max_payload, opens (or creates) every channel's JetStream stream, and serves transactions, height
// and deliver requests (deliver.service.ts).
// Its operations service (Operations.ListenAddress) serves /metrics (runtime/ops/orderer-metrics.ts) and
// /healthz (NATS connected, the orderer open, every channel's stream answering) from the moment NATS is up.
import { connect, Events, type NatsConnection } from 'nats';
import type { OrdererConfig } from '../../config/orderer-schema.ts';
import { realClock } from '../clock.ts';
import { nodeEd25519 } from '../crypto/ed25519.ts';
import { readSigner } from '../crypto/material.ts';
import { readGenesis } from '../ledger/channel-config.ts';
import { bytesEqual } from '../util/bytes.ts';
import { clampBatchSize } from './cutter.ts';
import { JetStreamBlockLog } from './jetstream.log.ts';
import { serveTransactions } from './nats-intake.ts';
import { DeliverService } from './deliver.service.ts';
import { loginOptions } from '../transport/nats-login.ts';
import { Orderer } from './orderer.ts';
import { OrdererMetrics } from '../ops/orderer-metrics.ts';
import { startOpsServer, type OpsServer } from '../ops/server.ts';

export interface RunningOrderer {
  orderer: Orderer;
  nc: NatsConnection;
  /** Base URL of /metrics and /healthz, or null when Operations.ListenAddress is ''. */
  opsUrl: string | null;
  stop(): Promise<void>;
}

export async function startOrdererProcess(cfg: OrdererConfig, say: (line: string) => void, opts: { connectTimeoutMs?: number } = {}): Promise<RunningOrderer> {
  const ed = nodeEd25519();
  const signer = readSigner(cfg.General.LocalMSPDir, ed);
  if (signer.identity.mspId !== cfg.General.LocalMSPID)
    throw new Error(`the identity in ${cfg.General.LocalMSPDir} belongs to ${signer.identity.mspId}, but General.LocalMSPID is ${cfg.General.LocalMSPID}`);
  if (cfg.General.Channels.length === 0) throw new Error('General.Channels is empty: the orderer serves no channel');
  const channels = cfg.General.Channels.map((c) => {
    const g = readGenesis(c.genesisBlock, ed, c.name);
    if (!bytesEqual(g.config.orderer.cert, signer.identity.cert))
      throw new Error(`channel ${c.name}: its genesis block names another orderer than the identity in ${cfg.General.LocalMSPDir}`);
    return g;
  });

  const n = cfg.NATS;
  const nc = await connect({
    servers: n.Servers,
    name: 'murmur orderer',
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
    waitOnFirstConnect: true,
    timeout: opts.connectTimeoutMs ?? 10_000,
    ...loginOptions({ user: n.User, pass: n.Pass, token: n.Token, credsFile: n.CredsFile }),
  });
  const connected = trackConnection(nc);
  let ops: OpsServer | null = null;
  try {
    const metrics = new OrdererMetrics(connected);
    let opened: Orderer | null = null;
    const log = new JetStreamBlockLog(nc, { prefix: n.Prefix, replicas: n.StreamReplicas });
    if (cfg.Operations.ListenAddress) {
      try {
        ops = await startOpsServer({
          listenAddress: cfg.Operations.ListenAddress,
          metrics: () => metrics.text(),
          checks: [
            { name: 'nats', ok: connected },
            { name: 'orderer', ok: () => opened !== null },
            ...channels.map((g) => ({ name: `stream ${g.config.channel}`, ok: () => log.reachable(g.config.channel) })),
          ],
        });
      } catch (e) {
        throw new Error(`Operations.ListenAddress ${cfg.Operations.ListenAddress}: ${(e as Error).message} (set another host:port, port 0 for any free port, or '' to disable)`);
      }
      say(`operations: ${ops.url}/metrics ${ops.url}/healthz`);
    }
    const maxPayload = nc.info?.max_payload ?? 1024 * 1024;
    const { size, warnings } = clampBatchSize(
      { maxMessageCount: cfg.BatchSize.MaxMessageCount, absoluteMaxBytes: cfg.BatchSize.AbsoluteMaxBytes, preferredMaxBytes: cfg.BatchSize.PreferredMaxBytes },
      maxPayload,
    );
    for (const w of warnings) say(`warning: ${w}`);
    const orderer = await Orderer.start({
      channels,
      log,
      sign: (m) => signer.sign(m),
      clock: realClock,
      batchSize: size,
      batchTimeoutMs: cfg.BatchTimeout,
      maxPendingBatches: cfg.General.MaxPendingBatches,
      say,
    });
    opened = orderer;
    metrics.attach(orderer);
    metrics.skipped = () => log.skipped;
    const sub = serveTransactions(nc, orderer, n.Prefix);
    const deliver = new DeliverService(nc, { prefix: n.Prefix, channels: () => orderer.channels() }).start();
    metrics.deliver = () => deliver.stats as { opened: number; refused: Record<string, number> };
    // The server has the subscriptions once the flush returns: "orderer running" means transactions and
    // deliver requests are served.
    await nc.flush();
    say(
      `orderer running on ${n.Servers.join(',')}; channels: ${orderer.channels().join(', ')}; BatchTimeout ${cfg.BatchTimeout}ms, ` +
        `MaxMessageCount ${size.maxMessageCount}, AbsoluteMaxBytes ${size.absoluteMaxBytes}, PreferredMaxBytes ${size.preferredMaxBytes}`,
    );
    let stopping: Promise<void> | null = null;
    return {
      orderer,
      nc,
      opsUrl: ops?.url ?? null,
      stop: () =>
        (stopping ??= (async () => {
          sub.unsubscribe();
          deliver.stop();
          await orderer.stop();
          await nc.drain().catch(() => nc.close());
          await ops?.close();
        })()),
    };
  } catch (e) {
    await ops?.close();
    await nc.close();
    throw e;
  }
}

/** Whether the connection is up now (false between a disconnect and the reconnect, and once closed). */
function trackConnection(nc: NatsConnection): () => boolean {
  let up = true;
  void (async () => {
    try {
      for await (const s of nc.status()) {
        if (s.type === Events.Disconnect) up = false;
        else if (s.type === Events.Reconnect) up = true;
      }
    } catch {
      // The iterator ends with the connection.
    }
  })();
  return () => up && !nc.isClosed();
}
