// Public entry `murmur/config`: the peer's and the orderer's config loaders (defaults < preset < file <
// overrides < environment; Fabric's names), the timing presets, and crypto material for a test network.
export { loadPeerConfig, defaultConfigPath, ConfigError, envNameFor, type PeerConfig, type LoadOptions, type LoadedConfig } from '../../config/load.ts';
export { loadOrdererConfig, type OrdererConfig, type LoadedOrdererConfig } from '../../config/orderer-schema.ts';
export { PRESETS, type PresetName } from '../../config/presets.ts';
export { generateMaterial, writeMaterial, parseOrgs, channelNames, type NetworkMaterial, type Manifest } from '../crypto/material.ts';
// Revoking certificates: an org's CA signs a list a running peer takes with `Peer.applyRevocationList`.
export { issueRevocationList, parseRevocationList, type RevocationList } from '../crypto/revocation.ts';
