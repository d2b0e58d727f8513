// What push, pull and state transfer of one channel share: the channel's context, the gossip block store
// (machines/message-store.logic.ts), the channel's commit queue, and the intake rule every gossiped block goes
// through:
//   known(seq)  — cheap, first: below the ledger height, waiting in the queue, or refused by the block store
//                 (same seq held, or older than its window) → a duplicate, dropped before any crypto
//   check(...)  — then decode + number + dataHash + orderer signature (+ link to the predecessor when known),
//                 by the ledger's verifier: the block's one signature check on this peer → VerifiedBlock
//   admit(...)  — then store (push, pull) and offer to the commit queue
import { Subject } from 'rxjs';
import type { Transport } from '../runtime/transport/transport.ts';
import type { InboundPort } from './inbound-router.ts';
import type { DataMsg, Verified } from '../runtime/wire/messages.ts';
import type { WireCodec } from '../runtime/wire/codec.ts';
import type { LocalSigner } from '../runtime/crypto/signer.ts';
import type { Clock } from '../runtime/clock.ts';
import type { Rng } from '../runtime/rng.ts';
import type { Ledger } from '../runtime/ledger/ledger.ts';
import type { Block } from '../runtime/ledger/block.ts';
import type { VerifiedBlock } from '../runtime/ledger/verified-block.ts';
import type { PushMode, PushResult } from '../machines/payload-buffer.logic.ts';
import { blockStore, type MessageStore, type StoredBlock } from '../machines/message-store.logic.ts';
import type { ChannelPeer, Membership, StateInfoTracker } from './stateinfo-tracker.ts';
import type { BlockSource, CommitQueue } from './commit-queue.ts';
import { checkBlockBytes, type BlockCheckResult } from './block-check.ts';
import { isStraggler } from '../machines/state-transfer.logic.ts';
import type { PeerIO } from './peer-io.ts';
import type { Sealer } from '../runtime/wire/sealer.ts';
import { toHex } from '../runtime/util/bytes.ts';

/** Proven reply inboxes (actors/session.actor.ts): what a peer answered a signed probe through. */
export interface InboxProofs {
  /** `send` once the peer has proven it receives on `inbox` (now, or after a probe's answer); else `refuse`. */
  whenProven(pkiIdHex: string, inbox: string, send: () => void, refuse: () => void): void;
}

/** The channel view the gossip parts read (StateInfo implements it): its peers with heights, and its changes. */
export type ChannelView = Pick<StateInfoTracker, 'channelPeers' | 'changes$'>;

export interface GossipChannelContext extends PeerIO {
  channel: string;
  /** MSP ids of the channel's orgs (its config). */
  orgs: string[];
  ledger: Ledger;
  /** The channel's one commit queue (shared with the deliver actor). */
  queue: CommitQueue;
  stateInfo: ChannelView;
  discovery: Pick<Membership, 'endpointFor'>;
  /** Inboxes peers have proven they receive on (the session actor); bulk replies go only there. */
  sessions: InboxProofs;
  /** Seals what this channel's parts send: tagged for one recipient with a pairwise key, else signed. */
  sealer: Sealer;
  /** Gets blocks only from other peers (election on, or not a static leader): straggler warnings apply. */
  dependsOnOthers?: boolean;
  /** `murmur` (default) or Fabric's stock behaviour. */
  profile?: 'murmur' | 'fabric';
}

export interface IntakeSettings {
  maxBlockCountToStore: number;
  pullInterval: number;
  stateEnabled?: boolean;
}

/** A block in the gossip window: its original envelope, the verified block, and how it first came. */
export interface GossipBlock extends StoredBlock {
  block: VerifiedBlock;
  source: GossipSource;
  /** The block's bytes while it has no signed envelope (it came tagged): envelopeOf signs one from them. */
  unsigned?: Uint8Array | null;
}

export type GossipSource = Exclude<BlockSource, 'orderer'>;

/** One copy of a block that gossip brought (push or tree, a pull update item, a state response block). */
export interface BlockCopy {
  seq: number;
  source: GossipSource;
}

/**
 * One channel's intake, and the channel as its gossip parts see it: each part (block-pusher.ts,
 * block-puller.ts, tree-disseminator.ts, state-server.ts, state-transfer-link.ts) declares the few members it
 * consumes as its own port type, and this class is the one adapter that implements them all.
 */
