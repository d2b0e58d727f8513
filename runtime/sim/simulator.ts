// The deterministic simulator (TigerBeetle VOPR / madsim style): a whole murmur network in one process on
// the harness (every peer's real actor tree, the in-memory network, the in-process orderer and ledgers, one
// simulated clock), every knob drawn from one seed.
//
//   draw knobs from the seed: link loss/duplication/reordering, transactions per block, block interval,
//     the clock-skewed peer, the byzantine identity, the attack rate
//   start the network (peers at random offsets within 2 s)
//   SAFETY PHASE (until every block was submitted and at least safetyMs passed):
//     every step (100 ms simulated): inject due faults, submit due transactions, advance, check invariants
//   LIVENESS PHASE: faults stop, partitions heal, links become reliable, crashed peers restart, the byzantine
//     peer leaves; within a bound derived from the timers, and then for a hold period, every step:
//       every live peer sees every live peer of its org alive (anchor peers: every live anchor peer), and
//       no stopped peer (the byzantine one) alive
//       every org and channel has exactly one leader, and every live peer of the org names it
//       each leader's ledger reaches the orderer height; when dissemination exists, every live peer's does
//     while the step invariants keep being checked
//   the first violation ends the run: its name, the simulated time, and the command that replays it
// One run is a pure function of its options: `checkDeterminism` runs it twice and compares trace digests.
import { createHash } from 'node:crypto';
import { rngFromSeed } from '../rng.ts';
import { DEFAULT_TIMINGS, Harness } from './harness.ts';
import { drawLink, drawSkew, FAULT_PROFILES, FaultScheduler, SkewedClock, type FaultSet } from './faults.ts';
import { ByzantinePeer } from './byzantine.ts';
import { Invariants, type Violation } from './invariants.ts';
import { formatSummary, percentiles, Stats, type Summary } from './summary.ts';
import { channelNames } from '../crypto/material.ts';
import { makeBlock } from '../ledger/block.ts';
import type { ElectionProfile } from '../../machines/election.machine.ts';

export interface SimOptions {
  orgs: number;
  peers: number;
  blocks: number;
  seed: string;
  faults: FaultSet;
  profile: ElectionProfile;
  channels?: number;
  /** Signing port: 'sim' (cheap, default) or 'real' ed25519 (default for byzantine runs). */
  signer?: 'sim' | 'real';
  /** Shortest safety phase (simulated ms, default 60 s). */
  safetyMs?: number;
  /** Self-test of the checker: plant a violation (a block the orderer's key signed but the ordering service
   * never produced, committed into one ledger), so the run must fail with ledger-not-from-orderer. */
  plant?: 'ledger-fork';
  /** Called with one line per fault injected and per phase change (for --verbose). */
  log?: (line: string) => void;
}

export interface SimViolation extends Violation {
  /** Simulated ms since the start of the run. */
  atMs: number;
  phase: 'startup' | 'safety' | 'liveness';
}

export interface SimReport {
  ok: boolean;
  violation: SimViolation | null;
  /** The command that replays this run. */
  replay: string;
  summary: Summary;
  /** SHA-256 over the network trace and the summary: equal for equal options. */
  digest: string;
  wallMs: number;
  /** Set by simulateTwice: both runs gave this digest. */
  deterministic?: boolean;
}

const STEP_MS = 100;

export function replayCommand(o: SimOptions): string {
  const parts = ['npm run sim --', `--orgs ${o.orgs}`, `--peers ${o.peers}`, `--blocks ${o.blocks}`, `--seed ${o.seed}`, `--faults ${o.faults}`, `--profile ${o.profile}`];
  if ((o.channels ?? 1) !== 1) parts.push(`--channels ${o.channels}`);
  if (o.signer && o.signer !== defaultSigner(o.faults)) parts.push(`--signer ${o.signer}`);
  if (o.safetyMs !== undefined) parts.push(`--safety ${o.safetyMs / 1000}`);
  if (o.plant) parts.push(`--plant ${o.plant}`);
  return parts.join(' ');
}

const defaultSigner = (f: FaultSet): 'sim' | 'real' => (f === 'byzantine' ? 'real' : 'sim');

/** Simulated time the liveness phase may take, from the timers (Fabric's defaults: about 3.5 minutes). */
export function livenessBoundMs(t = DEFAULT_TIMINGS): number {
  return (
    2 * t.aliveExpirationTimeout + // a restarted or healed peer is seen alive again, stale records expire
    2 * t.reconnectInterval + // bootstrap / dead-peer membership requests retried
    t.startupGracePeriod +
    4 * t.leaderAliveThreshold + // followers give up on a dead leader; a second leader steps down
    2 * t.leaderElectionDuration +
    4 * Math.max(t.publishStateInfoInterval, t.requestStateInfoInterval) // the channel view catches up
  );
}

