// A byzantine peer for the simulator: an extra transport on the in-memory network that holds a real peer
// identity (a valid certificate of its org: a compromised peer) and attacks with it. It never declares
// leadership (the protocol cannot tell a leader that withholds blocks by design); it does everything a
// signature or a block check must stop, and it lies about its height, which the lag rule must shrug off.
//
//   every aliveTimeInterval: its own genuine alive (so it stays a member and receives requests) and a signed
//     StateInfo whose height is a lie picked once per run: 2^53 − 1, negative, or flapping between 2^53 − 1
//     and 1 (the election's lag rule measures against the second-highest height: election.machine.ts)
//   every attackIntervalMs, one of:
//     forge-alive / forge-leadership / forge-stateinfo: a message claiming another peer's PKI-ID, either
//         signed with its own key (signer mismatch) or carrying the victim's certificate with a bad signature;
//         timestamps far in the future, so an accepted forgery would stick
//     tamper:        a captured genuine envelope with one payload byte flipped (signature no longer matches)
//     replay:        a captured genuine envelope sent again as is (alive, StateInfo, leadership, data)
//     future-alive:  its own alive with an incarnation far in the future (valid; must change nothing else)
//     alter-block:   an ordered block with its data, number, link or signature altered, pushed as data and
//                    offered as an unsolicited state response
//     flood:         a burst of junk bytes and junk-but-signed messages at a subject or an inbox
//     announce-lie:  tree announcements (ihave) of the next blocks with made-up hashes, to same-org peers; the
//                    grafts they draw are never answered (it runs no tree: links to it go unanswered too)
//   answers to requests: membership responses padded with forged alive messages and junk, StateInfo
//   snapshots of forged entries, pull digests/updates of junk, state responses of altered blocks.
// Every forged envelope (one whose signature cannot verify for the identity it claims) is recorded by digest:
// the simulator's invariants require that no honest peer ever accepts or forwards one.
import { createHash } from 'node:crypto';
import type { Subscription } from 'rxjs';
import type { Rng } from '../rng.ts';
import { TimerGroup } from '../timers.ts';
import { signerOf } from '../crypto/material.ts';
import type { LocalSigner } from '../crypto/signer.ts';
import { encodeCbor } from '../wire/cbor.ts';
import { encodeEnvelope, parseEnvelope, seal, stripSecret } from '../wire/envelope.ts';
import type { AliveMsg, LeadershipMsg, Payload, StateInfoMsg, Verified } from '../wire/messages.ts';
import type { Inbound } from '../transport/transport.ts';
import type { MemoryTransport } from '../transport/memory.transport.ts';
import { encodeBlock, type Block } from '../ledger/block.ts';
import type { Harness, SimPeer } from './harness.ts';

export const digestOf = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('base64');

const FAR_FUTURE = 10 * 365 * 24 * 3600 * 1000;

export type Attack =
  | 'forge-alive'
  | 'forge-leadership'
  | 'forge-stateinfo'
  | 'tamper'
  | 'replay'
  | 'future-alive'
  | 'alter-block'
  | 'flood'
  | 'announce-lie'
  | 'junk-answer';

const ATTACKS: Attack[] = ['forge-alive', 'forge-leadership', 'forge-stateinfo', 'tamper', 'replay', 'future-alive', 'alter-block', 'flood', 'announce-lie'];

export interface ByzantineOptions {
  attackIntervalMs: number;
  aliveIntervalMs: number;
  channels: string[];
  /** Honest peer ids (victims and targets). */
  honest: string[];
}

export class ByzantinePeer {
  /** Digests of every forged envelope sent (see digestOf). */
  readonly forged = new Set<string>();
  readonly attacks: Record<string, number> = {};
  private transport: MemoryTransport | null = null;
  private readonly signer: LocalSigner;
  private readonly sp: SimPeer;
  private readonly captured: { subject: string; bytes: Uint8Array }[] = [];
  private timers: TimerGroup;
  private sub: Subscription | null = null;
  private incNum = 0;
  private seq = 0;
  private stateSeq = 0;
  private flap = false;
  private heightLie: 'huge' | 'negative' | 'flapping' | null = null;

