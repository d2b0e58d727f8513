// Safety invariants the simulator checks after every step (each is cheap: incremental or O(peers²)).
//
//   ledger-not-from-orderer   every block a peer's ledger holds is the block the ordering service produced at
//                             that number (same header hash), so every ledger is a prefix of the orderer chain
//   ledger-beyond-orderer     no ledger is higher than the orderer chain
//   forged-accepted           no honest peer's codec accepted an envelope the byzantine peer forged
//   forged-forwarded          no honest peer sent a forged envelope, on its own or embedded in a response
//   membership-replayed       a peer's record of another peer never goes back to an older PeerTime (a replay
//                             that got through); tracked per observer incarnation, reset when the record goes
//   membership-self           a peer never holds itself in its membership table
//   membership-unbounded      a membership table holds at most every identity of the network
//   sessions-unbounded        likewise for session bindings
//   network-unbounded         messages in flight stay under a bound proportional to the network
//   timers-unbounded          pending simulated timers stay under a bound proportional to the network (a leak)
//   status-inconsistent       a peer that reports role leader names itself as leaderId, and a follower never
//                             names itself; a named leader is a peer of its own org
// Liveness is checked by the simulator at the end of the liveness phase (simulator.ts).
import { blockHash } from '../ledger/block.ts';
import { bytesEqual } from '../util/bytes.ts';
import type { PeerTime } from '../wire/messages.ts';
import { compareTime } from '../../machines/discovery.logic.ts';
import type { DecodeResult } from '../wire/messages.ts';
import type { Harness } from './harness.ts';
import { classify } from './kinds.ts';
import { digestOf } from './byzantine.ts';

export interface Violation {
  name: string;
  detail: string;
}

/** What the ledger check needs of the ordering service and of a ledger (so it can be table-tested). */
export interface ChainView {
  height(): number;
  hash(n: number): Uint8Array | null;
}

/**
 * Checks blocks [from, ledger height) of a ledger against the orderer chain. Returns the violation (if any)
 * and the height verified so far (pass it back as `from` next time: ledgers never shrink).
 */
export function checkLedgerPrefix(orderer: ChainView, ledger: ChainView, from: number): { verified: number; violation: Violation | null } {
  const h = ledger.height();
  if (h > orderer.height()) return { verified: from, violation: { name: 'ledger-beyond-orderer', detail: `ledger height ${h} > orderer height ${orderer.height()}` } };
  for (let n = from; n < h; n++) {
    const mine = ledger.hash(n);
    const theirs = orderer.hash(n);
    if (!mine || !theirs || !bytesEqual(mine, theirs)) return { verified: n, violation: { name: 'ledger-not-from-orderer', detail: `block ${n} is not the orderer's block ${n}` } };
  }
  return { verified: h, violation: null };
}

export interface Bounds {
  maxInFlight: number;
  maxTimers: number;
  maxMembers: number;
}

export class Invariants {
  checks = 0;
  /** Forged envelopes an honest codec was asked to decode, and how many of those it accepted (must be 0). */
  readonly forgeries = { decoded: 0, accepted: 0 };
  private pendingViolation: Violation | null = null;
  private readonly verified = new Map<string, number>();
  /** observer id → (incarnation marker, member pkiId → last PeerTime seen). */
  private readonly seenTimes = new Map<string, { peer: object; times: Map<string, PeerTime> }>();
  private readonly uninstall: (() => void)[] = [];
  private readonly ordererHashes = new Map<string, Uint8Array[]>();

  constructor(
    private readonly h: Harness,
    private readonly o: {
      channels: string[];
      honest: string[];
      /** Forged envelope digests (byzantine runs), null otherwise. */
      forged: Set<string> | null;
      attacker: string | null;
      bounds: Bounds;
    },
  ) {}

  /** Hooks the per-message checks (forgeries) into the peers' codecs and the network taps. */
  install(): void {
    const forged = this.o.forged;
    if (!forged) return;
    for (const id of this.o.honest) {
      const codec = this.h.peers.get(id)!.codec;
      const decode = codec.decode.bind(codec);
      codec.decode = (bytes: Uint8Array): DecodeResult => {
        const r = decode(bytes);
        if (forged.size && forged.has(digestOf(bytes))) {
          this.forgeries.decoded++;
          if (r.ok) {
            this.forgeries.accepted++;
            this.flag({ name: 'forged-accepted', detail: `${id} accepted a forged ${r.msg.payload.t} claiming ${r.msg.signer.subject}` });
          }
        }
        return r;
      };
      this.uninstall.push(() => void (codec.decode = decode));
    }
    const honest = new Set(this.o.honest);
    const tap = (from: string, _subject: string, bytes: Uint8Array) => {
      if (!honest.has(from) || !forged.size) return;
      if (forged.has(digestOf(bytes))) return this.flag({ name: 'forged-forwarded', detail: `${from} sent a forged envelope` });
      for (const inner of classify(bytes).embedded)
        if (forged.has(digestOf(inner))) return this.flag({ name: 'forged-forwarded', detail: `${from} relayed a forged envelope inside a ${classify(bytes).kind}` });
    };
    this.h.network.taps.add(tap);
    this.uninstall.push(() => this.h.network.taps.delete(tap));
  }