export async function simulate(o: SimOptions): Promise<SimReport> {
  const wall0 = performance.now();
  const profile = FAULT_PROFILES[o.faults];
  const root = rngFromSeed(o.seed).fork('sim');
  const knobs = root.fork('knobs');
  const channels = channelNames(o.channels ?? 1);
  const orgNames = Array.from({ length: o.orgs }, (_, i) => `Org${i + 1}`);
  const ids = orgNames.flatMap((org) => Array.from({ length: o.peers }, (_, i) => `peer${i}.${org.toLowerCase()}`));
  const link = drawLink(profile, knobs);
  const txPerBlock = 1 + knobs.int(4);
  const blockIntervalMs = 500 + knobs.int(3500);
  // The byzantine peer takes the identity of the last peer of the last org (never an anchor peer when the
  // org has two or more peers); it needs a network of at least two peers.
  const attackerId = profile.byzantine && ids.length >= 2 ? ids.at(-1)! : null;
  const honest = ids.filter((id) => id !== attackerId);
  const skew = drawSkew(profile, knobs, honest);
  const log = o.log ?? (() => {});

  const h = await Harness.create({
    orgs: o.orgs,
    peers: o.peers,
    channels: o.channels ?? 1,
    seed: o.seed,
    signer: o.signer ?? defaultSigner(o.faults),
    link,
    startJitterMs: 2000,
    peerOptions: { profile: o.profile },
    orderer: { maxMessageCount: txPerBlock, batchTimeoutMs: 2000 },
    peerClock: skew ? (id, clock) => (id === skew.peer ? new SkewedClock(clock, skew.offsetMs, skew.rate) : clock) : undefined,
  });
  const t0 = h.clock.now();
  const at = () => h.clock.now() - t0;
  let phase: SimViolation['phase'] = 'startup';
  let violation: SimViolation | null = null;
  let attacker: ByzantinePeer | null = null;
  let faults: FaultScheduler | null = null;
  const stats = new Stats(h, channels, honest, 1, (id, ch, leading) => log(`[${fmt(at())}] ${id} ${leading ? 'leads' : 'stops leading'} ${ch}`));
  stats.install();
  let invariants: Invariants | null = null;
  let safetyEnd = 0;
  let convergedAt: number | null = null;
  const fail = (v: Violation) => {
    violation ??= { ...v, atMs: at(), phase };
  };

  try {
    if (attackerId) {
      await h.crash(attackerId);
      attacker = new ByzantinePeer(h, attackerId, root.fork('byzantine'), {
        attackIntervalMs: 200 + knobs.int(800),
        aliveIntervalMs: DEFAULT_TIMINGS.aliveTimeInterval,
        channels,
        honest,
      });
      await attacker.start();
    }
    const total = ids.length;
    invariants = new Invariants(h, {
      channels,
      honest,
      forged: attacker?.forged ?? null,
      attacker: attackerId,
      // Generous bounds: a leak or an amplification loop grows without end and crosses them; normal traffic,
      // duplication and a byzantine flood stay far below.
      bounds: { maxMembers: total, maxInFlight: 5000 + 200 * total * total, maxTimers: 5000 + 500 * total + (5000 + 200 * total * total) },
    });
    invariants.install();
    faults = new FaultScheduler(h, profile, root.fork('faults'), honest, channels, t0, attackerId ? [attackerId] : []);
    phase = 'safety';
    log(`[${fmt(at())}] safety phase: ${o.blocks} blocks of ${txPerBlock} tx every ${blockIntervalMs} ms; link loss ${link.loss.toFixed(3)} dup ${link.duplicate.toFixed(3)} reorder ${link.reorder.toFixed(3)}${skew ? `; ${skew.peer} clock ${skew.offsetMs} ms x${skew.rate.toFixed(4)}` : ''}${attackerId ? `; byzantine ${attackerId}` : ''}`);

    const txRng = root.fork('tx');
    let submitted = 0;
    let nextBlockAt = t0 + 1000;
    const safetyEndAt = t0 + Math.max(o.safetyMs ?? 60_000, 1000 + o.blocks * blockIntervalMs + 5000);
    let logged = 0;
    const step = async (): Promise<boolean> => {
      await h.advance(STEP_MS);
      stats.observe();
      const v = invariants!.check();
      if (v) fail(v);
      for (; logged < faults!.log.length; logged++) {
        const f = faults!.log[logged]!;
        log(`[${fmt(f.atMs)}] ${f.kind} ${f.detail}`);
      }
      return !violation;
    };

    let planted = false;
    while (h.clock.now() < safetyEndAt) {
      await faults.step();
      while (submitted < o.blocks && h.clock.now() >= nextBlockAt) {
        for (const ch of channels)
          for (let i = 0; i < txPerBlock; i++) {
            const r = h.submit(ch, txRng.bytes(16 + txRng.int(240)));
            if (!r.ok) fail({ name: 'orderer-refused', detail: `${ch}: ${JSON.stringify(r)}` });
          }
        submitted++;
        nextBlockAt += blockIntervalMs;
      }
      if (o.plant === 'ledger-fork' && !planted && h.clock.now() - t0 > 10_000) planted = await plantFork(h, honest, channels[0]!);
      if (!(await step())) break;
    }
    safetyEnd = at();

    if (!violation) {
      phase = 'liveness';
      await faults.stop();
      for (; logged < faults.log.length; logged++) log(`[${fmt(faults.log[logged]!.atMs)}] ${faults.log[logged]!.kind} ${faults.log[logged]!.detail}`);
      if (attacker) await attacker.stop();
      log(`[${fmt(at())}] liveness phase: faults stopped, network healed, crashed peers restarted`);
      // Converged = the goals hold continuously for `hold` (a record that is about to expire because of
      // silence before the heal flips once more, so one glimpse is not enough); that must start within `bound`.
      const bound = livenessBoundMs();
      const hold = 3 * DEFAULT_TIMINGS.leaderAliveThreshold;
      const deadline = h.clock.now() + bound;
      let since: number | null = null;
      let why: string | null = 'not checked';
      while (!violation) {
        if (!(await step())) break;
        why = converged(h, honest, channels);
        if (why) {
          since = null;
          if (h.clock.now() >= deadline) break;
        } else {
          since ??= h.clock.now();
          if (h.clock.now() - since >= hold) break;
        }
      }
      if (!violation && why) fail({ name: livenessName(why), detail: `no stable convergence within ${bound / 1000} s of the liveness phase: ${why}` });
      if (!violation && since !== null) {
        convergedAt = since - t0;
        log(`[${fmt(convergedAt)}] converged (held for ${hold / 1000} s)`);
      }
    }
  } catch (e) {
    fail({ name: 'exception', detail: (e as Error).stack ?? String(e) });
  }

  const endMs = at();
  const heights = honest.flatMap((id) => channels.map((ch) => h.ledger(id, ch)?.height() ?? null)).filter((x): x is number => x !== null);
  const ordered = Object.fromEntries(channels.map((ch) => [ch, h.ordering.height(ch) - 1]));
  const blocksOrdered = Object.values(ordered).reduce((a, b) => a + b, 0);
  const summary: Summary = {
    seed: o.seed,
    orgs: o.orgs,
    peersPerOrg: o.peers,
    channels: channels.length,
    faults: o.faults,
    profile: o.profile,
    safetyEndMs: safetyEnd,
    convergedAtMs: convergedAt,
    endMs,
    blocks: { ordered, minHeight: heights.length ? Math.min(...heights) : 0, maxHeight: heights.length ? Math.max(...heights) : 0, dissemination: hasDissemination(h, honest) },
    messages: Object.fromEntries(Object.entries(stats.messages).sort(([a], [b]) => a.localeCompare(b))),
    network: { ...h.network.counters },
    copiesPerBlock: blocksOrdered ? stats.blockCopies / blocksOrdered : null,
    copiesPerBlockPerPeer: blocksOrdered ? stats.blockCopies / blocksOrdered / Math.max(1, honest.length) : null,
    latencyMs: percentiles(stats.latencies),
    leaderChanges: stats.leaderChanges,
    rejections: stats.rejections(),
    faultsInjected: Object.fromEntries(Object.entries(faults?.counts ?? {}).sort(([a], [b]) => a.localeCompare(b))),
    attacks: attacker ? Object.fromEntries(Object.entries(attacker.attacks).sort(([a], [b]) => a.localeCompare(b))) : null,
    forgeries: attacker && invariants ? { sent: attacker.forged.size, ...invariants.forgeries } : null,
    skew,
    invariantChecks: invariants?.checks ?? 0,
    traceDigest: h.traceDigest(),
  };
  stats.dispose();
  invariants?.dispose();
  try {
    if (attacker?.running) await attacker.stop();
    await h.stop();
  } catch (e) {
    fail({ name: 'exception', detail: `stopping the network: ${(e as Error).stack ?? e}` });
  }
  const digest = createHash('sha256').update(JSON.stringify(summary)).update(violation ? JSON.stringify(violation) : '').digest('hex');
  return { ok: !violation, violation, replay: replayCommand(o), summary, digest, wallMs: performance.now() - wall0 };
}