  constructor(
    private readonly h: Harness,
    readonly id: string,
    private readonly rng: Rng,
    private readonly o: ByzantineOptions,
  ) {
    this.sp = h.peers.get(id)!;
    this.signer = signerOf(this.sp.material, h.ed);
    this.timers = new TimerGroup(h.clock);
  }

  get running(): boolean {
    return this.transport !== null;
  }

  async start(): Promise<void> {
    const s = this.h.network.subjects;
    const t = this.h.network.transport({ endpoint: this.id, decoder: this.sp.codec });
    t.subscribe(s.discoveryOrg(this.sp.mspId));
    t.subscribe(s.discoveryExternal());
    for (const ch of this.o.channels) {
      t.subscribe(s.org(this.sp.mspId, ch));
      t.subscribe(s.channel(ch));
    }
    this.sub = t.inbound$.subscribe((i) => this.onInbound(i));
    await t.start();
    this.transport = t;
    this.incNum = Math.max(this.h.clock.now(), this.incNum + 1);
    this.timers = new TimerGroup(this.h.clock);
    this.timers.every(this.o.aliveIntervalMs, () => this.heartbeat());
    this.timers.every(this.o.attackIntervalMs, () => this.attack(this.rng.pick(ATTACKS)));
    this.heartbeat();
  }

  async stop(): Promise<void> {
    this.timers.clear();
    this.sub?.unsubscribe();
    const t = this.transport;
    this.transport = null;
    await t?.stop();
  }

  private count(a: Attack, n = 1): void {
    this.attacks[a] = (this.attacks[a] ?? 0) + n;
  }

  private forgedEnvelope(bytes: Uint8Array): Uint8Array {
    this.forged.add(digestOf(bytes));
    return bytes;
  }

  private victim(sameOrgOnly = false): SimPeer {
    const pool = this.o.honest.map((id) => this.h.peers.get(id)!).filter((p) => !sameOrgOnly || p.mspId === this.sp.mspId);
    return this.rng.pick(pool.length ? pool : this.o.honest.map((id) => this.h.peers.get(id)!));
  }

  /** A payload that claims `victim`, made to look like it: signed by us (signer mismatch) or carrying the
   * victim's certificate and PKI-ID with our signature (bad signature). */
  private forge(payload: Payload, victim: SimPeer, secret?: string): Uint8Array {
    if (this.rng.chance(0.5)) return this.forgedEnvelope(seal(payload, this.signer, secret ? { secret: { internalEndpoint: secret } } : {}));
    const vs = signerOf(victim.material, this.h.ed);
    const p = encodeCbor(payload);
    const sp = secret ? encodeCbor({ internalEndpoint: secret }) : null;
    return this.forgedEnvelope(
      encodeEnvelope({
        payload: p,
        signature: this.signer.sign(p),
        signer: vs.identity.pkiId,
        cert: vs.identity.cert,
        secret: sp ? { payload: sp, signature: this.signer.sign(sp) } : null,
      }),
    );
  }

  private ownAlive(incNum = this.incNum): Uint8Array {
    const msg: AliveMsg = { t: 'alive', member: { endpoint: '', pkiId: this.signer.identity.pkiId, metadata: new Uint8Array() }, ts: { incNum, seqNum: ++this.seq } };
    return seal(msg, this.signer, { secret: { internalEndpoint: this.id } });
  }

  private heartbeat(): void {
    const t = this.transport;
    if (!t) return;
    const s = this.h.network.subjects;
    t.publish(s.discoveryOrg(this.sp.mspId), this.ownAlive());
    for (const ch of this.o.channels) {
      const msg: StateInfoMsg = {
        t: 'stateInfo',
        ch,
        pkiId: this.signer.identity.pkiId,
        ts: { incNum: this.incNum, seqNum: Math.max(this.h.clock.now(), ++this.stateSeq) },
        props: { height: this.claimedHeight(), leftChannel: false },
      };
      this.stateSeq = msg.ts.seqNum;
      t.publish(s.org(this.sp.mspId, ch), seal(msg, this.signer));
    }
  }

