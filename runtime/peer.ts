// `murmur peer start`: one peer process on NATS, assembled from a loaded core.yaml.
// Relative paths in the config (msp, ledger, genesis blocks) resolve against the config file's folder,
// as Fabric resolves them against FABRIC_CFG_PATH.
import { dirname, isAbsolute, resolve } from 'node:path';
import type { InspectionEvent } from 'xstate';
import type { PeerConfig } from '../config/schema.ts';
import { createPeer, type Peer } from '../actors/peer.actor.ts';
import { peerOptionsFrom } from './peer-options.ts';
import { nextIncarnation } from './incarnation.ts';
import { NatsTransport } from './transport/nats.transport.ts';
import { realClock } from './clock.ts';
import { slackClock } from './slack-clock.ts';
import { cryptoRng } from './rng.ts';
import { ed25519Impl } from './crypto/ed25519.ts';
import { readSigner } from './crypto/material.ts';
import { TrustStore } from './crypto/msp.ts';
import { WireCodec } from './wire/codec.ts';
import { readGenesis } from './ledger/channel-config.ts';
import { LmdbLedgerStore } from './ledger/lmdb.ledger.ts';
import { DeliverFeed } from './orderer/deliver.feed.ts';
import { inboxTokenFor } from './transport/subjects.ts';
import { PeerMetrics, countingTransport } from './ops/metrics.ts';
import type { Logs } from './log.ts';
import type { Lru } from './util/lru.ts';
import { startOpsServer, type OpsServer } from './ops/server.ts';

export interface RunningPeer {
  peer: Peer;
  /** Base URL of /metrics and /healthz, or null when operations.listenAddress is ''. */
  opsUrl: string | null;
  stop(): Promise<void>;
}

