// murmur's configuration schema: Fabric's `peer.gossip.*` names, units and timing defaults, plus the NATS,
// identity and murmur-only keys. Durations are milliseconds once loaded (yaml/env accept 10s, 500ms, 1m30s).
// Defaults differ from Fabric's sample core.yaml only where murmur still gossips blocks: leader election on,
// no static org leader, state transfer on, block gossip on.
// Every key's environment variable is CORE_ + its path upper-cased with dots turned into underscores.
import type { ChannelEntry, FormatName } from './formats.ts';

export interface SchemaLeaf<T = unknown> {
  format: FormatName | readonly string[];
  default: T;
  doc: string;
  env: string;
  sensitive?: boolean;
}


/** The loaded configuration (durations in ms). Keep in sync with `peerSchema` (a unit test compares them). */
export interface PeerConfig {
  peer: {
    id: string;
    localMspId: string;
    fileSystemPath: string;
    mspConfigPath: string;
    channels: ChannelEntry[];
    maxRecvMsgSize: number;
    nats: {
      servers: string[];
      user: string;
      pass: string;
      token: string;
      credsFile: string;
      prefix: string;
    };
    deliveryclient: {
      reconnectTotalTimeThreshold: number;
      reConnectBackoffThreshold: number;
      connTimeout: number;
      minimalReconnectInterval: number;
      blockGossipEnabled: boolean;
    };
    gossip: GossipConfig;
  };
  operations: {
    listenAddress: string;
  };
}

export interface GossipConfig {
  bootstrap: string[];
  useLeaderElection: boolean;
  orgLeader: boolean;
  membershipTrackerInterval: number;
  /** Resolved by the loader: never empty (falls back to peer.id). */
  endpoint: string;
  maxBlockCountToStore: number;
  maxPropagationBurstLatency: number;
  maxPropagationBurstSize: number;
  propagateIterations: number;
  propagatePeerNum: number;
  pullInterval: number;
  pullPeerNum: number;
  requestStateInfoInterval: number;
  publishStateInfoInterval: number;
  publishCertPeriod: number;
  dialTimeout: number;
  connTimeout: number;
  recvBuffSize: number;
  sendBuffSize: number;
  digestWaitTime: number;
  requestWaitTime: number;
  responseWaitTime: number;
  aliveTimeInterval: number;
  aliveExpirationTimeout: number;
  reconnectInterval: number;
  maxConnectionAttempts: number;
  msgExpirationFactor: number;
  externalEndpoint: string;
  nonBlockingCommitMode: boolean;
  election: {
    startupGracePeriod: number;
    membershipSampleInterval: number;
    leaderAliveThreshold: number;
    leaderElectionDuration: number;
  };
  state: {
    enabled: boolean;
    checkInterval: number;
    responseTimeout: number;
    batchSize: number;
    blockBufferSize: number;
    maxRetries: number;
    channelSize: number;
  };
  murmur: {
    profile: 'murmur' | 'fabric';
    election: {
      maxLeaderLag: number;
    };
    dissemination: 'tree' | 'push';
    pull: 'when-behind' | 'always';
    membership: 'swim' | 'broadcast';
    tree: {
      fanout: number;
      maxLinks: number;
      graftTimeout: number;
      skipAfter: number;
      skipFor: number;
    };
    signer: 'node' | 'noble';
    verifyCacheSize: number;
    state: {
      inFlight: number;
      batchSize: number;
      minResponseTimeout: number;
      retryBackoff: number;
    };
    limits: {
      stateRequestsPerSecond: number;
      graftsPerSecond: number;
    };
  };
}

/** Fabric's env rule: CORE_ + path upper-cased, dots to underscores. */
export function envNameFor(path: string): string {
  return `CORE_${path.toUpperCase().replace(/\./g, '_')}`;
}

