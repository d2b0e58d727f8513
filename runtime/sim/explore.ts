// Explicit-state model check of leader election at system level: three peers of one org, each the pure
// election machine (machines/election.machine.ts, driven with xstate's pure `initialTransition`/`transition`,
// no actors, no clock), exchanging proposals and declarations over an adversarial network. Peers a < b < c
// by PKI-ID start together, each with the other two in its channel view (equal heights unless `heights`).
// Figures (link capacity 1, complete): murmur 822 320 states, fabric 1 612 720 (`npm run sim:explore`).
//
//   global state  = the three machine snapshots
//                 + the messages in flight, per directed link X→Y, as a FIFO queue of P(roposal)/D(eclaration)
//                 + the timers each peer has armed (tracked from the machine's own delayed raises and cancels)
//   transitions   = deliver the head of one link's queue | lose the head of one link's queue
//                 | fire one armed timer of one peer (any timer, in any order: no timing assumption at all)
//   explore       = breadth-first over every interleaving, deduplicated by a canonical key, until no new state
//                   (or until `maxDepth` transitions from the start)
//
// Why per-link FIFO queues cover every reordering: the election binding (actors/election-binding.ts) drops a
// leadership message that is not newer than the last one seen from its sender, so a receiver only ever acts
// on an increasing subsequence of what a sender sent, which is what a FIFO link that may lose messages
// delivers. Losing only the head is enough for the same reason (a message lost later has the same effect).
// Bound: a link holds at most `linkCapacity` messages; a send on a full link drops the oldest (a real loss,
// so every explored behaviour is a behaviour of the real system; what the bound leaves out is behaviours
// with more messages in flight on one link). With no depth bound the state space is explored entirely.
//
// Properties, checked on every reachable state S:
//   SAFETY (quiescent agreement): settle(S) has at most one leader, where settle = deliver every message in
//     flight (and every message that causes) without loss; then twice: fire the declare timer of every peer
//     that leads and deliver everything again. No other timer fires, so nobody proposes: this is "all
//     messages delivered, and the follower threshold passes without new proposals" (a leader declares every
//     threshold/2, so twice within one threshold). Delivery that never quiesces (peers answering each other
//     forever) also counts as a violation. (The explored states themselves do reach 2 and 3 leaders:
//     with no timing assumption a follower may time out while its leader's declaration is in flight.)
//   LIVENESS, two forms:
//     recovery: from S, deliver everything, then let time run with Fabric's timer ratios (sample 1, grace 15,
//       election 5, declare 5, follower 10, yield 60) and every message delivered at once: within 500 events
//       exactly one peer leads and the other two follow it. This is convergence once the network behaves.
//     reachability (complete explorations only): from S some path of the explored graph reaches a state
//       with exactly one leader that both others follow (backward reachability from those states).
//   LAG (heights option): a peer more than maxLeaderLag behind never becomes leader (murmur profile).
//   TIMER HYGIENE: the timers a peer has armed are exactly those its state implies (startup: sample and grace;
//     electing: election wait; leading: declare; following: follower; plus yield while yielding), so no stale
//     timeout fires in the wrong state and no state waits for a timer nobody armed.
// settle(S) = settle(deliverAll(S)) and recovery(S) = recovery(deliverAll(S)), and deliverAll(S) is itself
// reachable and quiescent, so both are evaluated on quiescent states only (memoized), which covers every S.
import { initialTransition, transition } from 'xstate';
import { electionMachine, type ElectionEvent, type ElectionProfile } from '../../machines/election.machine.ts';

type Snap = ReturnType<typeof transition<typeof electionMachine>>[0];