/** Runs the same options twice; a different digest is itself a violation (`nondeterminism`). */
export async function simulateTwice(o: SimOptions): Promise<SimReport> {
  const a = await simulate(o);
  const b = await simulate({ ...o, log: undefined });
  if (a.digest === b.digest) return { ...a, wallMs: a.wallMs + b.wallMs, deterministic: true };
  return {
    ...a,
    ok: false,
    violation: a.violation ?? { name: 'nondeterminism', detail: `two runs of the same seed differ: ${a.summary.traceDigest} vs ${b.summary.traceDigest}`, atMs: a.summary.endMs, phase: 'liveness' },
    wallMs: a.wallMs + b.wallMs,
  };
}

export function formatReport(r: SimReport): string {
  const lines = [formatSummary(r.summary, { wallMs: r.wallMs, violation: r.violation })];
  if (r.deterministic) lines.push(`  determinism: two runs of this seed gave the same digest ${r.digest.slice(0, 16)}…`);
  if (r.violation) {
    lines.push('');
    lines.push(`VIOLATION ${r.violation.name} at ${fmt(r.violation.atMs)} simulated (${r.violation.phase} phase)`);
    lines.push(`  ${r.violation.detail.split('\n').join('\n  ')}`);
    lines.push(`replay: ${r.replay}`);
  }
  return lines.join('\n');
}