export class BlockIntake {
  readonly store: MessageStore<GossipBlock>;
  readonly queue: CommitQueue;
  readonly channel: string;
  readonly orgs: string[];
  readonly transport: Transport;
  readonly inbound: InboundPort;
  readonly codec: WireCodec;
  readonly signer: LocalSigner;
  readonly sealer: Sealer;
  readonly clock: Clock;
  readonly rng: Rng;
  readonly ledger: Ledger;
  readonly stateInfo: ChannelView;
  readonly profile: 'murmur' | 'fabric';
  duplicates = 0;
  /** Fabric's straggler warnings (state/TestStraggler): far behind with no way to catch up alone. */
  stragglerWarnings = 0;
  /** Every copy of a block from my org's gossip, before any dedupe (status `blocks` copies; nothing decodes twice). */
  readonly copies$ = new Subject<BlockCopy>();
  /** A gossiped block `seq` from `originator` arrived beyond the ledger height (there may be a gap). */
  readonly ahead$ = new Subject<{ originator: string; seq: number }>();

  constructor(
    private readonly ctx: GossipChannelContext,
    private readonly s: IntakeSettings,
  ) {
    this.store = blockStore<GossipBlock>({ maxBlockCountToStore: s.maxBlockCountToStore, pullInterval: s.pullInterval });
    this.queue = ctx.queue;
    this.channel = ctx.channel;
    this.orgs = ctx.orgs;
    this.transport = ctx.transport;
    this.inbound = ctx.inbound;
    this.codec = ctx.codec;
    this.signer = ctx.signer;
    this.sealer = ctx.sealer;
    this.clock = ctx.clock;
    this.rng = ctx.rng;
    this.ledger = ctx.ledger;
    this.stateInfo = ctx.stateInfo;
    this.profile = ctx.profile ?? 'murmur';
  }

  /** The commit queue is full (state transfer waits, as Fabric's blocking buffer does). */
  get queueFull$() {
    return this.queue.full$;
  }

  /** Keeps a block this peer originated or forwarded in the gossip window, with its envelope. */
  remember(block: VerifiedBlock, envelope: Uint8Array): void {
    this.store.add({ seq: block.number, envelope, block, source: 'push' }, this.clock.now());
  }

  /**
   * A signed envelope of block `seq` from the gossip window: the one it came in, or, for a block that came
   * tagged, one this peer signs the first time it is asked (a graft or a pull serves it to a third peer).
   */
  envelopeOf(seq: number): Uint8Array | null {
    const b = this.store.find((x) => x.seq === seq);
    if (!b) return null;
    if (!b.envelope && b.unsigned) {
      b.envelope = this.sealer.sign({ t: 'data', ch: this.channel, seq, block: b.unsigned });
      b.unsigned = null;
    }
    return b.envelope;
  }

  /** Block numbers the gossip window holds (the pull digest). */
  storedSeqs(): number[] {
    return this.store.items().map((b) => b.seq);
  }

  /** Drops what has outlived the gossip window. */
  expireStored(): void {
    this.store.expire(this.clock.now());
  }

  /** The ledger refused a block: drop its gossip copy too, so a genuine copy can take its place. */
  forget(seq: number): void {
    this.store.remove((b) => b.seq === seq);
  }

  get mspId(): string {
    return this.ctx.signer.identity.mspId;
  }

  /** Same-org peers of the channel view (where blocks and pull messages may go). */
  orgPeers(): ChannelPeer[] {
    return this.ctx.stateInfo.channelPeers().filter((p) => p.mspId === this.mspId);
  }

  /** Where to reach a peer: its internal endpoint inside the org, its external one across orgs. */
  endpointOf(pkiIdHex: string): string | null {
    return this.ctx.discovery.endpointFor(pkiIdHex);
  }

  /**
   * A bulk reply (blocks served for a graft, a pull request or a state request) goes to the requester's
   * endpoint only once it has proven it receives there (answered a signed probe sent there): at once when it
   * has, after the probe's answer when not, never when nobody answers (counted `reply-unproven`). Declaring
   * someone else's endpoint earns nothing. False when the requester is unknown.
   */
  replyWhenProven(pkiIdHex: string, send: (to: string) => void): boolean {
    const to = this.endpointOf(pkiIdHex);
    if (!to) return false;
    this.ctx.sessions.whenProven(pkiIdHex, to, () => send(to), () => this.ctx.codec.rejections.count('reply-unproven'));
    return true;
  }

  /** Already committed, buffered, or refused by the block store's window: nothing to verify. */
  known(seq: number, withStore = true): boolean {
    return seq < this.ctx.ledger.height() || this.queue.holds(seq) || (withStore && !this.store.checkValid({ seq, envelope: EMPTY, block: NO_BLOCK, source: 'push' }));
  }