export interface ExploreOptions {
  profile: ElectionProfile;
  /** Messages in flight per directed link at most (a send on a full link drops the oldest). */
  linkCapacity: number;
  /** Transitions from the initial state at most (default: none, explore everything). */
  maxDepth?: number;
  /** Stop past this many states (the result says `complete: false`). */
  maxStates?: number;
  /** The machine to check (default the election machine; tests pass broken variants made with `provide`). */
  machine?: typeof electionMachine;
  /** Ledger heights of a, b, c as every peer sees them (default all 1). With [1, 100, 100] the preferred
   * peer a lags more than maxLeaderLag (10) behind, which exercises murmur's lag rule. */
  heights?: [number, number, number];
}

export interface ExploreResult {
  profile: ElectionProfile;
  heights: [number, number, number];
  linkCapacity: number;
  maxDepth: number | null;
  states: number;
  transitions: number;
  /** Deepest BFS level reached. */
  depth: number;
  /** Every reachable state was expanded (no depth or state bound cut the search). */
  complete: boolean;
  /** Quiescent states (nothing in flight) among the reachable ones. */
  quiescent: number;
  safetyViolations: string[];
  recoveryViolations: string[];
  /** Only evaluated when `complete`. */
  reachabilityViolations: string[] | null;
  timerViolations: string[];
  /** Most leaders at once in any reachable state (before settling). */
  maxLeadersSeen: number;
  /** Longest recovery (events) among quiescent states. */
  maxRecoveryEvents: number;
  ms: number;
}

const IDS = ['a', 'b', 'c'] as const; // PKI-ID order: a is preferred over b over c.
const N = IDS.length;
const LINKS: [number, number][] = [];
for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) if (i !== j) LINKS.push([i, j]);
const LINK_OF = (from: number, to: number) => LINKS.findIndex(([f, t]) => f === from && t === to);

/** Timer ids of machines/election.machine.ts, the event each raises, and its duration in recovery runs. */
const TIMERS = [
  { id: 'election.sample', event: 'timeout.sample', dur: 1 },
  { id: 'election.grace', event: 'timeout.grace', dur: 15 },
  { id: 'election.wait', event: 'timeout.election', dur: 5 },
  { id: 'election.declare', event: 'timeout.declare', dur: 5 },
  { id: 'election.follower', event: 'timeout.follower', dur: 10 },
  { id: 'election.yield', event: 'timeout.yield', dur: 60 },
] as const;
const TIMER_BIT = new Map<string, number>(TIMERS.map((t, i) => [t.id, i]));
const DECLARE = TIMER_BIT.get('election.declare')!;
const TIMER_EVENT_BASE = 2 * N;

type Msg = 'P' | 'D';

/** One peer's machine after an event, interned. */
interface Step {
  next: number;
  sends: string;
  /** Timer bits whose last operation in the step was a raise / a cancel. */
  armed: number;
  cleared: number;
}

interface Global {
  /** Interned local state per peer. */
  peers: number[];
  /** Armed timers per peer (bit i = TIMERS[i]). */
  timers: number[];
  /** In-flight messages per link, oldest first. */
  links: string[];
}

/** Interned machine snapshots and memoized pure transitions of the three machines. */
class Locals {
  constructor(private readonly machine: typeof electionMachine) {}
  readonly snaps: Snap[] = [];
  /** Per interned state: leads, follows (index of the followed peer, -1 if not following), expected timers. */
  readonly leads: boolean[] = [];
  readonly follows: number[] = [];
  readonly expected: number[] = [];
  private readonly ids = new Map<string, number>();
  private readonly memo = new Map<number, Step>();

  intern(s: Snap): number {
    const c = s.context;
    // Every context field that can change a decision (input fields are constant per peer and `self` names it).
    const k = JSON.stringify([c.self, s.value, c.isLeader, c.leaderExists, c.leaderId, [...c.proposals].sort(), c.lastSample, c.viewSize, c.yielding, c.ownHeight, c.heights]);
    let id = this.ids.get(k);
    if (id === undefined) {
      id = this.snaps.length;
      this.ids.set(k, id);
      this.snaps.push(s);
      this.leads.push(c.isLeader);
      this.follows.push(s.matches({ dynamic: 'following' }) ? IDS.indexOf(c.leaderId as (typeof IDS)[number]) : -1);
      this.expected.push(expectedTimers(s));
    }
    return id;
  }