// `env` is filled in from the path below, so no variable name can be mistyped.
type LeafSpec<T> = Omit<SchemaLeaf<T>, 'env'>;
const key = <T>(format: SchemaLeaf['format'], def: T, doc: string, extra: { sensitive?: boolean } = {}): LeafSpec<T> => ({
  format,
  default: def,
  doc,
  ...extra,
});

const gossip = {
  bootstrap: key<string[]>('endpoint-list', [], 'same-org peer endpoints (peer ids on NATS) contacted at start; list; default none'),
  useLeaderElection: key('strict-boolean', true, 'elect one deliver-client leader per channel and org; boolean; default true (Fabric sample: false)'),
  orgLeader: key('strict-boolean', false, 'static leader: always pull blocks from the orderer; boolean; default false (Fabric sample: true)'),
  membershipTrackerInterval: key('period', 5000, 'period of the membership-change log and metric; duration; default 5s'),
  endpoint: key('optional-endpoint', '', "internal endpoint (inbox subject token) advertised to the own org; token; default '' = peer.id"),
  maxBlockCountToStore: key('positive-entry-count', 10, 'blocks kept in the in-memory gossip window per channel; blocks; default 10'),
  maxPropagationBurstLatency: key('duration', 10, 'push batch flush period; duration; default 10ms'),
  maxPropagationBurstSize: key('positive-entry-count', 10, 'push batch size that forces a flush; messages; default 10'),
  propagateIterations: key('entry-count', 1, 'flushes each pushed message takes part in (0 disables push); count; default 1'),
  propagatePeerNum: key('peer-count', 3, 'push fan-out; peers; default 3'),
  pullInterval: key('period', 4000, 'period of block, identity and membership pull; duration; default 4s; must exceed digestWaitTime + responseWaitTime'),
  pullPeerNum: key('peer-count', 3, 'peers asked per pull round; peers; default 3'),
  requestStateInfoInterval: key('period', 4000, 'period of StateInfo pull requests; duration; default 4s'),
  publishStateInfoInterval: key('period', 4000, 'period of republishing own StateInfo; duration; default 4s'),
  publishCertPeriod: key('duration', 10000, 'time after start during which alive messages carry the certificate; duration; default 10s'),
  dialTimeout: key('period', 3000, 'timeout of a handshake with a new peer; duration; default 3s'),
  connTimeout: key('period', 2000, 'timeout of a ping or of the peer handshake reply; duration; default 2s'),
  recvBuffSize: key('positive-entry-count', 20, 'inbound queue bound per peer; messages; default 20'),
  sendBuffSize: key('positive-entry-count', 200, 'outbound queue bound per peer, overflow dropped; messages; default 200'),
  digestWaitTime: key('period', 1000, 'pull: time to collect digests after hello; duration; default 1s'),
  requestWaitTime: key('period', 1500, 'pull: time a responder remembers a hello nonce; duration; default 1500ms'),
  responseWaitTime: key('period', 2000, 'pull: time to accept updates after a request; duration; default 2s'),
  aliveTimeInterval: key('period', 5000, 'heartbeat (alive message) period; duration; default 5s'),
  aliveExpirationTimeout: key('period', 25000, 'silence after which a peer is considered dead; duration; default 25s'),
  reconnectInterval: key('period', 25000, 'period of probing dead and bootstrap peers; duration; default 25s'),
  maxConnectionAttempts: key('entry-count', 120, 'handshake attempts per bootstrap or anchor peer; attempts; default 120'),
  msgExpirationFactor: key('positive-entry-count', 20, 'alive message TTL as a multiple of aliveExpirationTimeout; factor; default 20'),
  externalEndpoint: key('optional-endpoint', '', "endpoint published to other orgs; token; default '' = invisible to other orgs"),
  nonBlockingCommitMode: key('strict-boolean', false, 'enqueue orderer blocks in droppable mode; boolean; default false'),
  election: {
    startupGracePeriod: key('duration', 15000, 'longest wait for stable membership before the first election; duration; default 15s'),
    membershipSampleInterval: key('period', 1000, 'membership sampling period during that wait; duration; default 1s'),
    leaderAliveThreshold: key('period', 10000, 'follower window without a leader declaration before re-election; duration; default 10s'),
    leaderElectionDuration: key('period', 5000, 'time between proposing and declaring leadership; duration; default 5s'),
  },
  state: {
    enabled: key('strict-boolean', true, 'run the anti-entropy (state transfer) loop; boolean; default true (Fabric sample: false)'),
    checkInterval: key('period', 10000, 'anti-entropy period; duration; default 10s'),
    responseTimeout: key('period', 3000, 'wait per state request attempt; duration; default 3s'),
    batchSize: key('positive-entry-count', 10, 'blocks per state request; blocks; default 10'),
    blockBufferSize: key('positive-entry-count', 20, 'reorder buffer bound ahead of the ledger height; blocks; default 20'),
    maxRetries: key('entry-count', 3, 'retries per state batch; attempts; default 3'),
    channelSize: key('positive-entry-count', 100, 'state request/response queue bound; messages; default 100'),
  },
  murmur: {
    profile: key(['murmur', 'fabric'], 'murmur', "murmur's improvements, or Fabric's stock gossip behaviour; murmur|fabric; default murmur"),
    election: {
      maxLeaderLag: key('entry-count', 10, 'a leader this many blocks behind the best peer yields (murmur profile only); blocks; default 10'),
    },
    dissemination: key(['tree', 'push'], 'tree', 'block dissemination; tree|push; default tree (the fabric profile implies push)'),
    pull: key(['when-behind', 'always'], 'when-behind', "block pull rounds: only while a channel peer of the org advertises a greater height, or every pullInterval as Fabric; when-behind|always; default when-behind (the fabric profile implies always)"),
    membership: key(['swim', 'broadcast'], 'swim', "failure detection inside an org: SWIM probes (one ping a period per peer, suspicions announced, alive messages published when they change) or every peer publishing its alive message every aliveTimeInterval; swim|broadcast; default swim (the fabric profile gossips alive messages as Fabric does)"),
    tree: {
      fanout: key('positive-peer-count', 3, 'tree dissemination: links each peer opens to random org peers; peers; default 3'),
      maxLinks: key('positive-peer-count', 12, 'tree dissemination: links at most, opened and accepted; peers; default 12'),
      graftTimeout: key('period', 50, 'tree dissemination: wait for a block after its first announcement before grafting the announcer; duration; default 50ms'),
      skipAfter: key('positive-entry-count', 3, 'tree dissemination: grafts an announcer may leave unanswered in a row before it is skipped; count; default 3'),
      skipFor: key('period', 30000, 'tree dissemination: how long a skipped announcer is ignored; duration; default 30s'),
    },
    signer: key(['node', 'noble'], 'node', 'ed25519 implementation that verifies (node:crypto or @noble/curves); node|noble; default node'),
    verifyCacheSize: key('entry-count', 4096, 'signature verification cache bound; entries; default 4096'),
    state: {
      inFlight: key('positive-request-count', 4, 'state transfer (murmur profile): range requests outstanding at once, spread over the peers that hold them; requests (1-64); default 4 (the fabric profile: 1)'),
      batchSize: key('positive-entry-count', 50, 'state transfer (murmur profile): blocks per request (at least state.batchSize), and the widest request this peer serves; blocks; default 50 (the fabric profile: state.batchSize)'),
      minResponseTimeout: key('period', 200, 'state transfer (murmur profile): shortest wait per attempt, the wait adapting to measured round trips up to state.responseTimeout; duration; default 200ms (the fabric profile: always state.responseTimeout)'),
      retryBackoff: key('period', 1000, 'state transfer (murmur profile): longest wait before a new round after one was given up while peers are ahead (doubling from minResponseTimeout); duration; default 1s (the fabric profile waits for state.checkInterval)'),
    },
    limits: {
      stateRequestsPerSecond: key('positive-entry-count', 200, 'state requests served to one requester per second (bursts of twice that), more refused and counted; requests/s; default 200'),
      graftsPerSecond: key('positive-entry-count', 100, 'tree grafts and link requests served to one requester per second (bursts of twice that), more refused and counted; requests/s; default 100'),
    },
  },
};

