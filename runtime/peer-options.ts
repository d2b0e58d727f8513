// The one mapping from a loaded peer configuration (core.yaml `peer.*` with its environment overrides) to the
// options of the peer's actor tree. `murmur peer start`, the simulator's harness and the benchmarks all build
// their peers through it, so a key means the same everywhere and a new key is wired once. What is not
// configuration (the channels' genesis blocks, the incarnation, where a test places the peer) comes as `at`.
import type { GossipConfig, PeerConfig } from '../config/schema.ts';
import type { PeerOptions, PeerTimings } from '../actors/peer.actor.ts';

/** Where and as what this peer runs; each field present overrides what the configuration says. */
export type PeerPlacement = Pick<PeerOptions, 'channels'> &
  Partial<Pick<PeerOptions, 'peerId' | 'mspId' | 'prefix' | 'bootstrap' | 'externalEndpoint' | 'internalEndpoint' | 'incNum' | 'pid' | 'opsUrl' | 'inspect'>>;

export function peerOptionsFrom(cfg: PeerConfig, at: PeerPlacement): PeerOptions {
  const g = cfg.peer.gossip;
  const peerId = at.peerId ?? cfg.peer.id;
  const d = cfg.peer.deliveryclient;
  return {
    peerId,
    mspId: at.mspId ?? cfg.peer.localMspId,
    prefix: at.prefix ?? cfg.peer.nats.prefix,
    channels: at.channels,
    bootstrap: at.bootstrap ?? g.bootstrap,
    externalEndpoint: at.externalEndpoint ?? g.externalEndpoint,
    internalEndpoint: at.internalEndpoint ?? (g.endpoint || peerId),
    ...(at.incNum !== undefined ? { incNum: at.incNum } : {}),
    timings: gossipTimings(g),
    useLeaderElection: g.useLeaderElection,
    orgLeader: g.orgLeader,
    profile: g.murmur.profile,
    maxLeaderLag: g.murmur.election.maxLeaderLag,
    stateEnabled: g.state.enabled,
    dissemination: g.murmur.dissemination,
    pull: g.murmur.pull,
    membership: g.murmur.membership,
    tree: g.murmur.tree,
    limits: g.murmur.limits,
    stateWindow: g.murmur.state,
    deliveryclient: {
      connTimeoutMs: d.connTimeout,
      reConnectBackoffThresholdMs: d.reConnectBackoffThreshold,
      reconnectTotalTimeThresholdMs: d.reconnectTotalTimeThreshold,
      minimalReconnectIntervalMs: d.minimalReconnectInterval,
    },
    dialTimeoutMs: g.dialTimeout,
    reconnectIntervalMs: g.reconnectInterval,
    maxConnectionAttempts: g.maxConnectionAttempts,
    pid: at.pid ?? null,
    opsUrl: at.opsUrl ?? null,
    ...(at.inspect ? { inspect: at.inspect } : {}),
  };
}

/** The timers the peer's actors use, from the loaded `peer.gossip` section (ms). */
export function gossipTimings(g: GossipConfig): PeerTimings {
  return {
    aliveTimeInterval: g.aliveTimeInterval,
    aliveExpirationTimeout: g.aliveExpirationTimeout,
    reconnectInterval: g.reconnectInterval,
    pullInterval: g.pullInterval,
    pullPeerNum: g.pullPeerNum,
    msgExpirationFactor: g.msgExpirationFactor,
    maxConnectionAttempts: g.maxConnectionAttempts,
    publishStateInfoInterval: g.publishStateInfoInterval,
    requestStateInfoInterval: g.requestStateInfoInterval,
    startupGracePeriod: g.election.startupGracePeriod,
    membershipSampleInterval: g.election.membershipSampleInterval,
    leaderAliveThreshold: g.election.leaderAliveThreshold,
    leaderElectionDuration: g.election.leaderElectionDuration,
    maxBlockCountToStore: g.maxBlockCountToStore,
    maxPropagationBurstLatency: g.maxPropagationBurstLatency,
    maxPropagationBurstSize: g.maxPropagationBurstSize,
    propagateIterations: g.propagateIterations,
    propagatePeerNum: g.propagatePeerNum,
    digestWaitTime: g.digestWaitTime,
    requestWaitTime: g.requestWaitTime,
    responseWaitTime: g.responseWaitTime,
    stateCheckInterval: g.state.checkInterval,
    stateResponseTimeout: g.state.responseTimeout,
    stateBatchSize: g.state.batchSize,
    stateBlockBufferSize: g.state.blockBufferSize,
    stateMaxRetries: g.state.maxRetries,
  };
}