  /** Event codes: 0..N-1 proposal from i, N..2N-1 declaration from i, 2N+b timer b. */
  step(local: number, code: number): Step {
    const k = local * 64 + code;
    let st = this.memo.get(k);
    if (!st) {
      const event: ElectionEvent =
        code < N ? { type: 'proposal.received', from: IDS[code]! } : code < 2 * N ? { type: 'declaration.received', from: IDS[code - N]! } : ({ type: TIMERS[code - TIMER_EVENT_BASE]!.event } as ElectionEvent);
      st = this.raw(this.snaps[local]!, event);
      this.memo.set(k, st);
    }
    return st;
  }

  raw(s: Snap, event: ElectionEvent): Step {
    const [next, actions] = transition(this.machine, s, event);
    return { next: this.intern(next), ...summarize(actions as never) };
  }
}

function summarize(actions: readonly { type: string; params?: unknown }[]): Omit<Step, 'next'> {
  let sends = '';
  let armed = 0;
  let cleared = 0;
  for (const a of actions) {
    const p = (a.params ?? {}) as { event?: { type: string }; id?: string; delay?: number; sendId?: string };
    if (a.type === 'xstate.emit') {
      if (p.event?.type === 'send.proposal') sends += 'P';
      else if (p.event?.type === 'send.declaration') sends += 'D';
    } else if (a.type === 'xstate.raise' && p.delay !== undefined && p.id) {
      const b = TIMER_BIT.get(p.id);
      if (b === undefined) throw new Error(`explore: unknown timer ${p.id}`);
      armed |= 1 << b;
      cleared &= ~(1 << b);
    } else if (a.type === 'xstate.cancel' && p.sendId) {
      const b = TIMER_BIT.get(p.sendId);
      if (b === undefined) throw new Error(`explore: unknown timer ${p.sendId}`);
      cleared |= 1 << b;
      armed &= ~(1 << b);
    }
  }
  return { sends, armed, cleared };
}

/** The timers a machine state implies (TIMER HYGIENE). */
function expectedTimers(s: Snap): number {
  let m = 0;
  const bit = (id: string) => (m |= 1 << TIMER_BIT.get(id)!);
  if (s.matches({ dynamic: 'startup' })) bit('election.grace'), bit('election.sample');
  if (s.matches({ dynamic: 'electing' })) bit('election.wait');
  if (s.matches({ dynamic: 'leading' })) bit('election.declare');
  if (s.matches({ dynamic: 'following' })) bit('election.follower');
  if (s.context.yielding) bit('election.yield');
  return m;
}

const keyOf = (g: Global) => String.fromCharCode(...g.peers, ...g.timers) + g.links.join('/');
const quiet = (g: Global) => g.links.every((q) => q.length === 0);

class System {
  readonly locals: Locals;
  constructor(
    readonly profile: ElectionProfile,
    readonly capacity: number,
    readonly machine: typeof electionMachine,
    readonly heights: [number, number, number],
  ) {
    this.locals = new Locals(machine);
  }

  isLeader(g: Global, i: number): boolean {
    return this.locals.leads[g.peers[i]!]!;
  }
  leaders(g: Global): number {
    let n = 0;
    for (let i = 0; i < N; i++) if (this.isLeader(g, i)) n++;
    return n;
  }

  /** Exactly one leader, and both others follow it. */
  isGoal(g: Global): boolean {
    let leader = -1;
    for (let i = 0; i < N; i++)
      if (this.isLeader(g, i)) {
        if (leader >= 0) return false;
        leader = i;
      }
    if (leader < 0) return false;
    for (let i = 0; i < N; i++) {
      if (i === leader) continue;
      if (this.locals.follows[g.peers[i]!] !== leader) return false;
    }
    return true;
  }

