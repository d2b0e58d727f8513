// Public entry `murmur`: the peer, its config, transport and ledger ports. The simulator is `murmur/sim` (not
// re-exported here, so a program that runs a peer does not load it).
export * from './peer.ts';
export * from './config.ts';
export * from './transport.ts';
export * from './ledger.ts';
