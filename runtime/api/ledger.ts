// Public entry `murmur/ledger`: the ledger port and its commit rule, the lmdb and in-memory stores, blocks and
// channel genesis blocks.
export { ChainLedger, LedgerError, type Ledger, type LedgerStore, type BlockStorage, type CommitResult, type LedgerCommit, type LedgerRejectReason } from '../ledger/ledger.ts';
export { BlockVerifier, type VerifiedBlock, type BlockVerdict } from '../ledger/verified-block.ts';
export { LmdbLedgerStore, LEDGER_FILE } from '../ledger/lmdb.ledger.ts';
export { MemoryLedgerStore } from '../ledger/memory.ledger.ts';
export { makeBlock, encodeBlock, decodeBlock, verifyBlock, blockHash, type Block, type BlockCheck } from '../ledger/block.ts';
export { readGenesis, openGenesis, type Genesis, type ChannelConfig } from '../ledger/channel-config.ts';