  /** The verified block the gossip window holds for `seq` (it may wait there beyond the queue's window). */
  stored(seq: number): VerifiedBlock | null {
    return this.store.find((b) => b.seq === seq)?.block ?? null;
  }

  /** Full check; the predecessor's hash is used when the ledger tip or the buffer has it. Counts refusals. */
  check(seq: number, bytes: Uint8Array): BlockCheckResult {
    const h = this.ctx.ledger.height();
    const prev = seq === h ? this.ctx.ledger.tipHash() : seq > h ? this.queue.hashOf(seq - 1) : null;
    const r = checkBlockBytes(bytes, seq, this.ctx.ledger, prev);
    if (!r.ok) this.ctx.codec.rejections.count(r.reason);
    return r;
  }

  /**
   * Stores a gossiped block's envelope (when it has one, or its bytes when it came tagged) and offers the
   * block to the commit queue.
   */
  admit(seq: number, block: VerifiedBlock, envelope: Uint8Array | null, source: GossipSource, mode: PushMode, unsigned: Uint8Array | null = null): PushResult {
    if (envelope || unsigned) this.store.add({ seq, envelope, block, source, unsigned }, this.ctx.clock.now());
    const r = this.queue.offer(block, source, mode);
    if (r === 'duplicate') this.duplicates++;
    if (r === 'too-far-ahead') {
      const height = this.ctx.ledger.height();
      const dependsOnOthers = this.ctx.dependsOnOthers ?? true;
      if (isStraggler({ stateEnabled: this.s.stateEnabled ?? true, useLeaderElection: dependsOnOthers, orgLeader: !dependsOnOthers, seq, height })) this.stragglerWarnings++;
    }
    return r;
  }

  /**
   * Admits a checked data message's block: the window keeps its envelope if it was signed, else (tagged) its
   * bytes, so no tagged envelope is ever stored or served to a third peer.
   */
  admitData(m: Verified<DataMsg>, block: VerifiedBlock, source: GossipSource): PushResult {
    return m.tagged ? this.admit(m.payload.seq, block, null, source, 'non-blocking', m.payload.block) : this.admit(m.payload.seq, block, m.bytes, source, 'non-blocking');
  }

  /**
   * The rule every pushed DataMsg goes through, push or tree: own copies ignored; another org's refused (blocks
   * never cross orgs); known → duplicate before any crypto; then checked, stored and offered to the commit queue.
   */
  acceptData(m: Verified<DataMsg>): DataOutcome {
    const originator = originatorOf(m);
    if (m.signer.pkiIdHex === this.ctx.signer.identity.pkiIdHex || originator === this.ctx.signer.identity.pkiIdHex) return { kind: 'own' };
    if (m.signer.mspId !== this.mspId) {
      this.ctx.codec.rejections.count('foreign-block');
      return { kind: 'foreign' };
    }
    const seq = m.payload.seq;
    this.copies$.next({ seq, source: 'push' });
    if (this.known(seq)) {
      this.duplicates++;
      return { kind: 'duplicate' };
    }
    const r = this.check(seq, m.payload.block);
    if (!r.ok) return { kind: 'refused' };
    this.admitData(m, r.block, 'push');
    // The originator committed this block from the orderer, so it holds every block before it.
    if (seq > this.ctx.ledger.height()) this.ahead$.next({ originator, seq });
    return { kind: 'admitted', block: r.block };
  }

  /**
   * murmur: blocks the window holds but the buffer turned away as too far ahead are offered again once the
   * ledger has moved (Fabric leaves them to state transfer; the store would refuse every later copy).
   */
  reoffer(): void {
    const h = this.ctx.ledger.height();
    for (const b of this.store.items()) if (b.seq >= h && !this.queue.holds(b.seq)) this.queue.offer(b.block, b.source, 'non-blocking');
  }
}

export type DataOutcome = { kind: 'own' | 'foreign' | 'duplicate' | 'refused' } | { kind: 'admitted'; block: VerifiedBlock };

const EMPTY = new Uint8Array(0);
// A probe for the store's window check only; never committed (the cast is why the brand is not trusted).
const NO_BLOCK = { number: -1, previousHash: EMPTY, dataHash: EMPTY, data: [], signature: EMPTY } as Block as VerifiedBlock;

/** Who originated a data message: its signer, or for a tagged relay the originator it names (a hint). */
export function originatorOf(m: Verified<DataMsg>): string {
  return m.tagged && m.payload.o ? toHex(m.payload.o) : m.signer.pkiIdHex;
}
