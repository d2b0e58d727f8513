// Tree dissemination for one channel (murmur; `peer.gossip.murmur.dissemination: tree`): Plumtree's eager and
// lazy links (machines/plumtree.logic.ts) bound to the bus, the block store and the channel view.
//   originate(block from the orderer): seal DataMsg once → block store → eager links; announce on lazy links
//   DataMsg (inbox): the push intake rule (block-intake.ts acceptData); first copy → forward the ORIGINAL
//     envelope to eager links but its relayer and originator, announce on lazy links; a duplicate that the tree
//     brought twice → prune its relayer
//   ihave: signed by a same-org channel peer; blocks missing and inside the payload buffer's window only
//   a payload past a gap: its relayer is taken as an announcer of the missing blocks (graft after the timeout)
//   graft: signed by a same-org channel peer; asked blocks the store holds sent (≤ 32), the link made eager
//     when the graft says so; an empty graft asks only for the link and is acknowledged with an empty ihave
//   announcements batch for maxPropagationBurstLatency (or maxPropagationBurstSize blocks): one signature per
//     batch, the same sealed bytes to every lazy link
// The relayer of a DataMsg is the transport's unauthenticated `via`: it only steers links (a lie costs a
// prune or an extra copy, never a block); ihave, graft and prune are signed like every message.
import { Subscription } from 'rxjs';
import type { BlockAnnouncement, DataMsg, GraftMsg, IHaveMsg, PruneMsg, Verified } from '../runtime/wire/messages.ts';
import { seal } from '../runtime/wire/envelope.ts';
import { TimerGroup } from '../runtime/timers.ts';
import { blockHash, type Block } from '../runtime/ledger/block.ts';
import type { VerifiedBlock } from '../runtime/ledger/verified-block.ts';
import { PlumTree, type TreeSettings } from '../machines/plumtree.logic.ts';
import { RequesterLimits } from '../machines/rate-limit.logic.ts';
import { originatorOf, type BlockIntake } from './block-intake.ts';
import { fromHex } from '../runtime/util/bytes.ts';

/** What the tree consumes of its channel (BlockIntake is the adapter). */
export type TreeChannel = Pick<BlockIntake, 'acceptData' | 'channel' | 'clock' | 'codec' | 'envelopeOf' | 'inbound' | 'known' | 'ledger' | 'mspId' | 'orgPeers' | 'remember' | 'replyWhenProven' | 'rng' | 'sealer' | 'signer' | 'stateInfo' | 'transport'>;

export interface TreeOptions extends TreeSettings {
  maxPropagationBurstLatency: number;
  maxPropagationBurstSize: number;
  blockBufferSize: number;
  /** Grafts (and link requests) served per requester per second, bursts of twice that; default 100. */
  graftsPerSecond?: number;
}

/** murmur's defaults for the tree (peer.gossip.murmur.tree.*), beside Fabric's burst settings. */
export const TREE_DEFAULTS: TreeSettings = { fanout: 3, maxLinks: 12, graftTimeout: 50, maxAnnouncers: 4, maxMissing: 256, skipAfter: 3, skipFor: 30_000 };

const MAX_SERVED_PER_GRAFT = 32;
const SEEN_BY_TREE = 4096;
const SYNC_EVERY_MS = 1000;
/** The refresh timer once every link is confirmed: the view's changes refresh at once, so the timer only
 * catches what no event announces (a skipped peer's time running out). */
const QUIET_SYNC_MS = 4000;
const SILENT_LINK_BLOCKS = 8;

export class TreeDisseminator {
  readonly tree: PlumTree;
  readonly stats = { originated: 0, forwarded: 0, payloadSends: 0, ihaveSent: 0, graftsSent: 0, graftsServed: 0, blocksServed: 0, prunesSent: 0, hashMismatches: 0 };
  private timers: TimerGroup;
  private sub: Subscription | null = null;
  private pending: BlockAnnouncement[] = [];
  private armed = false;
  /** Seqs whose first copy came by the tree: only their duplicates prune (a copy racing pull or state does not). */
  private readonly seenByTree = new Set<number>();
  private endpointOf = new Map<string, string>();
  private idOf = new Map<string, string>();
  private lastSync = -Infinity;
  private readonly graftLimits: RequesterLimits;