function fmt(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function livenessName(why: string): string {
  return `liveness-${why.split(':')[0]}`;
}

/** Dissemination is wired into the peers when their status reports its counters (null until it exists). */
function hasDissemination(h: Harness, honest: string[]): boolean {
  for (const id of honest) {
    const row = h.peers.get(id)?.peer?.status()[0];
    if (row) return row.counters.blocksByPush !== null || row.counters.blocksByPull !== null || row.counters.blocksByStateTransfer !== null;
  }
  return false;
}

/** Null when the liveness goals hold, else the first that does not (`<goal>: <detail>`). */
export function converged(h: Harness, honest: string[], channels: string[]): string | null {
  const live = honest.filter((id) => h.peers.get(id)!.peer);
  const orgOf = (id: string) => h.peers.get(id)!.org;
  // Anchor peers (peer0 of each org) are the ones with an external endpoint in the harness.
  const anchor = (id: string) => id.startsWith('peer0.');
  for (const id of live) {
    const seen = new Set(h.peers.get(id)!.peer!.discovery.aliveMembers().map((m) => m.id));
    const missing = live.filter((q) => q !== id && (orgOf(q) === orgOf(id) || (anchor(id) && anchor(q))) && !seen.has(q));
    if (missing.length) return `membership: ${id} does not see ${missing.join(', ')} alive`;
    const ghosts = [...seen].filter((q) => !h.peers.get(q)?.peer);
    if (ghosts.length) return `membership: ${id} still sees stopped ${ghosts.join(', ')} alive`;
  }
  const dissemination = hasDissemination(h, honest);
  for (const org of [...new Set(live.map(orgOf))]) {
    const members = live.filter((id) => orgOf(id) === org);
    for (const ch of channels) {
      const rows = members.map((id) => ({ id, row: h.peers.get(id)!.peer!.status().find((r) => r.channel === ch)! }));
      const leaders = rows.filter((r) => r.row.role === 'leader').map((r) => r.id);
      if (leaders.length !== 1) return `leader: ${org} ${ch} has ${leaders.length} leaders${leaders.length ? ` (${leaders.join(', ')})` : ''}`;
      const astray = rows.filter((r) => r.row.leaderId !== leaders[0]);
      if (astray.length) return `leader: in ${org} ${ch} ${astray.map((r) => `${r.id} follows ${r.row.leaderId}`).join(', ')} instead of ${leaders[0]}`;
      const top = h.ordering.height(ch);
      const lh = h.ledger(leaders[0]!, ch)?.height() ?? 0;
      if (lh < top) return `leader-height: ${org} ${ch} leader ${leaders[0]} at height ${lh} < orderer ${top}`;
      if (dissemination) {
        const behind = members.filter((id) => (h.ledger(id, ch)?.height() ?? 0) < top);
        if (behind.length) return `height: ${ch} ${behind.map((id) => `${id} at ${h.ledger(id, ch)?.height()}`).join(', ')} < orderer ${top}`;
      }
    }
  }
  return null;
}

/** Commits into one peer's ledger a block the orderer's key signed but the ordering service never produced. */
async function plantFork(h: Harness, honest: string[], ch: string): Promise<boolean> {
  for (const id of honest) {
    const ledger = h.ledger(id, ch);
    if (!ledger) continue;
    const n = ledger.height();
    const block = makeBlock(n, ledger.tipHash(), [new TextEncoder().encode('planted')], (m) => h.ed.sign(h.material.orderer.secret, m));
    const r = await ledger.commit([block]);
    return r.committed.length === 1;
  }
  return false;
}

