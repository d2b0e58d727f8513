// Fabric's message store (gossip/gossip/msgstore, digest §4.6) and the block store built on it.
//
//   add(new, now):  for each stored old: policy(new, old)
//                     'invalidated'  → refuse new (nothing changes)
//                     'invalidates'  → old is removed (onEvict)
//                     'unrelated'    → both stay
//                   store new with created = now
//   checkValid(new): would add accept it? (expired-but-retained items still count)  — cheap, before any verify
//   expire(now):    items older than ttl are flagged expired (hidden from get/size/items, onExpire once);
//                   items older than 2 × ttl are removed for good.  (Fabric sweeps every ttl/100; the caller
//                   decides how often — the store has no clock.)
//
// Block policy (maxBlockCountToStore = N): same seq → new refused; |Δseq| ≤ N → unrelated; else the older
// block loses (new older → refused, new newer → evicts old). So the store is a sliding window of the newest
// ~N+1 blocks: at most N+1 seqs are ever held at once, however many blocks arrive.
export type Relation = 'invalidated' | 'invalidates' | 'unrelated';

/** How a new item relates to a stored one (Fabric's MessageReplacingPolicy). */
export type ReplacingPolicy<T> = (incoming: T, stored: T) => Relation;

interface Entry<T> {
  item: T;
  created: number;
  expired: boolean;
}

export interface MessageStoreOptions<T> {
  policy: ReplacingPolicy<T>;
  /** Items older than this are expired (ms); Infinity keeps them until replaced. */
  ttl: number;
  /** Hard bound on stored items (oldest removed first); the policy normally keeps it far lower. */
  maxItems?: number;
  onEvict?: (item: T) => void;
  onExpire?: (item: T) => void;
}

export class MessageStore<T> {
  private entries: Entry<T>[] = [];
  private readonly maxItems: number;

  constructor(private readonly o: MessageStoreOptions<T>) {
    this.maxItems = o.maxItems ?? 10_000;
  }

  /** Would `add` accept this item? */
  checkValid(item: T): boolean {
    return !this.entries.some((e) => this.o.policy(item, e.item) === 'invalidated');
  }

  /** Adds unless an existing item invalidates it; removes the items it invalidates. */
  add(item: T, now: number): boolean {
    if (!this.checkValid(item)) return false;
    const keep: Entry<T>[] = [];
    for (const e of this.entries) {
      if (this.o.policy(item, e.item) === 'invalidates') this.o.onEvict?.(e.item);
      else keep.push(e);
    }
    keep.push({ item, created: now, expired: false });
    while (keep.length > this.maxItems) {
      const oldest = keep.shift()!;
      this.o.onEvict?.(oldest.item);
    }
    this.entries = keep;
    return true;
  }

  /** Flags and removes old items (see the header). */
  expire(now: number): void {
    const keep: Entry<T>[] = [];
    for (const e of this.entries) {
      const age = now - e.created;
      if (age > 2 * this.o.ttl) continue;
      if (age > this.o.ttl && !e.expired) {
        e.expired = true;
        this.o.onExpire?.(e.item);
      }
      keep.push(e);
    }
    this.entries = keep;
  }

  /** Live (not expired) items, oldest first. */
  items(): T[] {
    return this.entries.filter((e) => !e.expired).map((e) => e.item);
  }

  find(pred: (item: T) => boolean): T | undefined {
    return this.entries.find((e) => !e.expired && pred(e.item))?.item;
  }

  /** Removes every item matching `pred` (no callbacks). */
  remove(pred: (item: T) => boolean): number {
    const before = this.entries.length;
    this.entries = this.entries.filter((e) => !pred(e.item));
    return before - this.entries.length;
  }

  get size(): number {
    return this.entries.reduce((n, e) => n + (e.expired ? 0 : 1), 0);
  }
}

/** Fabric's block replacing policy over sequence numbers. */
export function blockPolicy<T extends { seq: number }>(maxBlockCountToStore: number): ReplacingPolicy<T> {
  return (incoming, stored) => {
    if (incoming.seq === stored.seq) return 'invalidated';
    if (Math.abs(incoming.seq - stored.seq) <= maxBlockCountToStore) return 'unrelated';
    return incoming.seq > stored.seq ? 'invalidates' : 'invalidated';
  };
}

/** A block as the gossip layer keeps it: its number and the signed envelope that carried it. */
export interface StoredBlock {
  seq: number;
  /** The DataMsg envelope exactly as its originator signed it (forwarded and served unchanged); null when the
   * block came tagged (a pairwise key's tag convinces no one else), until the keeper signs one to serve it. */
  envelope: Uint8Array | null;
}

/** The per-channel block window: Fabric's block store with TTL = pullInterval × 100. */
export function blockStore<T extends StoredBlock = StoredBlock>(o: { maxBlockCountToStore: number; pullInterval: number; onEvict?: (b: T) => void }): MessageStore<T> {
  return new MessageStore<T>({
    policy: blockPolicy(o.maxBlockCountToStore),
    ttl: o.pullInterval * 100,
    // The policy bounds the window to N+1 seqs; this is a second fence.
    maxItems: o.maxBlockCountToStore + 1,
    onEvict: o.onEvict,
  });
}
