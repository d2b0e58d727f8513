// What a simulation run measured, and its text form. Collected without touching any peer's path:
//   messages by kind     network.taps (every accepted send/publish: count and bytes)
//   copies per block     network.deliveryTaps: block copies delivered to peers (data: 1, pull update: its block
//                        items, state response: its blocks), per ordered block
//   block latency        simulated time from the orderer appending a block (its feed event) to each peer's
//                        commit of it (ledger commits$), over every (peer, block) pair
//   leader changes       times a peer started leading a channel (ElectionBinding.leading$ false → true)
//   rejections           every honest peer's codec rejections by reason, plus its ledgers' (prefix ledger:)
import type { Subscription } from 'rxjs';
import type { Harness } from './harness.ts';
import { classify } from './kinds.ts';

export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface Summary {
  seed: string;
  orgs: number;
  peersPerOrg: number;
  channels: number;
  faults: string;
  profile: string;
  /** Simulated ms: end of the safety phase, liveness convergence (null if never), end of run. */
  safetyEndMs: number;
  convergedAtMs: number | null;
  endMs: number;
  blocks: { ordered: Record<string, number>; minHeight: number; maxHeight: number; dissemination: boolean };
  messages: Record<string, { count: number; bytes: number }>;
  network: { sent: number; delivered: number; lost: number; duplicated: number; partitioned: number; undeliverable: number };
  copiesPerBlock: number | null;
  copiesPerBlockPerPeer: number | null;
  latencyMs: Percentiles | null;
  leaderChanges: number;
  rejections: Record<string, number>;
  faultsInjected: Record<string, number>;
  attacks: Record<string, number> | null;
  /** Byzantine runs: forged envelopes sent, decoded by honest peers, accepted (the invariant: 0). */
  forgeries: { sent: number; decoded: number; accepted: number } | null;
  skew: { peer: string; offsetMs: number; rate: number } | null;
  invariantChecks: number;
  traceDigest: string;
}

export function percentiles(xs: number[]): Percentiles | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
  return { count: s.length, p50: q(0.5), p90: q(0.9), p99: q(0.99), max: s.at(-1)! };
}

export class Stats {
  readonly messages: Record<string, { count: number; bytes: number }> = {};
  blockCopies = 0;
  leaderChanges = 0;
  readonly latencies: number[] = [];
  private readonly appendedAt = new Map<string, number[]>();
  private readonly committed = new Set<string>();
  private readonly ledgers = new WeakSet<object>();
  private readonly bindings = new WeakSet<object>();
  private readonly subs: Subscription[] = [];
  private readonly kinds = new WeakMap<Uint8Array, number>();
  private readonly uninstall: (() => void)[] = [];

  constructor(
    private readonly h: Harness,
    private readonly channels: string[],
    private readonly honest: string[],
    private readonly ordererLatencyMs: number,
    /** Told every time a peer starts or stops leading a channel (--verbose). */
    private readonly onLeadership?: (id: string, channel: string, leading: boolean) => void,
  ) {}

  install(): void {
    const tap = (_from: string, _subject: string, bytes: Uint8Array) => {
      const k = classify(bytes);
      const kind = k.kind ?? 'junk';
      const m = (this.messages[kind] ??= { count: 0, bytes: 0 });
      m.count++;
      m.bytes += bytes.byteLength;
    };
    const honest = new Set(this.honest);
    const delivery = (from: string, to: string, _subject: string, bytes: Uint8Array) => {
      if (!honest.has(from) || !honest.has(to)) return;
      let n = this.kinds.get(bytes);
      if (n === undefined) this.kinds.set(bytes, (n = classify(bytes).blocks));
      this.blockCopies += n;
    };
    this.h.network.taps.add(tap);
    this.h.network.deliveryTaps.add(delivery);
    this.uninstall.push(() => this.h.network.taps.delete(tap), () => this.h.network.deliveryTaps.delete(delivery));
    for (const ch of this.channels) {
      const times: number[] = [];
      this.appendedAt.set(ch, times);
      this.subs.push(
        this.h.ordering.blocks(ch, this.h.ordering.height(ch)).subscribe({
          next: (e) => {
            if (e.type === 'block') times[e.block.number] = this.h.clock.now() - this.ordererLatencyMs;
          },
          error: () => {},
        }),
      );
    }
  }