  initial(): Global {
    const g: Global = { peers: [], timers: [], links: LINKS.map(() => '') };
    const sends: string[] = [];
    for (let i = 0; i < N; i++) {
      const [s0, a0] = initialTransition(this.machine, {
        self: IDS[i]!,
        mode: 'dynamic',
        profile: this.profile,
        // Values do not matter here: timers fire as explorer transitions (or by TIMERS[].dur in recovery).
        timings: { startupGracePeriod: 15, membershipSampleInterval: 1, leaderAliveThreshold: 10, leaderElectionDuration: 5 },
        maxLeaderLag: 10,
      });
      let st: Omit<Step, 'next'> = summarize(a0 as never);
      let timers = st.armed;
      let out = st.sends;
      let local = this.locals.intern(s0);
      // The binding pushes the view (the two other peers, all at one height) as soon as it starts.
      const others = Object.fromEntries(IDS.map((o, j) => [o, this.heights[j]!]).filter((_, j) => j !== i));
      for (const e of [{ type: 'view.changed', size: N - 1 }, { type: 'heights.changed', own: this.heights[i]!, peers: others }] as ElectionEvent[]) {
        const s = this.locals.raw(this.locals.snaps[local]!, e);
        local = s.next;
        timers = (timers & ~s.cleared) | s.armed;
        out += s.sends;
      }
      g.peers.push(local);
      g.timers.push(timers);
      sends.push(out);
    }
    sends.forEach((s, i) => this.send(g, i, s));
    return g;
  }

  private send(g: Global, from: number, sends: string): void {
    if (!sends) return;
    for (let to = 0; to < N; to++) {
      if (to === from) continue;
      const l = LINK_OF(from, to);
      let q = g.links[l]! + sends;
      if (q.length > this.capacity) q = q.slice(q.length - this.capacity);
      g.links[l] = q;
    }
  }

  private clone(g: Global): Global {
    return { peers: g.peers.slice(), timers: g.timers.slice(), links: g.links.slice() };
  }

  /** Applies event `code` to peer i in place; returns the step (for recovery's timer bookkeeping). */
  private apply(g: Global, i: number, code: number): Step {
    const st = this.locals.step(g.peers[i]!, code);
    g.peers[i] = st.next;
    g.timers[i] = (g.timers[i]! & ~st.cleared) | st.armed;
    this.send(g, i, st.sends);
    return st;
  }

  deliver(g: Global, l: number, onStep?: (i: number, st: Step) => void): Global {
    const n = this.clone(g);
    const m = n.links[l]![0] as Msg;
    n.links[l] = n.links[l]!.slice(1);
    const [from, to] = LINKS[l]!;
    const st = this.apply(n, to, m === 'P' ? from : N + from);
    onStep?.(to, st);
    return n;
  }

  lose(g: Global, l: number): Global {
    const n = this.clone(g);
    n.links[l] = n.links[l]!.slice(1);
    return n;
  }

  fire(g: Global, i: number, bit: number, onStep?: (i: number, st: Step) => void): Global {
    const n = this.clone(g);
    n.timers[i] = n.timers[i]! & ~(1 << bit);
    const st = this.apply(n, i, TIMER_EVENT_BASE + bit);
    onStep?.(i, st);
    return n;
  }

  successors(g: Global): Global[] {
    const out: Global[] = [];
    for (let l = 0; l < LINKS.length; l++) if (g.links[l]!.length) out.push(this.deliver(g, l), this.lose(g, l));
    for (let i = 0; i < N; i++) for (let b = 0; b < TIMERS.length; b++) if (g.timers[i]! & (1 << b)) out.push(this.fire(g, i, b));
    return out;
  }