  constructor(
    private readonly intake: TreeChannel,
    private readonly o: TreeOptions,
  ) {
    this.tree = new PlumTree(o);
    this.timers = new TimerGroup(intake.clock);
    this.graftLimits = new RequesterLimits(o.graftsPerSecond ?? 100);
  }

  start(): void {
    const { inbound, channel, ledger } = this.intake;
    this.timers = new TimerGroup(this.intake.clock);
    this.sub = new Subscription();
    this.sub.add(inbound.onChannel('data', channel, (m, via) => this.onData(m, via)));
    this.sub.add(inbound.onChannel('ihave', channel, (m) => this.onIHave(m)));
    this.sub.add(inbound.onChannel('graft', channel, (m) => this.onGraft(m)));
    this.sub.add(inbound.onChannel('prune', channel, (m) => this.onPrune(m)));
    this.sub.add(ledger.commits$.subscribe(() => this.tree.committedBelow(ledger.height())));
    // A peer nobody has linked to yet hears nothing: it opens its own links as the view fills, at once when the
    // view changes (a StateInfo or a membership event) and on a timer that asks unconfirmed links again.
    this.sub.add(this.intake.stateInfo.changes$.subscribe(() => this.refresh(true)));
    this.loop();
  }

  /** Every second while a link is unconfirmed (or none exists), every QUIET_SYNC_MS otherwise: an idle peer
   * with a settled tree does not wake each second for nothing (issue 25). */
  private loop(): void {
    const settled = this.tree.size > 0 && this.tree.unconfirmed().length === 0;
    this.timers.later(settled ? QUIET_SYNC_MS : SYNC_EVERY_MS, () => {
      this.refresh(true);
      this.loop();
    });
  }

  stop(): void {
    this.sub?.unsubscribe();
    this.sub = null;
    this.timers.clear();
    this.armed = false;
    this.pending = [];
  }

  /** Links and counters for /metrics. */
  figures(): { eagerLinks: number; lazyLinks: number; missing: number; counters: Record<string, number> } {
    const { grafts: _g, prunes: _p, ...logic } = this.tree.stats;
    return { eagerLinks: this.tree.eager().length, lazyLinks: this.tree.lazy().length, missing: this.tree.missingCount, counters: { ...this.stats, ...logic } };
  }

  /** A block this peer committed from the ordering service: sign it once, send it down the tree. */
  originate(block: VerifiedBlock, bytes: Uint8Array): void {
    const msg: DataMsg = { t: 'data', ch: this.intake.channel, seq: block.number, block: bytes };
    const envelope = seal(msg, this.intake.signer);
    this.intake.remember(block, envelope);
    this.stats.originated++;
    this.remember(block.number);
    this.spread(block, msg, envelope, null);
  }

  private onData(m: Verified<DataMsg>, via: string | null): void {
    this.refresh();
    const seq = m.payload.seq;
    const from = via ? (this.idOf.get(via) ?? null) : null;
    const r = this.intake.acceptData(m);
    if (r.kind === 'duplicate') {
      if (from && this.seenByTree.has(seq) && this.tree.onPayload(from, false).prune) this.send(from, { t: 'prune', ch: this.intake.channel });
      return;
    }
    if (r.kind !== 'admitted') return;
    const announced = this.tree.announcedHash(seq);
    if (announced && from && !equal(announced, blockHash(r.block))) this.stats.hashMismatches++;
    const repaired = this.tree.received(seq, from);
    if (!repaired) this.tree.onPayload(from, true);
    this.remember(seq);
    this.stats.forwarded++;
    // A signed copy is relayed as it came; a tagged one under this peer's own tags, naming the originator.
    const originator = originatorOf(m);
    const data: DataMsg = { ...m.payload, o: fromHex(originator) };
    this.spread(r.block, data, m.tagged ? null : m.bytes, from, originator, repaired);
    if (from) {
      this.tree.heardSeq(from, seq);
      this.graftGap(from, seq);
    }
  }

