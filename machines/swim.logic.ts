// SWIM failure detection inside an org (murmur profile; Das, Gupta & Motivala 2002, as memberlist does it):
//   every period:   probe the next member of a shuffled round-robin list, so each member is probed once per
//                   round by every peer and, over the org, about once per period: ping it; without its ack within
//                   half a period ask `indirect` other members to ping it (pingReq) and pass the ack back;
//                   without any ack when the next period starts the probe failed
//   a failed probe: the member is suspected under the alive timestamp this peer holds of it; the suspicion is
//                   announced to the org once (a signed `suspect` on the org subject, not gossiped hop by hop:
//                   NATS does the fan-out, and a change costs one message per peer however large the org)
//   a suspicion heard: under the alive this peer holds of the member, or older (the accuser missed a refutation,
//                   or the member refuted since): then this peer probes the member at once and judges for itself
//   suspected:      a newer alive message of the member (its refutation: it re-signs when it hears it is
//                   suspected) clears it; after the suspicion timeout it is dead. The accuser then announces
//                   the suspicion once more, so a peer that missed it starts its own. No peer declares a member
//                   dead on another's word alone: a claim starts a suspicion the member has time to refute
// So per-peer traffic is a ping and an ack each way per period whatever the org's size, instead of one alive
// message from every member per period. Liveness of a member nobody suspects is not timed out; members of
// other orgs keep Fabric's heartbeat expiry. Pure: time is passed in, randomness comes from the caller's shuffle.
import type { PeerTime } from '../runtime/wire/messages.ts';

/** SWIM's indirect probes: members asked to ping a silent one (memberlist's IndirectChecks). */
export const SWIM_INDIRECT = 3;

/**
 * How long a suspicion stands before the member is dead: aliveExpirationTimeout less two periods (at least one
 * period, the time a refutation needs). A member dies about as long after its last sign of life as the heartbeat
 * expiry declared it: up to a period for its probe to come, a period for the probe to fail, then this.
 */
export function suspicionTimeout(aliveTimeInterval: number, aliveExpirationTimeout: number): number {
  return Math.max(aliveTimeInterval, aliveExpirationTimeout - 2 * aliveTimeInterval);
}

/** Round-robin probe order: every member once per round, in a fresh random order each round. */
export class ProbeOrder {
  private order: string[] = [];

  /** The next member to probe among `members` (ids), or null when there is none. */
  next(members: readonly string[], shuffle: (xs: readonly string[]) => string[]): string | null {
    if (members.length === 0) return null;
    const current = new Set(members);
    for (;;) {
      while (this.order.length > 0) {
        const id = this.order.pop()!;
        // A member that left since the round was drawn is skipped; one that joined waits for the next round.
        if (current.has(id)) return id;
      }
      this.order = shuffle(members);
    }
  }
}

export interface Suspicion {
  /** The alive timestamp the member is suspected under: only a newer one refutes. */
  ts: PeerTime;
  /** When this peer started suspecting it. */
  since: number;
  /** This peer's own probe failed (it announces the death when the suspicion times out). */
  mine: boolean;
}

/** Suspected members, bounded by the membership table they belong to (cleared when a member leaves it). */
export class Suspicions {
  private readonly map = new Map<string, Suspicion>();

  /** Starts suspecting `id` (true), or does nothing when it already is (false). */
  suspect(id: string, ts: PeerTime, now: number, mine: boolean): boolean {
    const s = this.map.get(id);
    if (s) {
      s.mine ||= mine;
      return false;
    }
    this.map.set(id, { ts, since: now, mine });
    return true;
  }

  get(id: string): Suspicion | undefined {
    return this.map.get(id);
  }

  has(id: string): boolean {
    return this.map.has(id);
  }

  clear(id: string): boolean {
    return this.map.delete(id);
  }

  get size(): number {
    return this.map.size;
  }

  /** Suspicions older than `timeout`: removed and returned (their members are dead). */
  due(now: number, timeout: number): [string, Suspicion][] {
    const out: [string, Suspicion][] = [];
    for (const [id, s] of this.map) if (now - s.since >= timeout) out.push([id, s]);
    for (const [id] of out) this.map.delete(id);
    return out;
  }
}

/** What a probe of one member has come to: acked, or still waiting (direct, then indirect). */
export interface Probe {
  target: string;
  nonce: number;
  acked: boolean;
  /** Members asked to ping the target for us (empty until the direct ping timed out). */
  helpers: Set<string>;
}
