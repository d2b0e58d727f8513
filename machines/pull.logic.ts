// Fabric's pull engine (gossip/gossip/algo/pull.go, digest §4.7), generic over the item kind: items are string
// ids (decimal block numbers, PKI-IDs, ...); the caller maps ids to item bytes and back.
//
//   initiator, every pullInterval:
//     startRound(peers): a fresh nonce per peer (unique among outstanding ones) → hello(nonce) to each
//     digest(from, nonce, ids) while collecting: kept only if nonce is this round's hello to `from`
//     endDigests()   (after digestWaitTime): for every advertised id I want (missing, passing my ingress filter)
//                    pick ONE random advertiser; one request(nonce of that peer's hello, ids) per chosen peer
//     update(from, nonce, ids) while accepting responses: nonce must be a request of this round sent to `from`,
//                    and every id must have been requested with it, else the whole update is refused
//     endRound()     (after responseWaitTime): forget every nonce of the round
//   responder:
//     hello(from, nonce) → remember (from, nonce) for requestWaitTime; digest of my ids `from` may see (none → silent)
//     request(from, nonce, ids) → only if that hello is remembered: update with the requested ids I still hold and
//                    `from` may see (none → silent)
// murmur signs every pull message, so a nonce is bound to the peer it was sent to: a third party replaying or
// guessing a nonce gets nothing accepted. Pure: no clock (the caller passes `now` and runs the two windows),
// randomness injected.
export interface PullTimings {
  digestWaitTime: number;
  requestWaitTime: number;
  responseWaitTime: number;
}

export type PullSend =
  | { t: 'hello'; to: string; nonce: number }
  | { t: 'digest'; to: string; nonce: number; ids: string[] }
  | { t: 'request'; to: string; nonce: number; ids: string[] }
  | { t: 'update'; to: string; nonce: number; ids: string[] };

export interface PullAdapter {
  /** Ids this node holds that `peer` may see (the egress filter). */
  digests(peer: string): string[];
  /** Would I take this advertised id? (I lack it and it passes my ingress filter.) */
  wants(id: string): boolean;
}

export interface PullRandom {
  nonce(): number;
  int(n: number): number;
}

export interface PullLimits {
  /** Hellos a responder remembers at once (oldest forgotten first). */
  maxRemembered: number;
  /** Distinct advertised ids an initiator keeps per round. */
  maxAdvertised: number;
}

export type UpdateVerdict = 'accepted' | 'unknown-nonce' | 'foreign-items' | 'window-closed';

interface Round {
  id: number;
  phase: 'digests' | 'responses';
  /** Hello nonce → the peer it went to. */
  hellos: Map<number, string>;
  /** Advertised id → advertisers (their hello nonces). */
  advertised: Map<string, number[]>;
  /** Request nonce → ids requested with it. */
  requested: Map<number, Set<string>>;
}

export class PullEngine {
  private round: Round | null = null;
  private rounds = 0;
  private readonly remembered = new Map<number, { peer: string; until: number }>();
  private readonly limits: PullLimits;

  constructor(
    private readonly adapter: PullAdapter,
    private readonly rng: PullRandom,
    private readonly timings: PullTimings,
    limits: Partial<PullLimits> = {},
  ) {
    this.limits = { maxRemembered: 1024, maxAdvertised: 10_000, ...limits };
  }

  /** Starts a round (ending any previous one); returns its id and the hellos to send. */
  startRound(peers: readonly string[]): { round: number; out: PullSend[] } {
    const r: Round = { id: ++this.rounds, phase: 'digests', hellos: new Map(), advertised: new Map(), requested: new Map() };
    const out: PullSend[] = [];
    for (const to of new Set(peers)) {
      let nonce = this.rng.nonce();
      while (r.hellos.has(nonce)) nonce = this.rng.nonce();
      r.hellos.set(nonce, to);
      out.push({ t: 'hello', to, nonce });
    }
    this.round = r;
    return { round: r.id, out };
  }

  /** Is a round collecting digests or accepting responses? */
  get active(): 'digests' | 'responses' | null {
    return this.round?.phase ?? null;
  }

  onDigest(from: string, nonce: number, ids: readonly string[]): boolean {
    const r = this.round;
    if (!r || r.phase !== 'digests' || r.hellos.get(nonce) !== from) return false;
    for (const id of ids) {
      const who = r.advertised.get(id);
      if (who) {
        if (!who.includes(nonce)) who.push(nonce);
      } else if (r.advertised.size < this.limits.maxAdvertised) {
        r.advertised.set(id, [nonce]);
      }
    }
    return true;
  }

  /** Closes the digest window of `round`: the requests to send (one random advertiser per wanted id). */
  endDigests(round: number): PullSend[] {
    const r = this.round;
    if (!r || r.id !== round || r.phase !== 'digests') return [];
    r.phase = 'responses';
    const byNonce = new Map<number, string[]>();
    for (const [id, who] of r.advertised) {
      if (!this.adapter.wants(id)) continue;
      const nonce = who[this.rng.int(who.length)]!;
      let ids = byNonce.get(nonce);
      if (!ids) byNonce.set(nonce, (ids = []));
      ids.push(id);
    }
    r.advertised.clear();
    const out: PullSend[] = [];
    for (const [nonce, ids] of byNonce) {
      r.requested.set(nonce, new Set(ids));
      out.push({ t: 'request', to: r.hellos.get(nonce)!, nonce, ids });
    }
    return out;
  }

  /** Judges an update; only 'accepted' lets its items through (all of them were asked of `from`). */
  onUpdate(from: string, nonce: number, ids: readonly string[]): UpdateVerdict {
    const r = this.round;
    if (!r || r.phase !== 'responses') return 'window-closed';
    const asked = r.requested.get(nonce);
    if (!asked || r.hellos.get(nonce) !== from) return 'unknown-nonce';
    return ids.every((id) => asked.has(id)) ? 'accepted' : 'foreign-items';
  }

  /** Closes the response window of `round`: every nonce of it is forgotten. */
  endRound(round: number): void {
    if (this.round?.id === round) this.round = null;
  }

  onHello(from: string, nonce: number, now: number): PullSend | null {
    this.forget(now);
    this.remembered.delete(nonce);
    this.remembered.set(nonce, { peer: from, until: now + this.timings.requestWaitTime });
    while (this.remembered.size > this.limits.maxRemembered) this.remembered.delete(this.remembered.keys().next().value as number);
    const ids = this.adapter.digests(from);
    return ids.length ? { t: 'digest', to: from, nonce, ids } : null;
  }

  onRequest(from: string, nonce: number, ids: readonly string[], now: number): PullSend | null {
    this.forget(now);
    const h = this.remembered.get(nonce);
    if (!h || h.peer !== from) return null;
    const mine = new Set(this.adapter.digests(from));
    const give = [...new Set(ids)].filter((id) => mine.has(id));
    return give.length ? { t: 'update', to: from, nonce, ids: give } : null;
  }

  private forget(now: number): void {
    for (const [n, h] of this.remembered) if (h.until < now) this.remembered.delete(n);
  }
}
