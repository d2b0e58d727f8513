// Membership table: Fabric's discovery bookkeeping (digest §3) as pure logic. Time is passed in; nothing here
// reads a clock, draws randomness or does I/O.
//
//   alive(m) with timestamp ts (incNum, then seqNum):
//     unknown           → learn as ALIVE
//     known dead        → ts newer than the dead record: RESURRECT; else ignore
//     known alive       → ts newer: refresh lastSeen / endpoints / envelope; else ignore
//   Only strictly newer timestamps count, so a replayed alive message changes nothing.
//   expire(now):  alive with now − lastSeen > aliveExpirationTimeout → DEAD
//   forget(now):  latest alive message older than TTL (= expiration × msgExpirationFactor) → removed,
//                 unless protected (bootstrap and anchor peers stay, dead, forever). The last timestamp of a
//                 removed peer is kept until 2 × TTL so a replay cannot bring it back.
//   purge(id):    removed at once, whatever its state (its certificate expired or was revoked, or the peer
//                 renewed it: Fabric's identity purge); the timestamp is kept as for forget.
//   identity switch: an unknown PKI-ID whose certificate names a peer the table holds under another PKI-ID (same
//                 MSP, same subject) is that peer with a renewed certificate. It replaces the old record when its
//                 incarnation is newer (a restart), else it is the old certificate still talking and is ignored.
import type { PeerTime } from '../runtime/wire/messages.ts';

/** >0 when a is newer than b, 0 when equal, <0 when older (incarnation first, then sequence). */
export function compareTime(a: PeerTime, b: PeerTime): number {
  return a.incNum !== b.incNum ? a.incNum - b.incNum : a.seqNum - b.seqNum;
}

export interface AliveInfo {
  pkiIdHex: string;
  mspId: string;
  /** Peer id from the certificate. */
  id: string;
  /** External endpoint ('' = invisible outside its org). */
  endpoint: string;
  /** Internal endpoint from the secret part; null when it was stripped or absent. */
  internalEndpoint: string | null;
  ts: PeerTime;
  /** The alive message's metadata (opaque to gossip). */
  metadata: Uint8Array;
  /** When the signer's certificate expires (ms): the member is purged then. */
  notAfter: number;
  /** Signed alive envelope as received (with its secret, if any), for membership responses. */
  envelope: Uint8Array;
}

export interface MemberRecord extends AliveInfo {
  status: 'alive' | 'dead';
  lastSeen: number;
  /** When the latest alive message was stored (its TTL counts from here). */
  storedAt: number;
  /** Reconnection probes sent to it since it was last heard from (dead members only). */
  probes?: number;
}

export type AliveOutcome = 'new' | 'refreshed' | 'resurrected' | 'stale' | 'replayed';

export interface MembershipLimits {
  /** Peers known at most (alive + dead); past it new peers are ignored. */
  maxMembers: number;
  /** Timestamps of forgotten peers kept for replay protection at most. */
  maxTombstones: number;
}

export const DEFAULT_LIMITS: MembershipLimits = { maxMembers: 10_000, maxTombstones: 10_000 };

export class MembershipTable {
  private readonly members = new Map<string, MemberRecord>();
  /** Forgotten peers: last timestamp and when it may be dropped. */
  private readonly tombstones = new Map<string, { ts: PeerTime; until: number }>();

  constructor(private readonly limits: MembershipLimits = DEFAULT_LIMITS) {}

  get(pkiIdHex: string): MemberRecord | undefined {
    return this.members.get(pkiIdHex);
  }
  alive(): MemberRecord[] {
    return [...this.members.values()].filter((m) => m.status === 'alive');
  }
  dead(): MemberRecord[] {
    return [...this.members.values()].filter((m) => m.status === 'dead');
  }
  all(): MemberRecord[] {
    return [...this.members.values()];
  }
  get size(): number {
    return this.members.size;
  }
  /** Whether a forgotten peer's last timestamp is still kept (replay guard, until 2 × TTL after its last alive). */
  remembers(pkiIdHex: string): boolean {
    return this.tombstones.has(pkiIdHex);
  }

  /** Would an alive message with this timestamp change anything? (Fabric's CheckValid.) */
  isFresh(pkiIdHex: string, ts: PeerTime): boolean {
    const m = this.members.get(pkiIdHex);
    if (m) return compareTime(ts, m.ts) > 0;
    const t = this.tombstones.get(pkiIdHex);
    return !t || compareTime(ts, t.ts) > 0;
  }

