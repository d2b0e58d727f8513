// Block traffic and ledger checks for dissemination simulations on the harness.
import type { Harness, SimPeer } from '../../runtime/sim/harness.ts';
import { blockHash } from '../../runtime/ledger/block.ts';
import { toHex } from '../../runtime/util/bytes.ts';

export const CH = 'channel1';
const tx = (i: number) => new TextEncoder().encode(`tx-${i}`.padEnd(64, '.'));
let txSeq = 0;

/** Submits `n` transactions, one every `everyMs` of simulated time (one block each with maxMessageCount 1). */
export async function produce(h: Harness, n: number, everyMs: number, channel = CH): Promise<void> {
  for (let i = 0; i < n; i++) {
    const r = h.submit(channel, tx(txSeq++));
    if (!r.ok) throw new Error(`submit refused: ${r.error}`);
    await h.advance(everyMs);
  }
}

/** The orderer's chain as block hashes. */
export function ordererChain(h: Harness, channel = CH): string[] {
  const out: string[] = [];
  for (let n = 0; n < h.ordering.height(channel); n++) out.push(toHex(blockHash(h.ordering.block(channel, n)!)));
  return out;
}

export function peerChain(h: Harness, id: string, channel = CH): string[] {
  const l = h.ledger(id, channel);
  return l ? l.range(0, l.height()).map((b) => toHex(blockHash(b))) : [];
}

export function height(h: Harness, id: string, channel = CH): number {
  return h.ledger(id, channel)?.height() ?? 0;
}

/** Every running peer holds exactly the orderer's chain. */
export function allCaughtUp(h: Harness, channel = CH): boolean {
  const want = h.ordering.height(channel);
  return h.running().every((p) => height(h, p.id, channel) === want);
}

export function leaders(h: Harness, channel = CH): SimPeer[] {
  return h.running().filter((p) => p.peer!.elections.get(channel)?.role() === 'leader');
}

/** Sum of a numeric status counter over the running peers. */
export function total(h: Harness, key: 'blocksFromOrderer' | 'blocksByPush' | 'blocksByPull' | 'blocksByStateTransfer' | 'duplicates'): number {
  return h.running().reduce((n, p) => n + (p.peer!.status()[0]!.counters[key] ?? 0), 0);
}

/** Orderer options that cut one block per transaction, at once. */
export const ONE_TX_BLOCKS = { batchTimeoutMs: 50, maxMessageCount: 1 };
