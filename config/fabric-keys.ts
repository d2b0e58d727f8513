// Keys Fabric has (or had) under `peer.gossip` that murmur reads but does not use.
// A real Fabric core.yaml must still load, so these are reported in the "unused" warning instead of being
// refused as unknown. Collected from Fabric's sampleconfig/core.yaml across releases and its gossip config code.

/** Whole subtrees: anything below them is a Fabric key. */
export const FABRIC_GOSSIP_SUBTREES: readonly string[] = [
  // Private data dissemination and reconciliation: out of murmur's scope.
  'peer.gossip.pvtData',
];

/** Single keys. */
export const FABRIC_GOSSIP_KEYS: readonly string[] = [
  // Dead in Fabric itself: still in the yaml templates, read by no code (FAB-4078).
  'peer.gossip.stateInfoRetentionInterval',
  // Loaded by Fabric but unused ("currently not in use"); murmur always verifies blocks.
  'peer.gossip.skipBlockVerification',
  // Fabric 1.x test switch, since removed.
  'peer.gossip.skipHandshake',
];

const lower = (s: string) => s.toLowerCase();
const SUBTREES = FABRIC_GOSSIP_SUBTREES.map(lower);
const KEYS = new Set(FABRIC_GOSSIP_KEYS.map(lower));

/** Is this dotted path (any case, like viper) a Fabric gossip key murmur ignores? */
export function isFabricGossipKey(path: string): boolean {
  const p = lower(path);
  return KEYS.has(p) || SUBTREES.some((t) => p === t || p.startsWith(`${t}.`));
}

/** Same question for an environment variable name (CORE_PEER_GOSSIP_PVTDATA_...). */
export function isFabricGossipEnv(name: string): boolean {
  const env = (p: string) => `CORE_${p.toUpperCase().replace(/\./g, '_')}`;
  return FABRIC_GOSSIP_KEYS.some((k) => env(k) === name) || FABRIC_GOSSIP_SUBTREES.some((t) => name === env(t) || name.startsWith(`${env(t)}_`));
}