  /** Picks up ledgers and election bindings of peers (re)started since the last step. */
  observe(): void {
    for (const id of this.honest) {
      const peer = this.h.peers.get(id)!.peer;
      if (!peer) continue;
      for (const ch of this.channels) {
        const ledger = peer.ledgers.get(ch);
        if (ledger && !this.ledgers.has(ledger)) {
          this.ledgers.add(ledger);
          this.subs.push(
            ledger.commits$.subscribe((c) => {
              const at = this.appendedAt.get(ch)!;
              for (const b of c.blocks) {
                const key = `${id}\u0000${ch}\u0000${b.number}`;
                if (this.committed.has(key) || at[b.number] === undefined) continue;
                this.committed.add(key);
                this.latencies.push(this.h.clock.now() - at[b.number]!);
              }
            }),
          );
        }
        const binding = peer.elections.get(ch);
        if (binding && !this.bindings.has(binding)) {
          this.bindings.add(binding);
          let was = false;
          this.subs.push(
            binding.leading$.subscribe((leading) => {
              if (leading && !was) this.leaderChanges++;
              if (leading !== was) this.onLeadership?.(id, ch, leading);
              was = leading;
            }),
          );
        }
      }
    }
  }

  dispose(): void {
    for (const s of this.subs.splice(0)) s.unsubscribe();
    for (const u of this.uninstall.splice(0)) u();
  }

  rejections(): Record<string, number> {
    const out: Record<string, number> = {};
    const add = (prefix: string, r: Record<string, number>) => {
      for (const [k, v] of Object.entries(r)) out[prefix + k] = (out[prefix + k] ?? 0) + v;
    };
    for (const id of this.honest) {
      const sp = this.h.peers.get(id)!;
      add('', sp.codec.rejections.snapshot());
      for (const ch of this.channels) {
        const l = this.h.ledger(id, ch);
        if (l) add('ledger:', l.rejections.snapshot());
      }
    }
    return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
  }
}

const fmtMs = (ms: number) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);
const kb = (b: number) => (b >= 10_240 ? `${Math.round(b / 1024)} KB` : `${b} B`);

export function formatSummary(s: Summary, extra: { wallMs: number; violation: { name: string; atMs: number; detail: string } | null }): string {
  const lines: string[] = [];
  lines.push(`murmur sim: seed ${s.seed}, ${s.orgs} orgs x ${s.peersPerOrg} peers, ${s.channels} channel(s), faults ${s.faults}, profile ${s.profile}`);
  lines.push(`  time:        safety phase 0–${fmtMs(s.safetyEndMs)}, ${s.convergedAtMs === null ? 'liveness not reached' : `converged at ${fmtMs(s.convergedAtMs)}`}, end ${fmtMs(s.endMs)} (simulated)`);
  const ordered = Object.entries(s.blocks.ordered).map(([c, n]) => `${c} ${n}`).join(', ');
  lines.push(`  blocks:      ordered ${ordered}; peer heights ${s.blocks.minHeight}–${s.blocks.maxHeight}${s.blocks.dissemination ? '' : ' (no dissemination in the harness: only leaders receive blocks)'}`);
  const msgs = Object.entries(s.messages).sort(([, a], [, b]) => b.count - a.count);
  lines.push(`  messages:    ${msgs.map(([k, v]) => `${k} ${v.count} (${kb(v.bytes)})`).join(', ') || 'none'}`);
  lines.push(`  network:     sent ${s.network.sent}, delivered ${s.network.delivered}, lost ${s.network.lost}, duplicated ${s.network.duplicated}, cut by partitions ${s.network.partitioned}`);
  if (s.copiesPerBlock !== null) lines.push(`  copies:      ${s.copiesPerBlock.toFixed(2)} per block, ${s.copiesPerBlockPerPeer!.toFixed(2)} per block per peer`);
  if (s.latencyMs) lines.push(`  latency:     block commit after ordering, p50 ${fmtMs(s.latencyMs.p50)}, p90 ${fmtMs(s.latencyMs.p90)}, p99 ${fmtMs(s.latencyMs.p99)}, max ${fmtMs(s.latencyMs.max)} (${s.latencyMs.count} commits)`);
  lines.push(`  leadership:  ${s.leaderChanges} times a peer started leading`);
  const rej = Object.entries(s.rejections);
  lines.push(`  rejected:    ${rej.map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`);
  const f = Object.entries(s.faultsInjected);
  lines.push(`  fault log:   ${f.map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}${s.skew ? `; ${s.skew.peer} clock off by ${s.skew.offsetMs} ms at rate ${s.skew.rate.toFixed(4)}` : ''}`);
  if (s.attacks) lines.push(`  byzantine:   ${Object.entries(s.attacks).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (s.forgeries) lines.push(`  forgeries:   ${s.forgeries.sent} sent, ${s.forgeries.decoded} decoded by honest peers, ${s.forgeries.accepted} accepted`);
  lines.push(`  invariants:  ${extra.violation ? `VIOLATED: ${extra.violation.name}` : 'all held'} (${s.invariantChecks} checks)`);
  lines.push(`  trace:       ${s.traceDigest}`);
  lines.push(`  speed:       ${(s.endMs / 1000).toFixed(0)} simulated s in ${(extra.wallMs / 1000).toFixed(1)} s (${(s.endMs / Math.max(1, extra.wallMs)).toFixed(1)}x)`);
  return lines.join('\n');
}
