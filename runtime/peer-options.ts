// The one mapping from a loaded peer configuration (core.yaml `peer.*` with its environment overrides) to the
// options of the peer's actor tree. `murmur peer start`, the simulator's harness and the benchmarks all build
// their peers through it, so a key means the same everywhere and a new key is wired once. What is not
// configuration (the channels' genesis blocks, the incarnation, where a test places the peer) comes as `at`.
import type { PeerConfig } from '../config/schema.ts';
import { gossipTimings, type PeerOptions } from '../actors/peer.actor.ts';

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
    tree: g.murmur.tree,
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