  /** The height it advertises, by the lie this run picked: huge, negative, or flapping between 2^53 − 1 and 1. */
  private claimedHeight(): number {
    this.heightLie ??= this.rng.pick(['huge', 'negative', 'flapping'] as const);
    if (this.heightLie === 'huge') return Number.MAX_SAFE_INTEGER;
    if (this.heightLie === 'negative') return -5;
    return (this.flap = !this.flap) ? Number.MAX_SAFE_INTEGER : 1;
  }

  private capture(subject: string, bytes: Uint8Array): void {
    this.captured.push({ subject, bytes });
    if (this.captured.length > 256) this.captured.splice(0, this.captured.length - 256);
  }

  private altered(): { channel: string; block: Block } | null {
    const ch = this.rng.pick(this.o.channels);
    const height = this.h.ordering.height(ch);
    const n = height > 1 ? 1 + this.rng.int(height - 1) : 0;
    const b = this.h.ordering.block(ch, n);
    if (!b) return null;
    const junk = this.rng.bytes(32);
    switch (this.rng.int(4)) {
      case 0:
        return { channel: ch, block: { ...b, data: [...b.data, junk] } };
      case 1:
        return { channel: ch, block: { ...b, number: height } };
      case 2:
        return { channel: ch, block: { ...b, previousHash: junk } };
      default:
        return { channel: ch, block: { ...b, signature: this.rng.bytes(64) } };
    }
  }

  private attack(kind: Attack): void {
    const t = this.transport;
    if (!t) return;
    const s = this.h.network.subjects;
    const now = this.h.clock.now();
    switch (kind) {
      case 'forge-alive': {
        const v = this.victim();
        const msg: AliveMsg = { t: 'alive', member: { endpoint: v.id, pkiId: v.pkiId, metadata: new Uint8Array() }, ts: { incNum: now + FAR_FUTURE, seqNum: 1 } };
        t.publish(s.discoveryOrg(v.mspId), this.forge(msg, v, v.id));
        break;
      }
      case 'forge-leadership': {
        const v = this.victim(true);
        const ch = this.rng.pick(this.o.channels);
        const msg: LeadershipMsg = { t: 'leadership', ch, pkiId: v.pkiId, ts: { incNum: now + FAR_FUTURE, seqNum: 1 }, declaration: true };
        t.publish(s.org(v.mspId, ch), this.forge(msg, v));
        break;
      }
      case 'forge-stateinfo': {
        const v = this.victim();
        const ch = this.rng.pick(this.o.channels);
        const msg: StateInfoMsg = { t: 'stateInfo', ch, pkiId: v.pkiId, ts: { incNum: now + FAR_FUTURE, seqNum: 1 }, props: { height: 1_000_000, leftChannel: false } };
        t.publish(s.org(v.mspId, ch), this.forge(msg, v));
        break;
      }
      case 'tamper': {
        if (!this.captured.length) return;
        const c = this.rng.pick(this.captured);
        const env = parseEnvelope(c.bytes);
        if (!env.ok) return;
        // A copy: the decoder's byte strings are views into the received buffer, which on the in-memory
        // network is the one copy every receiver of that publish shares.
        const payload = new Uint8Array(env.env.payload);
        payload[this.rng.int(payload.length)]! ^= 1 + this.rng.int(255);
        t.publish(c.subject, this.forgedEnvelope(encodeEnvelope({ ...env.env, payload })));
        break;
      }
      case 'replay': {
        if (!this.captured.length) return;
        const n = 1 + this.rng.int(5);
        for (let i = 0; i < n; i++) {
          const c = this.rng.pick(this.captured);
          t.publish(c.subject, c.bytes);
        }
        this.count('replay', n - 1);
        break;
      }
      case 'future-alive':
        t.publish(s.discoveryOrg(this.sp.mspId), this.ownAlive(now + FAR_FUTURE));
        break;
      case 'alter-block': {
        const a = this.altered();
        if (!a) return;
        const bytes = encodeBlock(a.block);
        const data = seal({ t: 'data', ch: a.channel, seq: a.block.number, block: bytes }, this.signer);
        for (const v of this.rng.sample(this.o.honest.filter((id) => this.h.peers.get(id)!.mspId === this.sp.mspId), 3)) t.send(v, data);
        t.publish(s.org(this.sp.mspId, a.channel), data);
        const res = seal({ t: 'stateRes', ch: a.channel, nonce: this.rng.nonce(), blocks: [{ seq: a.block.number, block: bytes }] }, this.signer);
        t.send(this.victim(true).id, res);
        break;
      }
      case 'announce-lie': {
        const ch = this.rng.pick(this.o.channels);
        const n = this.h.ordering.height(ch);
        const blocks = [0, 1, 2].map((k) => ({ seq: n + k, hash: this.rng.bytes(32) }));
        const msg = seal({ t: 'ihave', ch, blocks }, this.signer);
        for (const v of this.rng.sample(this.o.honest.filter((id) => this.h.peers.get(id)!.mspId === this.sp.mspId), 3)) t.send(v, msg);
        break;
      }
      case 'flood': {
        const n = 20 + this.rng.int(150);
        const target = this.rng.chance(0.5) ? s.discoveryOrg(this.sp.mspId) : s.inbox(this.victim().id);
        for (let i = 0; i < n; i++) {
          const junk = this.rng.chance(0.5)
            ? this.rng.bytes(1 + this.rng.int(600))
            : seal({ t: 'hello', ch: this.rng.pick(this.o.channels), nonce: this.rng.nonce(), kind: 'block' }, this.signer);
          t.publish(target, junk);
        }
        this.count('flood', n - 1);
        break;
      }
      case 'junk-answer':
        break;
    }
    this.count(kind);
  }