const definition = {
  peer: {
    id: key('endpoint', 'peer0.org1', 'this peer\'s id (certificate subject, default endpoint); token; default peer0.org1'),
    localMspId: key('non-empty-text', 'Org1MSP', "the peer's org (MSP id); string; default Org1MSP"),
    fileSystemPath: key('non-empty-text', './.murmur/peer', 'ledger directory; path (relative to the config file); default ./.murmur/peer'),
    mspConfigPath: key('non-empty-text', 'msp', "directory with the peer's cert and key files; path (relative to the config file); default msp"),
    channels: key<ChannelEntry[]>('channel-list', [], 'channels joined: list of {name, genesisBlock}, env name=path,name=path; default none'),
    maxRecvMsgSize: key('positive-count', 104857600, "largest message accepted; bytes; default 104857600 (clamped to the NATS server's max_payload)"),
    nats: {
      servers: key<string[]>('string-list', ['nats://127.0.0.1:4222'], 'NATS server URLs; list; default nats://127.0.0.1:4222'),
      user: key('text', '', "NATS user (replies then come under _INBOX.<user>, as murmur's generated authorization requires); string; default ''"),
      pass: key('text', '', "NATS password; string; default ''", { sensitive: true }),
      token: key('text', '', "NATS token; string; default ''", { sensitive: true }),
      credsFile: key('text', '', "NATS credentials file; path; default ''"),
      prefix: key('endpoint', 'murmur', 'subject prefix of every murmur subject; token; default murmur'),
    },
    deliveryclient: {
      reconnectTotalTimeThreshold: key('period', 3_600_000, 'give up reconnecting to the orderer after; duration; default 3600s'),
      reConnectBackoffThreshold: key('period', 3_600_000, 'longest back-off between orderer reconnects; duration; default 3600s'),
      connTimeout: key('period', 3000, 'orderer connection timeout; duration; default 3s'),
      minimalReconnectInterval: key('period', 100, 'shortest back-off between orderer reconnects; duration; default 100ms'),
      blockGossipEnabled: key('strict-boolean', true, 'leaders gossip blocks from the orderer to the org; boolean; default true (Fabric sample: false)'),
    },
    gossip,
  },
  operations: {
    listenAddress: key('listen-address', '127.0.0.1:9443', "operations (health/metrics) listener; host:port, '' disables; default 127.0.0.1:9443"),
  },
};

type WithEnv<T> = T extends LeafSpec<infer V> ? SchemaLeaf<V> : { [K in keyof T]: WithEnv<T[K]> };

function addEnv(node: Record<string, unknown>, prefix: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    const path = prefix ? `${prefix}.${k}` : k;
    out[k] = isLeaf(v) ? { ...v, env: envNameFor(path) } : addEnv(v as Record<string, unknown>, path);
  }
  return out;
}

export function isLeaf(node: unknown): node is SchemaLeaf {
  return typeof node === 'object' && node !== null && 'default' in node && 'format' in node;
}

/** The convict schema (pass to `convict()` after `registerFormats()`). */
export const peerSchema = addEnv(definition, '') as WithEnv<typeof definition>;

/** Every leaf of the schema by dotted path, in schema order. */
export const schemaLeaves: ReadonlyMap<string, SchemaLeaf> = (() => {
  const out = new Map<string, SchemaLeaf>();
  const walk = (node: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(node)) {
      const path = prefix ? `${prefix}.${k}` : k;
      if (isLeaf(v)) out.set(path, v);
      else walk(v as Record<string, unknown>, path);
    }
  };
  walk(peerSchema as unknown as Record<string, unknown>, '');
  return out;
})();
