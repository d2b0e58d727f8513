// Pure helpers of state transfer (Fabric's gossip/state, digest §5.4–§5.5), table-tested.
//
//   nextRange(next, target, batchSize):   [next, min(target − 1, next + batchSize − 1)]   (inclusive)
//   candidates(peers, end, tried):        peers whose height covers `end` (height > end) and not yet tried
//                                         for this batch; if every such peer was tried, all of them again
//   validateRequest(start, end, batchSize): start ≤ end and end − start ≤ batchSize (Fabric's rule, so a
//                                         Fabric-sized request of batchSize + 1 blocks is still served)
//   servedRange(start, end, height):      [start, min(end, height − 1)], or null when nothing is held
//   rand(state):                          one xorshift32 step: the machine's own seeded randomness, pure
export interface ChannelPeerHeight {
  /** PKI-ID (hex). */
  id: string;
  height: number;
}

export function nextRange(next: number, target: number, batchSize: number): { start: number; end: number } | null {
  if (next >= target) return null;
  return { start: next, end: Math.min(target - 1, next + Math.max(1, batchSize) - 1) };
}

export function candidates(peers: readonly ChannelPeerHeight[], end: number, tried: readonly string[]): string[] {
  const covering = peers.filter((p) => p.height > end).map((p) => p.id);
  const fresh = covering.filter((id) => !tried.includes(id));
  return fresh.length ? fresh : covering;
}

export type RequestCheck = { ok: true } | { ok: false; reason: 'state-request-order' | 'state-request-width' };

export function validateRequest(start: number, end: number, batchSize: number): RequestCheck {
  if (start > end) return { ok: false, reason: 'state-request-order' };
  if (end - start > batchSize) return { ok: false, reason: 'state-request-width' };
  return { ok: true };
}

export function servedRange(start: number, end: number, height: number): { start: number; end: number } | null {
  const last = Math.min(end, height - 1);
  return last >= start ? { start, end: last } : null;
}

export function maxHeight(peers: readonly ChannelPeerHeight[]): number {
  return peers.reduce((m, p) => Math.max(m, p.height), 0);
}

/** One xorshift32 step: returns a value in [0, 2^32) and the next state (never 0). */
export function rand(state: number): { value: number; state: number } {
  let x = state >>> 0 || 0x9e3779b9;
  x ^= x << 13;
  x >>>= 0;
  x ^= x >>> 17;
  x ^= x << 5;
  x >>>= 0;
  return { value: x, state: x };
}

/**
 * Fabric's straggler warning (FAB-18378): a gossiped block refused as too far ahead, on a peer that cannot
 * catch up by itself — state transfer off and it depends on others for blocks (election on, or not a static
 * leader) — more than 100 blocks behind.
 */
export function isStraggler(o: { stateEnabled: boolean; useLeaderElection: boolean; orgLeader: boolean; seq: number; height: number }): boolean {
  return !o.stateEnabled && (o.useLeaderElection || !o.orgLeader) && o.seq > o.height + 100;
}
