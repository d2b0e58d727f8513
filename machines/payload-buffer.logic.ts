// Fabric's payload buffer (gossip/state/payloads_buffer.go, digest §5.3): the reorder buffer between the
// block sources and the ledger, committing strictly in order.
//
//   next = ledger height
//   push(seq, item, mode):  seq < next or seq held → 'duplicate'
//                           non-blocking (push, pull):   seq − next ≥ blockBufferSize → 'too-far-ahead'
//                           blocking (state transfer):   no window; the producer waits for `hasRoomForBlocking()`
//                                                        (size ≤ 2 × blockBufferSize) before it asks for more
//                           ordered (the leader's orderer feed, consecutive from the height): no window;
//                                                        the feed pauses well before the larger fence
//                           hard fence: size ≥ maxSize (+ orderedCapacity for ordered) → 'full'
//                           else stored
//   ready():    the run of consecutive items from `next` (what the committer takes next)
//   committed(height): drop everything below the new height; next = height
//   discard(seq): drop one item (the ledger refused it), so a genuine copy can take its place
export type PushMode = 'non-blocking' | 'blocking' | 'ordered';
export type PushResult = 'accepted' | 'duplicate' | 'too-far-ahead' | 'full';

export class PayloadBuffer<T> {
  private readonly items = new Map<number, T>();
  private nextSeq: number;
  /** Absolute bound: non-blocking window + blocking high-water mark + the state blocks in flight (`batchSize`:
   * one Fabric batch, or murmur's window × its width). */
  readonly maxSize: number;

  constructor(
    height: number,
    private readonly blockBufferSize: number,
    batchSize = 10,
    /** Extra room for `ordered` pushes (murmur: the orderer's blocks share this buffer). */
    private readonly orderedCapacity = 0,
  ) {
    this.nextSeq = height;
    this.maxSize = 3 * blockBufferSize + batchSize + 1;
  }

  get next(): number {
    return this.nextSeq;
  }

  get size(): number {
    return this.items.size;
  }

  has(seq: number): boolean {
    return this.items.has(seq);
  }

  push(seq: number, item: T, mode: PushMode): PushResult {
    if (seq < this.nextSeq || this.items.has(seq)) return 'duplicate';
    if (mode === 'non-blocking' && seq - this.nextSeq >= this.blockBufferSize) return 'too-far-ahead';
    if (this.items.size >= this.maxSize + (mode === 'ordered' ? this.orderedCapacity : 0)) return 'full';
    this.items.set(seq, item);
    return 'accepted';
  }

  /** A blocking producer may add more (Fabric sleeps while size > 2 × blockBufferSize). */
  hasRoomForBlocking(): boolean {
    return this.items.size <= 2 * this.blockBufferSize;
  }

  /** Consecutive items from `next`, at most `max`, without removing them. */
  ready(max = Infinity): { seq: number; item: T }[] {
    const out: { seq: number; item: T }[] = [];
    for (let s = this.nextSeq; out.length < max && this.items.has(s); s++) out.push({ seq: s, item: this.items.get(s)! });
    return out;
  }

  committed(height: number): void {
    if (height <= this.nextSeq) return;
    for (const s of this.items.keys()) if (s < height) this.items.delete(s);
    this.nextSeq = height;
  }

  discard(seq: number): T | undefined {
    const v = this.items.get(seq);
    this.items.delete(seq);
    return v;
  }
}
