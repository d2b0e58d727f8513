// The window of state requests in flight (murmur profile; the fabric profile is the window of one) and the
// wait per attempt, pure and table-tested. Used by machines/state-transfer.machine.ts.
//
//   Flight:        one range [start, end] asked of one peer under one attempt number; `start` moves up as
//                  chunks arrive or the ledger passes it; `tries` counts attempts at this range, `tried` whom.
//   pickPeer:      a peer whose height covers `end` (candidates()), ranked: not suspect (murmur: an attempt
//                  to it failed and it has answered nothing sent later; e.g. a server that does not know the
//                  requester yet drops its requests), then not yet tried for this range, then least loaded
//                  (fewest flights), then at random: the window spreads over the peers that hold the range, so
//                  no requester's share of one server grows with the window, and a retry goes to a peer likely
//                  to answer (one that answered a later request lost this one to the network, not by fault).
//   trim(flights, height): drop what the ledger already holds (a range wholly below it is done).
//   attemptTimeout: Jacobson/Karels (RFC 6298) over the round trips the link measures: srtt + 4 × rttvar,
//                  at least `min`, at most `max` (state.responseTimeout, Fabric's fixed wait); 1 s (RFC 6298's
//                  initial value) before any sample; doubled each time the same peer is asked the same range
//                  again (a retry to another peer is a new path: its own round trip, not a congested one).
//                  With min = max (the fabric profile) it is Fabric's fixed responseTimeout.
//   backoffDelay:  after the k-th abandoned round in a row: min × 2^(k−1), at most `max`.
import { candidates, rand, type ChannelPeerHeight } from './state-transfer.logic.ts';

export interface Flight {
  attempt: number;
  to: string;
  start: number;
  end: number;
  tries: number;
  tried: string[];
}

/** Smoothed round trip and its variation (ms), or null before the first sample. */
export interface RttEstimate {
  srtt: number;
  rttvar: number;
}

export const INITIAL_TIMEOUT_MS = 1000;

/** Flights to each peer. */
export function loadOf(flights: readonly Flight[]): Map<string, number> {
  const load = new Map<string, number>();
  for (const f of flights) load.set(f.to, (load.get(f.to) ?? 0) + 1);
  return load;
}

/** The peer for a range ending at `end`: covering; not suspect, not tried, least loaded first; at random. */
export function pickPeer(peers: readonly ChannelPeerHeight[], end: number, tried: readonly string[], flights: readonly Flight[], rng: number, suspects: readonly string[] = []): { to: string; rng: number } | null {
  const pool = candidates(peers, end, []);
  if (!pool.length) return null;
  const load = loadOf(flights);
  const rank = (id: string) => (suspects.includes(id) ? 2 : 0) + (tried.includes(id) ? 1 : 0);
  const top = Math.min(...pool.map(rank));
  const ranked = pool.filter((id) => rank(id) === top);
  const least = Math.min(...ranked.map((id) => load.get(id) ?? 0));
  const best = ranked.filter((id) => (load.get(id) ?? 0) === least);
  const { value, state } = rand(rng);
  return { to: best[value % best.length]!, rng: state };
}

/** What is left to fetch once the ledger holds everything below `height`. */
export function trim(flights: readonly Flight[], height: number): { kept: Flight[]; done: Flight[] } {
  const kept: Flight[] = [];
  const done: Flight[] = [];
  for (const f of flights) {
    if (f.end < height) done.push(f);
    else kept.push(f.start < height ? { ...f, start: height } : f);
  }
  return { kept, done };
}

/** One RFC 6298 step with a round-trip sample (ms). */
export function sampleRtt(est: RttEstimate | null, rtt: number): RttEstimate {
  const r = Math.max(0, rtt);
  if (!est) return { srtt: r, rttvar: r / 2 };
  return { srtt: (7 * est.srtt + r) / 8, rttvar: (3 * est.rttvar + Math.abs(est.srtt - r)) / 4 };
}

/** The wait for a flight's current attempt: doubled per earlier ask of the same range at the same peer. */
export function attemptTimeout(est: RttEstimate | null, min: number, max: number, f: Pick<Flight, 'to' | 'tried'>): number {
  const repeats = Math.max(0, f.tried.filter((id) => id === f.to).length - 1);
  const base = est ? est.srtt + 4 * est.rttvar : INITIAL_TIMEOUT_MS;
  const t = Math.max(min, Math.ceil(base)) * 2 ** Math.min(repeats, 16);
  return Math.max(1, Math.min(max, t));
}

/** The wait before a new round after `abandons` (≥ 1) abandoned rounds in a row. */
export function backoffDelay(abandons: number, min: number, max: number): number {
  return Math.max(1, Math.min(max, min * 2 ** Math.max(0, Math.min(abandons - 1, 16))));
}

/** peer.gossip.murmur.state.*: the window of the murmur profile. */
export interface StateWindowSettings {
  inFlight: number;
  batchSize: number;
  minResponseTimeout: number;
  retryBackoff: number;
}

export const STATE_WINDOW_DEFAULTS: StateWindowSettings = { inFlight: 4, batchSize: 50, minResponseTimeout: 200, retryBackoff: 1000 };

/**
 * What state transfer runs with in a profile. fabric: Fabric's loop (one request of state.batchSize, a fixed
 * responseTimeout, an abandoned round waits for the next tick). murmur: the window; state.batchSize is the
 * floor of a request's width, not its goal.
 */
export function stateWindowOf(profile: 'murmur' | 'fabric', fabric: { batchSize: number; responseTimeout: number }, w: StateWindowSettings = STATE_WINDOW_DEFAULTS): StateWindowSettings {
  if (profile === 'fabric') return { inFlight: 1, batchSize: fabric.batchSize, minResponseTimeout: fabric.responseTimeout, retryBackoff: 0 };
  return { inFlight: w.inFlight, batchSize: Math.max(fabric.batchSize, w.batchSize), minResponseTimeout: Math.min(w.minResponseTimeout, fabric.responseTimeout), retryBackoff: w.retryBackoff };
}
