// Timing maths of the deliver machine (Fabric's blocksprovider), pure and table-tested.

export interface DeliverTimings {
  /** Waiting for the feed to be in place before counting a failure; ms (peer.deliveryclient.connTimeout). */
  connTimeoutMs: number;
  /** Longest back-off; ms (peer.deliveryclient.reConnectBackoffThreshold). */
  reConnectBackoffThresholdMs: number;
  /** An elected leader gives up after failing this long; ms (peer.deliveryclient.reconnectTotalTimeThreshold). */
  reconnectTotalTimeThresholdMs: number;
  /** First and shortest back-off; ms (peer.deliveryclient.minimalReconnectInterval). */
  minimalReconnectIntervalMs: number;
}

/** Fabric's exponent base: each failure in a row waits 1.2x longer. */
export const BACKOFF_BASE = 1.2;
/** Jitter spreads each back-off over ±20 % so leaders of many channels or orgs do not retry in lockstep. */
export const JITTER = 0.2;

/**
 * Back-off before retry number `attempt` (1 = after the first failure): minimal × 1.2^(attempt−1), capped at
 * reConnectBackoffThreshold, spread by ±20 % from `u` ∈ [0, 1), and kept within [minimal, threshold].
 */
export function backoffMs(attempt: number, u: number, t: Pick<DeliverTimings, 'minimalReconnectIntervalMs' | 'reConnectBackoffThresholdMs'>): number {
  const min = t.minimalReconnectIntervalMs;
  const max = Math.max(min, t.reConnectBackoffThresholdMs);
  const n = Math.max(1, Math.floor(attempt));
  // Past ~200 attempts the power overflows any threshold anyway; cap the exponent to stay finite.
  const base = Math.min(max, min * BACKOFF_BASE ** Math.min(n - 1, 200));
  const jittered = base * (1 - JITTER + 2 * JITTER * Math.min(Math.max(u, 0), 1));
  return Math.round(Math.min(max, Math.max(min, jittered)));
}

/** Fabric's peer.deliveryclient defaults. */
export const FABRIC_DELIVER_TIMINGS: DeliverTimings = {
  connTimeoutMs: 3000,
  reConnectBackoffThresholdMs: 3_600_000,
  reconnectTotalTimeThresholdMs: 3_600_000,
  minimalReconnectIntervalMs: 100,
};
