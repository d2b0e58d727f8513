// Catch-up: one org of 3 peers on NATS; the chain already holds `blocks` blocks of one `txBytes` transaction
// (in the orderer's JetStream stream and in the ledgers of peer0, the static leader, and peer1, standby).
// peer2 (standby, so it gets blocks only from its peers: state transfer, and pull for the newest) starts at
// height 1 (genesis only). catchup_blocks_per_s = blocks it committed after its first commit / the time from
// its first commit to its last, so the wait for its first anti-entropy round (state.checkInterval, after
// membership and StateInfo) is left out; that wait is reported apart (first_block_ms, from its start).
import { blockHash, makeBlock, type Block } from '../../runtime/ledger/block.ts';
import { BenchNetwork, CHANNEL, until } from './nats-network.ts';
import type { NetworkMaterial } from '../../runtime/crypto/material.ts';
import { round, tx } from './stats.ts';

export interface CatchupResult {
  blocks: number;
  catchup_blocks_per_s: number | null;
  first_block_ms: number | null;
  total_ms: number | null;
  /** How the joiner's blocks came (its status counters). */
  by_source: Record<string, number | null>;
}

export interface CatchupShared {
  prefix?: string;
  material?: NetworkMaterial;
  blocks?: Block[];
}
let catchupSeq = 0;

export async function measureCatchup(o: {
  url: string;
  profile: 'murmur' | 'fabric';
  blocks: number;
  txBytes: number;
  settings?: Record<string, string | number | boolean>;
  timeoutMs?: number;
  /** Runs given the same object share the identities, the chain and the orderer stream (built once). */
  shared?: CatchupShared;
}): Promise<CatchupResult> {
  const JOINER = 'peer2.org1';
  let net: BenchNetwork | null = null;
  const shared = o.shared ?? {};
  const chain = (sign: (m: Uint8Array) => Uint8Array, genesis: Block): Block[] => {
    if (shared.material && shared.blocks?.length === o.blocks) return shared.blocks;
    const out: Block[] = [];
    let prev = genesis;
    for (let i = 1; i <= o.blocks; i++) {
      // v2 blocks, as the orderer writes them (the stream's open reads v1 blocks only in a stream without v2).
      const b = makeBlock(i, blockHash(prev), [tx(i, o.txBytes)], sign, genesis.timestamp ?? 0, CHANNEL);
      out.push(b);
      prev = b;
    }
    shared.blocks = out;
    return out;
  };
  try {
    net = await BenchNetwork.start({
      bus: { kind: 'nats', url: o.url },
      prefix: (shared.prefix ??= `bench${process.pid}catchup${++catchupSeq}`),
      material: shared.material,
      orgs: 1,
      peersPerOrg: 3,
      profile: o.profile,
      leaders: 'static',
      settings: o.settings,
      deferred: (id) => id === JOINER,
      preload: { build: chain, peers: (id) => id !== JOINER },
    });
    const n = net;
    shared.material = n.material;
    const want = o.blocks + 1;
    await until(() => n.membershipComplete(), 30_000, 'membership of the serving peers');
    const joiner = n.get(JOINER);
    let first: number | null = null;
    let firstHeight = 0;
    let lastAt = 0;
    joiner.onCommit = (num, at) => {
      if (first === null) first = at;
      lastAt = at;
      if (first === at) firstHeight = Math.max(firstHeight, num + 1);
    };
    const t0 = performance.now();
    await n.startPeer(JOINER);
    await until(() => n.height(joiner) >= want, o.timeoutMs ?? 600_000, `${JOINER} to catch up ${o.blocks} blocks`, 20);
    const row = joiner.peer!.status()[0]!;
    const span = (lastAt - first!) / 1000;
    return {
      blocks: o.blocks,
      catchup_blocks_per_s: span > 0 ? Math.round((want - firstHeight) / span) : null,
      first_block_ms: round(first! - t0, 0),
      total_ms: round(lastAt - t0, 0),
      by_source: {
        push: row.counters.blocksByPush,
        pull: row.counters.blocksByPull,
        state: row.counters.blocksByStateTransfer,
        orderer: row.counters.blocksFromOrderer,
      },
    };
  } finally {
    await net?.stop();
  }
}
