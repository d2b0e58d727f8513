// Plumtree links (Leitão, Pereira, Rodrigues, "Epidemic Broadcast Trees", SRDS 2007) over one org's peers of a
// channel: the state of murmur's tree dissemination (actors/tree-disseminator.ts). Pure: no clock, no randomness.
//   links    every peer keeps `fanout` out-links to random org peers of the channel view, plus in-links of the
//            peers that chose it (learned from their graft), at most `maxLinks`. A new link is eager. The opener
//            repeats its (empty) graft until the other end sends anything back: a graft may be lost, or come
//            before the other end's view holds the opener; after MAX_ASKS unanswered asks (the other end is
//            full: early joiners that everyone saw first fill up) it opens a link to another peer instead.
//   payload  first copy from X → X eager; forward to every eager link but X; announce (seq, hash) on lazy links
//            again from X      → X lazy; prune to X (a cycle of eager links is cut where the copy was wasted)
//   prune    from X → X lazy
//   ihave    from X: X is a link (lazy if new: a lost graft must not leave a link one-way)
//            block missing → X joins its announcers; the first announcement arms graftTimeout
//   gap      payload of seq s from X while s−k… are missing → X counts as an announcer of each (it had them)
//   silence  a lazy link that announced nothing for several blocks is asked again (its end dropped us)
//   timeout  block still missing → graft the next announcer not skipped (it sends the block; re-arm). A graft
//            makes X eager only when the block before also came by a graft (one lost payload is not a broken
//            tree); a repaired block is announced to every link, not pushed (its subtree may have it by now)
//            a grafted announcer that stays silent past graftTimeout counts a failure; `skipAfter` failures in a
//            row ignore its announcements for `skipFor`; out of announcers → graft links that did not announce
//            (up to maxAnnouncers), then give up (pull and state transfer remain)
// Steady state: the eager links form a spanning tree of the org, so each peer receives one payload per block
// and one small announcement per lazy link; a lost payload costs one graft, and the next block's duplicate
// prunes the extra eager link.

export interface TreeSettings {
  fanout: number;
  maxLinks: number;
  /** ms without the payload after the first announcement (and after each graft) before the next graft. */
  graftTimeout: number;
  /** Announcers remembered per missing block. */
  maxAnnouncers: number;
  /** Missing blocks tracked at once (oldest dropped first). */
  maxMissing: number;
  skipAfter: number;
  skipFor: number;
}

export interface Link {
  eager: boolean;
  /** Chosen by this peer (kept at `fanout`); otherwise an in-link the other peer chose. */
  out: boolean;
  /** The other end has shown it holds the link (sent anything over it). Until then the opener asks again. */
  confirmed: boolean;
  /** Highest block seq heard over this link (payload or announcement); at creation, the highest known. */
  lastSeq: number;
  /** Empty grafts sent while unconfirmed. */
  asked: number;
}

/** Unanswered asks before a link is given up (the other end is full, or gone) and another peer is chosen. */
export const MAX_ASKS = 3;
/** Syncs during which a peer that never answered is not chosen again. */
export const AVOID_SYNCS = 30;

interface Missing {
  /** Announced hash; null when the block is missing because a later one came first (a gap). */
  hash: Uint8Array | null;
  announcers: string[];
  next: number;
  grafted: string | null;
  /** Links asked after the announcers ran out (they never announced: their silence is not held against them). */
  fallbacks: string[];
}

export type IHaveOutcome = 'arm' | 'noted' | 'skipped' | 'ignored';
export type TimerOutcome = { graft: string; eager: boolean } | { giveUp: true } | null;

export class PlumTree {
  private readonly links = new Map<string, Link>();
  private readonly missing = new Map<number, Missing>();
  private readonly health = new Map<string, { failures: number; skipUntil: number }>();
  /** Highest block seq heard of, by any link. */
  private highest = -1;
  /** Blocks in a row that came by a graft: from the second on, a graft also re-attaches the tree (eager). */
  private repairStreak = 0;
  /** Peers that left an out-link unanswered, with the syncs left before they may be chosen again. */
  private readonly avoid = new Map<string, number>();
  readonly stats = { grafts: 0, prunes: 0, failures: 0, skippedAnnouncements: 0, gaveUp: 0, missingDropped: 0, linksRefused: 0, linksAbandoned: 0 };

  constructor(private readonly s: TreeSettings) {}