  /** Captures genuine traffic for replays and answers every request with junk. */
  private onInbound(i: Inbound): void {
    const t = this.transport;
    const m = i.msg as Verified;
    if (m.signer.pkiIdHex === this.sp.pkiIdHex) return;
    if (!i.subject.includes('.inbox.')) this.capture(i.subject, m.bytes);
    if (!t) return;
    const to = m.signer.subject; // in the simulation a peer's endpoint is its id
    const p = m.payload;
    const junk = () => this.rng.bytes(8 + this.rng.int(200));
    switch (p.t) {
      case 'memReq': {
        const v = this.victim();
        const forged: AliveMsg = { t: 'alive', member: { endpoint: v.id, pkiId: v.pkiId, metadata: new Uint8Array() }, ts: { incNum: this.h.clock.now() + FAR_FUTURE, seqNum: 1 } };
        const f = this.forge(forged, v, v.id);
        const forgedStripped = m.signer.mspId === this.sp.mspId ? f : this.forgedEnvelope(stripSecret(f));
        t.send(to, seal({ t: 'memRes', nonce: p.nonce, alive: [this.ownAlive(), forgedStripped, junk()], dead: [forgedStripped] }, this.signer));
        break;
      }
      case 'stateInfoPullReq': {
        const v = this.victim();
        const forged: StateInfoMsg = { t: 'stateInfo', ch: p.ch, pkiId: v.pkiId, ts: { incNum: this.h.clock.now() + FAR_FUTURE, seqNum: 1 }, props: { height: 1_000_000, leftChannel: false } };
        t.send(to, seal({ t: 'stateInfoSnapshot', ch: p.ch, nonce: p.nonce, elements: [this.forge(forged, v), junk()] }, this.signer));
        break;
      }
      case 'hello':
        t.send(to, seal({ t: 'digest', ch: p.ch, nonce: p.nonce, kind: p.kind, digests: ['1', '999999', 'x'] }, this.signer));
        break;
      case 'request': {
        const a = this.altered();
        const items = a ? [seal({ t: 'data', ch: p.ch, seq: a.block.number, block: encodeBlock(a.block) }, this.signer)] : [];
        t.send(to, seal({ t: 'update', ch: p.ch, nonce: p.nonce, kind: p.kind, items: [...items, junk()] }, this.signer));
        break;
      }
      case 'stateReq': {
        const a = this.altered();
        const blocks = a ? [{ seq: p.start, block: encodeBlock({ ...a.block, number: p.start }) }] : [];
        t.send(to, seal({ t: 'stateRes', ch: p.ch, nonce: p.nonce, blocks }, this.signer));
        break;
      }
      default:
        return;
    }
    this.count('junk-answer');
  }
}