  handleAlive(a: AliveInfo, now: number): AliveOutcome {
    const m = this.members.get(a.pkiIdHex);
    if (!m) {
      const t = this.tombstones.get(a.pkiIdHex);
      if (t && compareTime(a.ts, t.ts) <= 0) return 'replayed';
      if (this.members.size >= this.limits.maxMembers) return 'stale';
      this.tombstones.delete(a.pkiIdHex);
      this.members.set(a.pkiIdHex, { ...a, status: 'alive', lastSeen: now, storedAt: now });
      return 'new';
    }
    if (compareTime(a.ts, m.ts) < 0) return 'replayed';
    if (compareTime(a.ts, m.ts) === 0) {
      // The same alive can arrive twice: stripped (channel subject) and with its secret (org subject).
      // The copy with the internal endpoint completes the record; it refreshes nothing else.
      if (m.internalEndpoint === null && a.internalEndpoint !== null) {
        m.internalEndpoint = a.internalEndpoint;
        m.envelope = a.envelope;
      }
      return 'stale';
    }
    const wasDead = m.status === 'dead';
    this.members.set(a.pkiIdHex, {
      ...a,
      // Keep the internal endpoint we knew if this copy had its secret stripped (Fabric does the same).
      internalEndpoint: a.internalEndpoint ?? m.internalEndpoint,
      status: 'alive',
      lastSeen: now,
      storedAt: now,
    });
    return wasDead ? 'resurrected' : 'refreshed';
  }

  /** Learns a peer reported dead by someone else, only if unknown (Fabric: MembershipResponse.dead). */
  learnDead(a: AliveInfo, now: number): boolean {
    if (this.members.has(a.pkiIdHex) || !this.isFresh(a.pkiIdHex, a.ts) || this.members.size >= this.limits.maxMembers) return false;
    this.members.set(a.pkiIdHex, { ...a, status: 'dead', lastSeen: now, storedAt: now });
    return true;
  }

  /** Moves alive peers not heard from for longer than `timeoutMs` to dead, except those `watched` (the members
   * SWIM probes: their liveness is the probes' verdict, not a heartbeat's age). */
  expire(now: number, timeoutMs: number, watched?: (m: MemberRecord) => boolean): MemberRecord[] {
    const moved: MemberRecord[] = [];
    for (const m of this.members.values()) {
      if (m.status === 'alive' && now - m.lastSeen > timeoutMs && !watched?.(m)) {
        m.status = 'dead';
        moved.push(m);
      }
    }
    return moved;
  }

  /** The member holding the same peer name (MSP and certificate subject) under another PKI-ID, if any. */
  holderOf(a: Pick<AliveInfo, 'pkiIdHex' | 'mspId' | 'id'>): MemberRecord | undefined {
    for (const m of this.members.values()) if (m.mspId === a.mspId && m.id === a.id && m.pkiIdHex !== a.pkiIdHex) return m;
    return undefined;
  }

  /** Removes a member at once (identity purge); its timestamp stays as a replay guard for `ttlMs`. */
  purge(pkiIdHex: string, now: number, ttlMs: number): MemberRecord | undefined {
    const m = this.members.get(pkiIdHex);
    if (!m) return undefined;
    this.members.delete(pkiIdHex);
    this.tombstones.set(pkiIdHex, { ts: m.ts, until: now + ttlMs });
    return m;
  }

  /** Immediate expiry (Fabric's "presumed dead"). */
  markDead(pkiIdHex: string): boolean {
    const m = this.members.get(pkiIdHex);
    if (!m || m.status === 'dead') return false;
    m.status = 'dead';
    return true;
  }

  /** Removes peers whose latest alive message is older than `ttlMs`, except protected ones. */
  forget(now: number, ttlMs: number, isProtected: (m: MemberRecord) => boolean): MemberRecord[] {
    const removed: MemberRecord[] = [];
    for (const [k, m] of this.members) {
      if (now - m.storedAt > ttlMs && !isProtected(m)) {
        this.members.delete(k);
        this.tombstones.set(k, { ts: m.ts, until: m.storedAt + 2 * ttlMs });
        removed.push(m);
      }
    }
    for (const [k, t] of this.tombstones) if (now > t.until) this.tombstones.delete(k);
    while (this.tombstones.size > this.limits.maxTombstones) this.tombstones.delete(this.tombstones.keys().next().value as string);
    return removed;
  }
}

/** A new PKI-ID for a peer the table holds under `holder`: does the newcomer replace it (a restart with a renewed
 * certificate has a newer incarnation) or is it the superseded certificate still talking? */
export function identitySwitch(newcomer: PeerTime, holder: PeerTime): 'replace' | 'ignore' {
  return newcomer.incNum > holder.incNum ? 'replace' : 'ignore';
}

/** What we know of a remote peer when deciding what to tell it (digest §3.8). */
export interface Party {
  mspId: string;
  /** Has an external endpoint. */
  external: boolean;
}

/**
 * Disclosure policy: may an alive message about `about` be sent to `to` by a peer of `myOrg`?
 * Only about peers of my org or of the receiver's own org (org A never learns org C's peers through B);
 * a peer of another org than the receiver's only when both have external endpoints.
 */
export function mayDisclose(myOrg: string, about: Party, to: Party): boolean {
  if (about.mspId !== myOrg && about.mspId !== to.mspId) return false;
  if (about.mspId === to.mspId) return true;
  return about.external && to.external;
}