  /**
   * Keep links only to current members; give up links left unanswered MAX_ASKS times (avoiding those peers for
   * AVOID_SYNCS syncs); top out-links up to `fanout` with `pick` (the caller's randomness). Returns the new
   * out-links.
   */
  sync(members: readonly string[], pick: (xs: string[], k: number) => string[]): string[] {
    const set = new Set(members);
    for (const [id, left] of this.avoid) if (left <= 1 || !set.has(id)) this.avoid.delete(id);
    else this.avoid.set(id, left - 1);
    for (const [id, l] of [...this.links]) {
      if (!set.has(id)) this.links.delete(id);
      else if (!l.confirmed && l.asked >= MAX_ASKS) {
        this.links.delete(id);
        this.avoid.set(id, AVOID_SYNCS);
        this.stats.linksAbandoned++;
      }
    }
    for (const id of [...this.health.keys()]) if (!set.has(id)) this.health.delete(id);
    let out = 0;
    for (const l of this.links.values()) if (l.out) out++;
    const want = Math.min(this.s.fanout - out, this.s.maxLinks - this.links.size);
    if (want <= 0) return [];
    const candidates = members.filter((id) => !this.links.has(id) && !this.avoid.has(id));
    const added = pick(candidates, want);
    for (const id of added) this.links.set(id, { eager: true, out: true, confirmed: false, lastSeq: this.highest, asked: 0 });
    return added;
  }

  /** Links to ask (again) with an empty graft: not acknowledged yet. Each call counts one ask per link. */
  asks(): string[] {
    const out: string[] = [];
    for (const [id, l] of this.links)
      if (!l.confirmed) {
        l.asked++;
        out.push(id);
      }
    return out;
  }

  /** Links the other end has not acknowledged yet (its view may not have held us when we asked). */
  unconfirmed(): string[] {
    return [...this.links].filter(([, l]) => !l.confirmed).map(([id]) => id);
  }

  /** Block `seq` was heard of over the link to `from` (its payload or its announcement). */
  heardSeq(from: string, seq: number): void {
    if (seq > this.highest) this.highest = seq;
    const l = this.links.get(from);
    if (l && seq > l.lastSeq) l.lastSeq = seq;
  }

  /**
   * A live lazy link carries an announcement of every block, so one silent for more than `slack` blocks was
   * dropped at the other end (its view lost us for a while): ask again, as for a new link. Eager links may be
   * silent (toward a child), so they are not judged.
   */
  reconfirmSilent(slack: number): void {
    for (const l of this.links.values())
      if (!l.eager && l.confirmed && this.highest - l.lastSeq > slack) {
        l.confirmed = false;
        l.asked = 0;
        l.lastSeq = this.highest;
      }
  }

  private confirm(id: string): void {
    const l = this.links.get(id);
    if (l) {
      l.confirmed = true;
      l.asked = 0;
    }
  }

  eager(except: string | null = null): string[] {
    return [...this.links].filter(([id, l]) => l.eager && id !== except).map(([id]) => id);
  }

  lazy(except: string | null = null): string[] {
    return [...this.links].filter(([id, l]) => !l.eager && id !== except).map(([id]) => id);
  }

  link(id: string): Link | undefined {
    return this.links.get(id);
  }

  get size(): number {
    return this.links.size;
  }

  /** A payload arrived from `from` (null: unknown relayer). Returns whether to send `from` a prune. */
  onPayload(from: string | null, first: boolean): { prune: boolean } {
    if (from === null) return { prune: false };
    this.confirm(from);
    if (first) {
      this.setEager(from, true);
      return { prune: false };
    }
    const l = this.links.get(from);
    if (l) l.eager = false;
    this.stats.prunes++;
    return { prune: true };
  }

  /** An announcement from `from`: links are symmetric, so a member that announces to us is a (lazy) link. */
  heard(from: string): void {
    if (!this.links.has(from)) this.setEager(from, false);
    this.confirm(from);
  }

  onPrune(from: string): void {
    const l = this.links.get(from);
    if (l) l.eager = false;
    this.confirm(from);
  }

  /** An empty graft: the member asks for a link. A new one starts eager; an existing one keeps its kind. */
  onLinkRequest(from: string): boolean {
    if (this.links.has(from)) {
      this.confirm(from);
      return true;
    }
    return this.onGraft(from);
  }

  /** A graft for blocks from a member: the link becomes eager. False when the links are full. */
  onGraft(from: string): boolean {
    const ok = this.setEager(from, true);
    this.confirm(from);
    return ok;
  }