export async function startPeerProcess(
  cfg: PeerConfig,
  configFile: string | null,
  log: (line: string) => void,
  extra: { inspect?: (e: InspectionEvent) => void; logs?: Logs; verifiedCache?: Lru<string, true> } = {},
): Promise<RunningPeer> {
  const base = configFile ? dirname(resolve(configFile)) : process.cwd();
  const path = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  const g = cfg.peer.gossip;
  const ed = ed25519Impl(g.murmur.signer, g.murmur.verifyCacheSize);

  const signer = readSigner(path(cfg.peer.mspConfigPath), ed);
  if (signer.identity.mspId !== cfg.peer.localMspId)
    throw new Error(`the identity in ${cfg.peer.mspConfigPath} belongs to ${signer.identity.mspId}, but peer.localMspId is ${cfg.peer.localMspId}`);
  if (signer.identity.subject !== cfg.peer.id)
    throw new Error(`the identity in ${cfg.peer.mspConfigPath} is ${signer.identity.subject}, but peer.id is ${cfg.peer.id}`);
  if (cfg.peer.channels.length === 0) log('warning: peer.channels is empty; this peer joins no channel');

  const trust = new TrustStore(ed);
  const channels = cfg.peer.channels.map((c) => {
    const genesis = readGenesis(path(c.genesisBlock), ed, c.name);
    for (const o of genesis.config.orgs) trust.addOrg(o.mspId, o.caCert);
    if (!genesis.config.orgs.some((o) => o.mspId === cfg.peer.localMspId)) throw new Error(`channel ${c.name} does not include this peer's org ${cfg.peer.localMspId}`);
    return { name: c.name, genesis };
  });

  const codec = new WireCodec({
    trust,
    ed,
    now: () => realClock.now(),
    maxBytes: cfg.peer.maxRecvMsgSize,
    verifyCacheSize: g.murmur.verifyCacheSize,
    verifiedCache: extra.verifiedCache,
    ownOrg: { mspId: cfg.peer.localMspId, prefix: cfg.peer.nats.prefix },
  });
  const nats = new NatsTransport({
    servers: cfg.peer.nats.servers,
    endpoint: g.endpoint || cfg.peer.id,
    prefix: cfg.peer.nats.prefix,
    decoder: codec,
    name: `murmur ${cfg.peer.id}`,
    user: cfg.peer.nats.user || undefined,
    pass: cfg.peer.nats.pass || undefined,
    token: cfg.peer.nats.token || undefined,
    credsFile: cfg.peer.nats.credsFile ? path(cfg.peer.nats.credsFile) : undefined,
  });
  nats.status$.subscribe((e) => log(`nats ${e.type}${e.server ? ` ${e.server}` : ''}${e.detail ? `: ${e.detail}` : ''}`));

  // Operations service: metrics read the peer's status at scrape time; the peer is created just below.
  let peerRef: Peer | null = null;
  const metrics = new PeerMetrics(
    {
      status: () => peerRef?.status() ?? [],
      unhandled: () => peerRef?.inbound.unhandled ?? {},
      tree: () => [...(peerRef?.gossip ?? [])].flatMap(([channel, d]) => (d.tree ? [{ channel, ...d.tree.figures() }] : [])),
    },
    { peer: cfg.peer.id, org: cfg.peer.localMspId },
  );
  const transport = countingTransport(nats, (kind) => metrics.sent.inc({ kind }));
  nats.inbound$.subscribe((i) => metrics.received.inc({ kind: i.msg.payload.t }));
  let ops: OpsServer | null = null;
  if (cfg.operations.listenAddress) {
    try {
      ops = await startOpsServer({
        listenAddress: cfg.operations.listenAddress,
        metrics: () => metrics.text(),
        checks: [
          { name: 'nats', ok: () => nats.connected },
          { name: 'ledger', ok: () => (peerRef?.ledgers.size ?? 0) === channels.length },
          { name: 'machines', ok: () => peerRef?.actor.getSnapshot().matches('running') ?? false },
        ],
      });
    } catch (e) {
      throw new Error(`operations.listenAddress ${cfg.operations.listenAddress}: ${(e as Error).message} (set another host:port, port 0 for any free port, or '' to disable)`);
    }
    log(`operations: ${ops.url}/metrics ${ops.url}/healthz`);
  }

  const peer = createPeer(
    peerOptionsFrom(cfg, {
      channels,
      incNum: nextIncarnation(path(cfg.peer.fileSystemPath), realClock.now()),
      pid: process.pid,
      inspect: extra.inspect,
      opsUrl: ops?.url ?? null,
    }),
    {
      transport,
      codec,
      signer,
      clock: slackClock,
      rng: cryptoRng(),
      ledgers: new LmdbLedgerStore(path(cfg.peer.fileSystemPath), ed),
      feed: new DeliverFeed(() => nats.connection, { prefix: cfg.peer.nats.prefix, token: inboxTokenFor(cfg.peer.nats.user || cfg.peer.id) }),
    },
  );
  peerRef = peer;
  try {
    await peer.start();
  } catch (e) {
    await ops?.close();
    throw e;
  }
  if (extra.logs) watchPeer(peer, extra.logs);
  log(`peer ${cfg.peer.id} (${cfg.peer.localMspId}) running on ${cfg.peer.nats.servers.join(',')}; channels: ${channels.map((c) => c.name).join(', ') || 'none'}`);
  return {
    peer,
    opsUrl: ops?.url ?? null,
    stop: async () => {
      await peer.stop();
      await ops?.close();
    },
  };
}

/** Protocol events worth a log line, once the peer runs (its elections and ledgers exist): membership
 * changes (module discovery), leadership (election), commits (ledger, debug) and ledger refusals (warn). */
function watchPeer(peer: Peer, logs: Logs): void {
  const discovery = logs.module('discovery');
  peer.discovery.events$.subscribe((e) => discovery.info({ peer: e.member.id, org: e.member.mspId, ...(e.type === 'purged' ? { reason: e.reason } : {}) }, `member ${e.type}`));
  const election = logs.module('election');
  for (const [channel, b] of peer.elections)
    b.leading$.subscribe((leading) => election.info({ channel }, leading ? 'leading: consuming the ordering service' : 'not leading'));
  const ledger = logs.module('ledger');
  for (const [channel, l] of peer.ledgers) {
    l.commits$.subscribe((c) => ledger.debug({ channel, height: c.height, blocks: c.blocks.length }, 'committed'));
    l.rejections.onReject((reason) => ledger.warn({ channel, reason }, 'block refused'));
  }
  // Storage failures: one line when an episode starts, one when commits work again (never one per retry).
  for (const [channel, q] of peer.queues) {
    let failing = false;
    q.storage$.subscribe((h) => {
      if (!h.ok && !failing) ledger.error({ channel, error: h.lastError, failures: h.failures }, 'ledger storage failing: blocks kept in memory, commits retried with backoff');
      if (h.ok && failing) ledger.info({ channel, failures: h.failures }, 'ledger storage works again');
      failing = !h.ok;
    });
  }
}