  dispose(): void {
    for (const u of this.uninstall.splice(0)) u();
  }

  private flag(v: Violation): void {
    this.pendingViolation ??= v;
  }

  private ordererChain(ch: string): ChainView {
    let hashes = this.ordererHashes.get(ch);
    if (!hashes) this.ordererHashes.set(ch, (hashes = []));
    const ordering = this.h.ordering;
    return {
      height: () => ordering.height(ch),
      hash: (n) => {
        while (hashes!.length <= n && hashes!.length < ordering.height(ch)) hashes!.push(blockHash(ordering.block(ch, hashes!.length)!));
        return hashes![n] ?? null;
      },
    };
  }

  /** Runs every step check; returns the first violation found (also one flagged by a hook since). */
  check(): Violation | null {
    this.checks++;
    if (this.pendingViolation) return this.pendingViolation;
    const { h, o } = this;
    for (const id of o.honest) {
      const sp = h.peers.get(id)!;
      const peer = sp.peer;
      for (const ch of o.channels) {
        const ledger = h.ledger(id, ch);
        if (!ledger) continue;
        const key = `${id}\u0000${ch}`;
        const r = checkLedgerPrefix(this.ordererChain(ch), { height: () => ledger.height(), hash: (n) => (ledger.get(n) ? blockHash(ledger.get(n)!) : null) }, this.verified.get(key) ?? 0);
        this.verified.set(key, r.verified);
        if (r.violation) return { ...r.violation, detail: `${id} ${ch}: ${r.violation.detail}` };
      }
      if (!peer) {
        this.seenTimes.delete(id);
        continue;
      }
      const table = peer.discovery.table;
      if (table.get(sp.pkiIdHex)) return { name: 'membership-self', detail: `${id} holds itself in its membership table` };
      if (table.size > o.bounds.maxMembers) return { name: 'membership-unbounded', detail: `${id} holds ${table.size} members > ${o.bounds.maxMembers}` };
      if (peer.sessions.list().length > o.bounds.maxMembers) return { name: 'sessions-unbounded', detail: `${id} holds ${peer.sessions.list().length} sessions` };
      let seen = this.seenTimes.get(id);
      if (!seen || seen.peer !== peer) this.seenTimes.set(id, (seen = { peer, times: new Map() }));
      const present = new Set<string>();
      for (const m of table.all()) {
        present.add(m.pkiIdHex);
        const last = seen.times.get(m.pkiIdHex);
        if (last && compareTime(m.ts, last) < 0)
          return { name: 'membership-replayed', detail: `${id} went back to an older alive of ${m.id}: ${JSON.stringify(m.ts)} < ${JSON.stringify(last)}` };
        seen.times.set(m.pkiIdHex, m.ts);
      }
      for (const k of [...seen.times.keys()]) if (!present.has(k)) seen.times.delete(k);
      for (const row of peer.status()) {
        if (row.role === 'leader' && row.leaderId !== id) return { name: 'status-inconsistent', detail: `${id} ${row.channel}: leader but leaderId ${row.leaderId}` };
        if (row.role === 'follower' && row.leaderId === id) return { name: 'status-inconsistent', detail: `${id} ${row.channel}: follower of itself` };
        if (row.leaderId && row.leaderId !== id) {
          const l = h.peers.get(row.leaderId);
          if (!l || l.mspId !== sp.mspId) return { name: 'status-inconsistent', detail: `${id} ${row.channel}: follows ${row.leaderId}, not a peer of its org` };
        }
      }
    }
    if (h.network.inFlight() > o.bounds.maxInFlight) return { name: 'network-unbounded', detail: `${h.network.inFlight()} messages in flight > ${o.bounds.maxInFlight}` };
    if (h.clock.pending() > o.bounds.maxTimers) return { name: 'timers-unbounded', detail: `${h.clock.pending()} timers pending > ${o.bounds.maxTimers}` };
    return null;
  }
}