  /** Blocks between the ledger height and `seq` that nobody announced: ask the relayer of `seq` for them. */
  private graftGap(from: string, seq: number): void {
    const h = this.intake.ledger.height();
    const now = this.intake.clock.now();
    for (let s = Math.max(h, seq - this.o.blockBufferSize); s < seq; s++)
      if (!this.intake.known(s, false) && !this.tree.isMissing(s) && this.tree.onGap(from, s, now) === 'arm') this.armGraft(s);
  }

  /**
   * Payload to eager links (but whoever already has it), announcement queued for the lazy ones. A repaired
   * block is only announced, to the eager links too: below a lost payload the subtree repairs itself in
   * parallel, and pushing it late would hand those peers duplicates that prune their tree links.
   */
  private spread(block: Block, data: DataMsg, signed: Uint8Array | null, from: string | null, originator: string | null = null, repaired = false): void {
    this.refresh();
    const via = this.intake.transport.endpoint;
    const announcement = { seq: block.number, hash: blockHash(block) };
    const eager = this.tree.eager(from).filter((id) => id !== originator);
    if (repaired && eager.length) {
      const env = this.intake.sealer.each({ t: 'ihave', ch: this.intake.channel, blocks: [announcement] });
      for (const id of eager) if (this.sendSealed(id, env(id))) this.stats.ihaveSent++;
    } else {
      // A tag per eager link, or the signed envelope for one without a key (signed once if it was not yet).
      const envelope = this.intake.sealer.each(data, signed);
      for (const id of eager) {
        const to = this.endpointOf.get(id);
        if (to && this.intake.transport.send(to, envelope(id), { via })) this.stats.payloadSends++;
      }
    }
    this.pending.push(announcement);
    if (this.pending.length >= this.o.maxPropagationBurstSize) this.flush();
    else if (!this.armed) {
      this.armed = true;
      this.timers.later(this.o.maxPropagationBurstLatency, () => {
        this.armed = false;
        this.flush();
      });
    }
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const lazy = this.tree.lazy();
    const blocks = this.pending;
    this.pending = [];
    if (lazy.length === 0) return;
    // One payload, a tag per lazy link (or one signature for those without a key).
    const env = this.intake.sealer.each({ t: 'ihave', ch: this.intake.channel, blocks });
    for (const id of lazy) if (this.sendSealed(id, env(id))) this.stats.ihaveSent++;
  }

  private onIHave(m: Verified<IHaveMsg>): void {
    if (!this.member(m, m.payload.blocks.length === 0)) return;
    this.tree.heard(m.signer.pkiIdHex);
    const { ledger, clock } = this.intake;
    const h = ledger.height();
    for (const a of m.payload.blocks) {
      this.tree.heardSeq(m.signer.pkiIdHex, a.seq);
      if (a.seq < h || a.seq >= h + this.o.blockBufferSize || this.intake.known(a.seq, false)) continue;
      if (this.tree.onIHave(m.signer.pkiIdHex, a.seq, a.hash, clock.now()) === 'arm') this.armGraft(a.seq);
    }
  }

  private armGraft(seq: number): void {
    this.timers.later(this.o.graftTimeout, () => {
      if (this.intake.known(seq, false)) return this.tree.received(seq, null);
      const r = this.tree.onTimer(seq, this.intake.clock.now());
      if (r && 'graft' in r) {
        this.send(r.graft, { t: 'graft', ch: this.intake.channel, seqs: [seq], eager: r.eager });
        this.stats.graftsSent++;
        this.armGraft(seq);
      }
    });
  }