  /** Delivers everything in flight and what that causes, without loss (lowest link first, FIFO); null when
   * that never ends (a message storm: peers answering each other forever). */
  deliverAll(g: Global, onStep?: (i: number, st: Step) => void): Global | null {
    let cur = g;
    for (let steps = 0; ; steps++) {
      if (steps > 1000) return null;
      const l = cur.links.findIndex((q) => q.length > 0);
      if (l < 0) return cur;
      cur = this.deliver(cur, l, onStep);
    }
  }

  /** Two declare rounds of every leader, each followed by reliable delivery (S must be quiescent). */
  settle(q: Global): Global | null {
    let cur: Global | null = q;
    for (let round = 0; round < 2; round++)
      for (let i = 0; i < N && cur; i++) if (this.isLeader(cur, i) && cur.timers[i]! & (1 << DECLARE)) cur = this.deliverAll(this.fire(cur, i, DECLARE));
    return cur;
  }

  /** Timely, reliable run from a quiescent state; the number of events until the goal, or -1. */
  recovery(q: Global, maxEvents = 500): number {
    const due: number[][] = q.timers.map((m) => TIMERS.map((t, b) => (m & (1 << b) ? t.dur : Infinity)));
    let now = 0;
    const onStep = (i: number, st: Step) => {
      for (let b = 0; b < TIMERS.length; b++) {
        if (st.armed & (1 << b)) due[i]![b] = now + TIMERS[b]!.dur;
        else if (st.cleared & (1 << b)) due[i]![b] = Infinity;
      }
    };
    let cur: Global | null = q;
    for (let events = 0; events <= maxEvents; events++) {
      if (!cur) return -1;
      if (this.isGoal(cur)) return events;
      let bi = -1;
      let bb = -1;
      for (let i = 0; i < N; i++)
        for (let b = 0; b < TIMERS.length; b++) if (cur.timers[i]! & (1 << b) && (bi < 0 || due[i]![b]! < due[bi]![bb]!)) (bi = i), (bb = b);
      if (bi < 0) return -1;
      now = due[bi]![bb]!;
      due[bi]![bb] = Infinity;
      cur = this.deliverAll(this.fire(cur, bi, bb, onStep), onStep);
    }
    return -1;
  }

  describe(g: Global): string {
    const peers = g.peers.map((p, i) => {
      const s = this.locals.snaps[p]!;
      const timers = TIMERS.filter((_, b) => g.timers[i]! & (1 << b)).map((t) => t.id.replace('election.', ''));
      return `${IDS[i]}=${JSON.stringify(s.value)}${s.context.isLeader ? '*' : ''}(leader ${s.context.leaderId ?? '-'})[${timers.join(',')}]`;
    });
    const links = LINKS.map(([f, t], l) => (g.links[l] ? `${IDS[f]}>${IDS[t]}:${g.links[l]}` : '')).filter(Boolean);
    return `${peers.join(' ')} in-flight{${links.join(' ')}}`;
  }
}

