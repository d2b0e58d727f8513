// A channel's chain for tests: the orderer's genesis block and N signed blocks on top of it.
import { blockHash, makeBlock, type Block } from '../../runtime/ledger/block.ts';
import { openGenesis, type Genesis } from '../../runtime/ledger/channel-config.ts';
import type { NetworkMaterial } from '../../runtime/crypto/material.ts';
import { ed, material } from './material.ts';

export function genesisOf(m: NetworkMaterial = material(), channel = 'channel1'): Genesis {
  const c = m.channels.find((x) => x.name === channel);
  if (!c) throw new Error(`no channel ${channel}`);
  return openGenesis(c.genesis, ed, channel);
}

/** Blocks 1..n over `genesis`, each with `txs` transactions of `txBytes` bytes, signed by the orderer. */
export function buildChain(n: number, opts: { m?: NetworkMaterial; channel?: string; txs?: number; txBytes?: number; from?: Block } = {}): { genesis: Genesis; blocks: Block[] } {
  const m = opts.m ?? material();
  const genesis = genesisOf(m, opts.channel);
  const sign = (msg: Uint8Array) => ed.sign(m.orderer.secret, msg);
  const blocks: Block[] = [];
  let prev = opts.from ?? genesis.block;
  for (let i = 1; i <= n; i++) {
    const data = Array.from({ length: opts.txs ?? 2 }, (_, j) => {
      const tx = new Uint8Array(opts.txBytes ?? 16);
      tx.fill((prev.number + 1 + j) % 251);
      new DataView(tx.buffer).setUint32(0, prev.number + 1);
      return tx;
    });
    const b = makeBlock(prev.number + 1, blockHash(prev), data, sign);
    blocks.push(b);
    prev = b;
  }
  return { genesis, blocks };
}