  private onGraft(m: Verified<GraftMsg>): void {
    if (!this.member(m, m.payload.seqs.length === 0)) return;
    const id = m.signer.pkiIdHex;
    if (!this.graftLimits.take(id, this.intake.clock.now())) return void this.intake.codec.rejections.count('tree-graft-rate');
    const linked = m.payload.seqs.length === 0 ? this.tree.onLinkRequest(id) : m.payload.eager ? this.tree.onGraft(id) : true;
    if (m.payload.seqs.length === 0) {
      // A link request: acknowledge with an empty announcement, so the opener stops asking (an eager link
      // toward a child carries nothing back). Full: no answer, and the opener picks another peer.
      if (linked) this.sendSealed(id, this.intake.sealer.to(id, { t: 'ihave', ch: this.intake.channel, blocks: [] }));
      return;
    }
    if (!this.endpointOf.has(id)) return;
    // Blocks go only to an inbox the grafter proved it receives on (after a probe's answer if need be).
    this.intake.replyWhenProven(id, (to) => {
      this.stats.graftsServed++;
      const via = this.intake.transport.endpoint;
      // Each block once, however often the graft lists it: a graft must not amplify.
      for (const seq of [...new Set(m.payload.seqs)].slice(0, MAX_SERVED_PER_GRAFT)) {
        const envelope = this.intake.envelopeOf(seq);
        if (envelope && this.intake.transport.send(to, envelope, { via })) this.stats.blocksServed++;
      }
    });
  }

  private onPrune(m: Verified<PruneMsg>): void {
    if (this.member(m)) this.tree.onPrune(m.signer.pkiIdHex);
  }

  /**
   * Tree messages count only from same-org peers of the channel view. `linkOnly` (a link request or its
   * acknowledgement): a same-org peer whose StateInfo has not reached us yet is dropped uncounted, since
   * the opener asks again; that race is every start's, not a fault.
   */
  private member(m: Verified, linkOnly = false): boolean {
    const { codec } = this.intake;
    if (m.signer.mspId !== this.intake.mspId) {
      codec.rejections.count('tree-foreign-org');
      return false;
    }
    this.refresh();
    if (!this.endpointOf.has(m.signer.pkiIdHex)) {
      if (!linkOnly) codec.rejections.count('tree-not-in-channel');
      return false;
    }
    return true;
  }

  /** Links follow the channel view; an out-link is told with an empty graft (until it answers) so it links back. */
  private refresh(force = false): void {
    const now = this.intake.clock.now();
    // Per message (data, tree control) at most four times a second; the timer and view changes always.
    if (!force && now - this.lastSync < SYNC_EVERY_MS / 4 && this.tree.size > 0) return;
    this.lastSync = now;
    this.endpointOf = new Map();
    this.idOf = new Map();
    for (const p of this.intake.orgPeers()) {
      const ep = p.internalEndpoint ?? (p.endpoint || null);
      if (!ep) continue;
      this.endpointOf.set(p.pkiIdHex, ep);
      this.idOf.set(ep, p.pkiIdHex);
    }
    this.tree.sync([...this.endpointOf.keys()], (xs, k) => this.intake.rng.sample(xs, k));
    this.tree.reconfirmSilent(SILENT_LINK_BLOCKS);
    for (const id of this.tree.asks()) this.send(id, { t: 'graft', ch: this.intake.channel, seqs: [], eager: true });
  }

  private send(id: string, msg: GraftMsg | PruneMsg): void {
    if (this.sendSealed(id, this.intake.sealer.to(id, msg)) && msg.t === 'prune') this.stats.prunesSent++;
  }

  private sendSealed(id: string, envelope: Uint8Array): boolean {
    const to = this.endpointOf.get(id);
    return !!to && this.intake.transport.send(to, envelope);
  }

  private remember(seq: number): void {
    this.seenByTree.add(seq);
    if (this.seenByTree.size > SEEN_BY_TREE) this.seenByTree.delete(this.seenByTree.values().next().value!);
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
