// Timing presets, keyed by full dotted path, applied between the schema defaults and core.yaml.
// `fabric` is Fabric's own timings, which are the schema defaults, so it overrides nothing.
// `local` shortens every timer for a network on one machine (what `murmur up` uses unless told otherwise);
// it keeps Fabric's ratios where they matter: pullInterval > digestWaitTime + responseWaitTime,
// aliveExpirationTimeout = 5 x aliveTimeInterval, leaderAliveThreshold = 2 x leaderElectionDuration.

export type PresetName = 'local' | 'fabric';
export type Preset = Readonly<Record<string, string | number | boolean>>;

export const PRESETS: Readonly<Record<PresetName, Preset>> = Object.freeze({
  fabric: Object.freeze({}),
  local: Object.freeze({
    'peer.gossip.aliveTimeInterval': '1s',
    'peer.gossip.aliveExpirationTimeout': '5s',
    'peer.gossip.reconnectInterval': '5s',
    'peer.gossip.membershipTrackerInterval': '1s',
    'peer.gossip.publishCertPeriod': '3s',
    'peer.gossip.election.startupGracePeriod': '3s',
    'peer.gossip.election.membershipSampleInterval': '200ms',
    'peer.gossip.election.leaderAliveThreshold': '2s',
    'peer.gossip.election.leaderElectionDuration': '1s',
    'peer.gossip.pullInterval': '1s',
    'peer.gossip.digestWaitTime': '200ms',
    'peer.gossip.requestWaitTime': '300ms',
    'peer.gossip.responseWaitTime': '400ms',
    'peer.gossip.requestStateInfoInterval': '1s',
    'peer.gossip.publishStateInfoInterval': '1s',
    'peer.gossip.state.checkInterval': '1s',
    'peer.gossip.state.responseTimeout': '1s',
  }),
});