  private setEager(id: string, eager: boolean): boolean {
    const l = this.links.get(id);
    if (l) {
      l.eager = eager;
      return true;
    }
    if (this.links.size >= this.s.maxLinks) {
      this.stats.linksRefused++;
      return false;
    }
    this.links.set(id, { eager, out: false, confirmed: true, lastSeq: this.highest, asked: 0 });
    return true;
  }

  /** An announcement of a block this peer wants. 'arm': start the graft timer for `seq` now. */
  onIHave(from: string, seq: number, hash: Uint8Array | null, now: number): IHaveOutcome {
    const h = this.health.get(from);
    if (h && h.skipUntil > now) {
      this.stats.skippedAnnouncements++;
      return 'skipped';
    }
    const m = this.missing.get(seq);
    if (m) {
      if (m.announcers.length < this.s.maxAnnouncers && !m.announcers.includes(from)) m.announcers.push(from);
      if (m.hash === null) m.hash = hash;
      return 'noted';
    }
    while (this.missing.size >= this.s.maxMissing) {
      const oldest = Math.min(...this.missing.keys());
      this.missing.delete(oldest);
      this.stats.missingDropped++;
    }
    this.missing.set(seq, { hash, announcers: [from], next: 0, grafted: null, fallbacks: [] });
    return 'arm';
  }

  /**
   * A payload of a later block came from `from` while `seq` is still missing: its relayer forwarded `seq` before
   * (or lost it too), so it counts as an announcer of `seq` — the loss of a payload needs no announcement.
   */
  onGap(from: string, seq: number, now: number): IHaveOutcome {
    return this.onIHave(from, seq, null, now);
  }

  /** The graft timer of `seq` fired. A graft names whom to ask; null: nothing to do (it arrived meanwhile). */
  onTimer(seq: number, now: number): TimerOutcome {
    const m = this.missing.get(seq);
    if (!m) return null;
    if (m.grafted !== null && !m.fallbacks.includes(m.grafted)) this.failed(m.grafted, now);
    m.grafted = null;
    while (m.next < m.announcers.length) {
      const id = m.announcers[m.next++]!;
      if (this.skipped(id, now)) continue;
      return this.graft(m, id);
    }
    // Every announcer failed (crashed since, or lost the graft): ask links that did not announce, which by
    // now have the block too unless the tree around them broke (at most maxAnnouncers of them).
    if (m.fallbacks.length < this.s.maxAnnouncers) {
      const id = [...this.eager(), ...this.lazy()].find((x) => !m.announcers.includes(x) && !m.fallbacks.includes(x) && !this.skipped(x, now));
      if (id !== undefined) {
        m.fallbacks.push(id);
        return this.graft(m, id);
      }
    }
    this.missing.delete(seq);
    this.stats.gaveUp++;
    return { giveUp: true };
  }

  private graft(m: Missing, id: string): TimerOutcome {
    m.grafted = id;
    // One lost payload is repaired by fetching it alone; two in a row mean the tree is broken above us.
    const eager = this.repairStreak >= 1;
    if (eager) this.setEager(id, true);
    this.stats.grafts++;
    return { graft: id, eager };
  }

  private failed(id: string, now: number): void {
    this.stats.failures++;
    const h = this.health.get(id) ?? { failures: 0, skipUntil: 0 };
    h.failures++;
    if (h.failures >= this.s.skipAfter) {
      h.skipUntil = now + this.s.skipFor;
      h.failures = 0;
    }
    this.health.set(id, h);
  }

  /**
   * `seq` arrived: its payload from `from`, or (null) by another path. True when it answers a graft to `from`
   * (a repair): such a copy does not make its sender eager, and it is announced rather than pushed on.
   */
  received(seq: number, from: string | null): boolean {
    const m = this.missing.get(seq);
    const repaired = m !== undefined && from !== null && m.grafted === from;
    if (from !== null) this.repairStreak = repaired ? this.repairStreak + 1 : 0;
    if (!m) return false;
    if (repaired) this.health.delete(from!);
    this.missing.delete(seq);
    return repaired;
  }

  /** The hash announced for a missing block (to check what a graft brings), if any. */
  announcedHash(seq: number): Uint8Array | null {
    return this.missing.get(seq)?.hash ?? null;
  }

  /** Forget missing blocks below `height` (committed meanwhile by some path). */
  committedBelow(height: number): void {
    for (const seq of this.missing.keys()) if (seq < height) this.missing.delete(seq);
  }

  isMissing(seq: number): boolean {
    return this.missing.has(seq);
  }

  get missingCount(): number {
    return this.missing.size;
  }

  skipped(id: string, now: number): boolean {
    const h = this.health.get(id);
    return !!h && h.skipUntil > now;
  }
}
