// `murmur orderer start`: the ordering service as a process on NATS. Reads its identity and each channel's
// genesis block, checks that it is the orderer those genesis blocks name, fits the batch size under the
// server's max_payload, opens (or creates) every channel's JetStream stream, and serves transactions.
import { connect, type NatsConnection } from 'nats';
import { readFileSync } from 'node:fs';
import { credsAuthenticator } from 'nats';
import type { OrdererConfig } from '../../config/orderer.ts';
import { realClock } from '../clock.ts';
import { nodeEd25519 } from '../crypto/ed25519.ts';
import { readSigner } from '../crypto/material.ts';
import { readGenesis } from '../ledger/channel-config.ts';
import { bytesEqual } from '../util/bytes.ts';
import { clampBatchSize } from './cutter.ts';
import { JetStreamBlockLog } from './jetstream.log.ts';
import { serveTransactions } from './nats-intake.ts';
import { Orderer } from './orderer.ts';

export interface RunningOrderer {
  orderer: Orderer;
  nc: NatsConnection;
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
    ...(n.User ? { user: n.User } : {}),
    ...(n.Pass ? { pass: n.Pass } : {}),
    ...(n.Token ? { token: n.Token } : {}),
    ...(n.CredsFile ? { authenticator: credsAuthenticator(new Uint8Array(readFileSync(n.CredsFile))) } : {}),
  });
  try {
    const maxPayload = nc.info?.max_payload ?? 1024 * 1024;
    const { size, warnings } = clampBatchSize(
      { maxMessageCount: cfg.BatchSize.MaxMessageCount, absoluteMaxBytes: cfg.BatchSize.AbsoluteMaxBytes, preferredMaxBytes: cfg.BatchSize.PreferredMaxBytes },
      maxPayload,
    );
    for (const w of warnings) say(`warning: ${w}`);
    const orderer = await Orderer.start({
      channels,
      log: new JetStreamBlockLog(nc, { prefix: n.Prefix, replicas: n.StreamReplicas }),
      sign: (m) => signer.sign(m),
      clock: realClock,
      batchSize: size,
      batchTimeoutMs: cfg.BatchTimeout,
      maxPendingBatches: cfg.General.MaxPendingBatches,
      say,
    });
    const sub = serveTransactions(nc, orderer, n.Prefix);
    say(
      `orderer running on ${n.Servers.join(',')}; channels: ${orderer.channels().join(', ')}; BatchTimeout ${cfg.BatchTimeout}ms, ` +
        `MaxMessageCount ${size.maxMessageCount}, AbsoluteMaxBytes ${size.absoluteMaxBytes}, PreferredMaxBytes ${size.preferredMaxBytes}`,
    );
    let stopping: Promise<void> | null = null;
    return {
      orderer,
      nc,
      stop: () =>
        (stopping ??= (async () => {
          sub.unsubscribe();
          await orderer.stop();
          await nc.drain().catch(() => nc.close());
        })()),
    };
  } catch (e) {
    await nc.close();
    throw e;
  }
}
