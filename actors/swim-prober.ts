// SWIM's probes inside an org (machines/swim.logic.ts has the algorithm): one ping a period to the next member
// of a round-robin order, an indirect probe through a few others when its ack is late, and a report of the
// member whose probe failed. Pings, acks and ping requests are point to point and tagged with the pair's key
// once it is agreed (signed before), so a probe costs no signature here and no verification at the other end.
// An ack is accepted only from the member pinged or a helper asked for it, for the nonce of the probe under
// way; a relayed ping's ack goes back only to the member that asked. Relays waiting for an ack are bounded.
import type { AckMsg, PingMsg, PingReqMsg, Verified } from '../runtime/wire/messages.ts';
import type { Transport } from '../runtime/transport/transport.ts';
import type { Clock } from '../runtime/clock.ts';
import type { Rng } from '../runtime/rng.ts';
import type { Sealer } from '../runtime/wire/sealer.ts';
import { TimerGroup } from '../runtime/timers.ts';
import { Lru } from '../runtime/util/lru.ts';
import { fromHex, toHex } from '../runtime/util/bytes.ts';
import { ProbeOrder, SWIM_INDIRECT, type Probe } from '../machines/swim.logic.ts';
import type { InboundPort } from './inbound-router.ts';

export interface SwimProberDeps {
  transport: Transport;
  inbound: InboundPort;
  clock: Clock;
  rng: Rng;
  sealer: Pick<Sealer, 'to'>;
  /** aliveTimeInterval: one probe per period. */
  period: number;
  /** The org members probed (PKI-ID hex): alive ones of this peer's org, itself excluded. */
  watched(): string[];
  /** Where a member (or a same-org peer not yet in the table) receives, or null. */
  endpointOf(pkiIdHex: string): string | null;
  /** Whether `pkiIdHex` is a peer of this org (who may ping or ask). */
  sameOrg(mspId: string): boolean;
  /** A probe of this member got no ack, direct or indirect, within its period. */
  failed(pkiIdHex: string): void;
  count(reason: string): void;
}

/** Pings sent for another member, waiting for the target's ack, at most. */
const MAX_RELAYS = 256;

export class SwimProber {
  readonly stats = { pings: 0, acks: 0, indirect: 0, failed: 0, checks: 0 };
  private readonly order = new ProbeOrder();
  /** Probes under way by nonce: the period's, and checks of members another peer suspects (one per member). */
  private readonly probes = new Map<number, Probe>();
  private readonly relays = new Lru<number, { to: string; nonce: number; target: string }>(MAX_RELAYS);
  private timers: TimerGroup;
  private subs: (() => void)[] = [];

  constructor(private readonly d: SwimProberDeps) {
    this.timers = new TimerGroup(d.clock);
  }

  start(): void {
    this.timers = new TimerGroup(this.d.clock);
    this.subs.push(
      this.d.inbound.onPeer('ping', (m) => this.onPing(m)),
      this.d.inbound.onPeer('ack', (m) => this.onAck(m)),
      this.d.inbound.onPeer('pingReq', (m) => this.onPingReq(m)),
    );
  }

  stop(): void {
    for (const u of this.subs) u();
    this.subs = [];
    this.timers.clear();
    this.probes.clear();
    this.relays.clear();
  }

  /** One protocol period: probe the next member of the round. */
  tick(): void {
    const target = this.order.next(this.d.watched(), (xs) => this.d.rng.shuffle(xs));
    if (target) this.probe(target);
  }

  /** Probe `target` now, out of turn (another peer suspects it under an alive this peer no longer holds:
   * see for itself), unless a probe of it is under way. */
  check(target: string): void {
    for (const p of this.probes.values()) if (p.target === target) return;
    if (this.probe(target)) this.stats.checks++;
  }

  /** Ping; at half the period, if no ack, ask others to; at the period's end, no ack at all → failed. */
  private probe(target: string): boolean {
    const probe: Probe = { target, nonce: this.d.rng.nonce(), acked: false, helpers: new Set() };
    if (!this.ping(target, probe.nonce)) return false;
    this.probes.set(probe.nonce, probe);
    this.timers.later(Math.max(1, Math.floor(this.d.period / 2)), () => this.indirect(probe));
    this.timers.later(this.d.period, () => {
      this.probes.delete(probe.nonce);
      if (probe.acked) return;
      this.stats.failed++;
      this.d.failed(probe.target);
    });
    return true;
  }

  /** No ack yet at half the period: ask SWIM_INDIRECT other members to ping the target for us. */
  private indirect(probe: Probe): void {
    if (probe.acked || !this.probes.has(probe.nonce)) return;
    const others = this.d.watched().filter((id) => id !== probe.target);
    const target = fromHex(probe.target);
    for (const h of this.d.rng.sample(others, SWIM_INDIRECT)) {
      const e = this.d.endpointOf(h);
      if (!e) continue;
      probe.helpers.add(h);
      this.stats.indirect++;
      this.d.transport.send(e, this.d.sealer.to(h, { t: 'pingReq', nonce: probe.nonce, target } satisfies PingReqMsg));
    }
  }

  private ping(target: string, nonce: number): boolean {
    const e = this.d.endpointOf(target);
    if (!e) return false;
    this.stats.pings++;
    this.d.transport.send(e, this.d.sealer.to(target, { t: 'ping', nonce } satisfies PingMsg));
    return true;
  }

  private reply(to: string, nonce: number): void {
    const e = this.d.endpointOf(to);
    if (!e) return this.d.count('swim-unknown-peer');
    this.d.transport.send(e, this.d.sealer.to(to, { t: 'ack', nonce } satisfies AckMsg));
  }

  private onPing(m: Verified<PingMsg>): void {
    if (!this.d.sameOrg(m.signer.mspId)) return this.d.count('swim-foreign-org');
    this.reply(m.signer.pkiIdHex, m.payload.nonce);
  }

  private onPingReq(m: Verified<PingReqMsg>): void {
    if (!this.d.sameOrg(m.signer.mspId)) return this.d.count('swim-foreign-org');
    const target = toHex(m.payload.target);
    const nonce = this.d.rng.nonce();
    if (!this.d.watched().includes(target) || !this.ping(target, nonce)) return this.d.count('swim-unknown-peer');
    this.relays.set(nonce, { to: m.signer.pkiIdHex, nonce: m.payload.nonce, target });
    // A relay nobody acks is forgotten after a period (the asker has settled its probe by then).
    this.timers.later(this.d.period, () => this.relays.delete(nonce));
  }

  private onAck(m: Verified<AckMsg>): void {
    const from = m.signer.pkiIdHex;
    const p = this.probes.get(m.payload.nonce);
    if (p && (from === p.target || p.helpers.has(from))) {
      if (!p.acked) this.stats.acks++;
      p.acked = true;
      return;
    }
    const r = this.relays.peek(m.payload.nonce);
    if (r && r.target === from) {
      this.relays.delete(m.payload.nonce);
      this.reply(r.to, r.nonce);
      return;
    }
    this.d.count('unsolicited-ack');
  }
}