export function exploreElection(o: ExploreOptions): ExploreResult {
  const t0 = performance.now();
  const heights = o.heights ?? [1, 1, 1];
  const sys = new System(o.profile, o.linkCapacity, o.machine ?? electionMachine, heights);
  const maxStates = o.maxStates ?? 20_000_000;
  const maxDepth = o.maxDepth ?? Infinity;
  const index = new Map<string, number>();
  const states: Global[] = [];
  const depthOf: number[] = [];
  const succ: number[][] = [];
  const res: ExploreResult = {
    profile: o.profile,
    heights,
    linkCapacity: o.linkCapacity,
    maxDepth: o.maxDepth ?? null,
    states: 0,
    transitions: 0,
    depth: 0,
    complete: true,
    quiescent: 0,
    safetyViolations: [],
    recoveryViolations: [],
    reachabilityViolations: null,
    timerViolations: [],
    maxLeadersSeen: 0,
    maxRecoveryEvents: 0,
    ms: 0,
  };
  const add = (g: Global, depth: number): number => {
    const k = keyOf(g);
    let id = index.get(k);
    if (id === undefined) {
      id = states.length;
      index.set(k, id);
      states.push(g);
      depthOf.push(depth);
      succ.push([]);
    }
    return id;
  };
  const storm = (g: Global) => {
    if (res.safetyViolations.length < 5) res.safetyViolations.push(`message storm: reliable delivery never quiesces from ${sys.describe(g)}`);
  };
  // Quiescent states reached by deliverAll from a frontier state may lie outside the explored set: check them too.
  const checkedQuiet = new Set<string>();
  const checkQuiet = (q: Global) => {
    const k = keyOf(q);
    if (checkedQuiet.has(k)) return;
    checkedQuiet.add(k);
    const settled = sys.settle(q);
    if (!settled) storm(q);
    else if (sys.leaders(settled) > 1 && res.safetyViolations.length < 5) res.safetyViolations.push(`${sys.describe(q)} settles to ${sys.describe(settled)}`);
    const r = sys.recovery(q);
    if (r < 0 && res.recoveryViolations.length < 5) res.recoveryViolations.push(sys.describe(q));
    res.maxRecoveryEvents = Math.max(res.maxRecoveryEvents, r);
  };
  add(sys.initial(), 0);
  for (let cur = 0; cur < states.length; cur++) {
    const g = states[cur]!;
    res.depth = Math.max(res.depth, depthOf[cur]!);
    res.maxLeadersSeen = Math.max(res.maxLeadersSeen, sys.leaders(g));
    if (o.profile === 'murmur')
      for (let i = 0; i < N; i++)
        if (sys.isLeader(g, i) && Math.max(...heights) - heights[i]! > 10 && res.safetyViolations.length < 5) res.safetyViolations.push(`lagging ${IDS[i]} leads: ${sys.describe(g)}`);
    for (let i = 0; i < N; i++) {
      const want = sys.locals.expected[g.peers[i]!];
      if (g.timers[i] !== want && res.timerViolations.length < 5) res.timerViolations.push(`peer ${IDS[i]}: ${sys.describe(g)}`);
    }
    if (quiet(g)) res.quiescent++;
    const q = quiet(g) ? g : sys.deliverAll(g);
    if (q) checkQuiet(q);
    else storm(g);
    if (depthOf[cur]! >= maxDepth || states.length >= maxStates) {
      res.complete = false;
      continue;
    }
    const next = sys.successors(g);
    res.transitions += next.length;
    const ids = succ[cur]!;
    for (const n of next) ids.push(add(n, depthOf[cur]! + 1));
  }
  res.states = states.length;
  if (res.complete) {
    const pred: number[][] = states.map(() => []);
    succ.forEach((ss, from) => {
      for (const to of ss) pred[to]!.push(from);
    });
    const ok = new Uint8Array(states.length);
    const stack: number[] = [];
    states.forEach((g, i) => {
      if (sys.isGoal(g)) {
        ok[i] = 1;
        stack.push(i);
      }
    });
    while (stack.length) for (const p of pred[stack.pop()!]!) if (!ok[p]) (ok[p] = 1), stack.push(p);
    res.reachabilityViolations = [];
    for (let i = 0; i < states.length && res.reachabilityViolations.length < 5; i++) if (!ok[i]) res.reachabilityViolations.push(sys.describe(states[i]!));
  }
  res.ms = Math.round(performance.now() - t0);
  return res;
}

/** Violations of every checked property, flattened (empty when the model check passed). */
export function violations(r: ExploreResult): string[] {
  return [
    ...r.safetyViolations.map((v) => `safety: ${v}`),
    ...r.recoveryViolations.map((v) => `recovery: ${v}`),
    ...(r.reachabilityViolations ?? []).map((v) => `reachability: ${v}`),
    ...r.timerViolations.map((v) => `timers: ${v}`),
  ];
}
