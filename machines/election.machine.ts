// Leader election for one channel inside one org: Fabric's gossip/election algorithm (digest §2).
//
//   static:  orgLeader → leader (forever);  otherwise → standby (never leads)
//   dynamic:
//     startup:   sample the channel view every membershipSampleInterval until two samples agree, the
//                startupGracePeriod ends, or a declaration arrives
//     deciding:  no known leader and not yielding (murmur: and not lagging) → electing; else leading or following
//     electing:  send PROPOSAL; wait leaderElectionDuration (a declaration ends the wait → following);
//                then lead unless a preferred peer proposed, a leader appeared, or we are yielding; a lost
//                round → following (Fabric's followerPhase: proposals cleared, wait, then decide again)
//     leading:   send DECLARATION every leaderAliveThreshold/2; a declaration from a preferred peer → step
//                down; any other declaration → declare again at once; proposals never displace us
//     following: fabric: forget the leader, wait leaderAliveThreshold (not interruptible), then decide again
//                (a declaration seen in the window keeps us following)
//                murmur: every declaration restarts the wait, so failover ≈ threshold + election duration
//     yield:     a leader told to yield steps down and does not propose for 6 × leaderAliveThreshold, or until
//                another leader's declaration is seen
//   "Preferred": fabric: the smaller PKI-ID. murmur: a peer more than maxLeaderLag blocks behind the org's best
//   known height — the second-highest height of the view (bestHeightOf), so no single peer's claim counts — is
//   never preferred over one that is not; between equals, the smaller PKI-ID.
//
// The lag rule cannot flap (proof sketch). (1) Leadership is only taken from `electing` after proposing, and
// a lagging peer never proposes; (2) a lagging leader steps down only when the best height belongs to another
// peer of the view (the second-highest; the highest is not lagging either), which is then not lagging and is
// preferred; (3) a peer that is not lagging never steps
// down for a lagging one. Heights only grow, so once a lagging peer has stepped down it cannot lead again until
// it has caught up, and when it has, incumbency keeps it a follower. So each lag-induced hand-over happens at
// most once per catch-up and always moves leadership to an up-to-date peer.
//
// Pure: timeouts are explicit events (`timeout.*`) raised with named delays, cancelled by id, so graph tools
// see every transition; outgoing messages and leadership changes are emitted events the actor binds.
import { assign, cancel, emit, enqueueActions, raise, setup } from 'xstate';

export type ElectionMode = 'dynamic' | 'static-leader' | 'standby';
export type ElectionProfile = 'murmur' | 'fabric';

export interface ElectionTimings {
  startupGracePeriod: number;
  membershipSampleInterval: number;
  leaderAliveThreshold: number;
  leaderElectionDuration: number;
}

export interface ElectionInput {
  /** This peer's PKI-ID (hex: its order is the byte order of the PKI-ID). */
  self: string;
  mode: ElectionMode;
  profile: ElectionProfile;
  timings: ElectionTimings;
  maxLeaderLag: number;
}

export interface ElectionContext extends ElectionInput {
  viewSize: number;
  lastSample: number | null;
  leaderExists: boolean;
  leaderId: string | null;
  proposals: string[];
  yielding: boolean;
  isLeader: boolean;
  ownHeight: number;
  bestHeight: number;
  heights: Record<string, number>;
}

export type ElectionEvent =
  | { type: 'view.changed'; size: number }
  | { type: 'heights.changed'; own: number; peers: Record<string, number> }
  | { type: 'proposal.received'; from: string }
  | { type: 'declaration.received'; from: string }
  | { type: 'leadership.yield' }
  | { type: 'timeout.sample' }
  | { type: 'timeout.grace' }
  | { type: 'timeout.election' }
  | { type: 'timeout.declare' }
  | { type: 'timeout.follower' }
  | { type: 'timeout.yield' };

export type ElectionEmitted = { type: 'send.proposal' } | { type: 'send.declaration' } | { type: 'leadership.changed'; leading: boolean };

/** Is `id` more than maxLeaderLag behind the best known height? (murmur profile only) */
export function isLagging(c: Pick<ElectionContext, 'self' | 'profile' | 'maxLeaderLag' | 'ownHeight' | 'bestHeight' | 'heights'>, id: string): boolean {
  if (c.profile !== 'murmur') return false;
  const h = id === c.self ? c.ownHeight : c.heights[id];
  return h !== undefined && c.bestHeight - h > c.maxLeaderLag;
}

/** Should `a` lead rather than `b`? */
export function isPreferred(c: Parameters<typeof isLagging>[0], a: string, b: string): boolean {
  const la = isLagging(c, a);
  const lb = isLagging(c, b);
  if (la !== lb) return !la;
  return a < b;
}

/**
 * The height the lag rule measures against: the second-highest of the org's view, this peer included. Heights are
 * claims (signed StateInfo), and one insider claiming 2^53 would otherwise make every honest peer "lagging", so
 * that none proposes and the org stops receiving blocks; with the second-highest a single claim moves nothing
 * (it takes two peers really ahead, or two liars). A view of this peer alone measures against itself.
 */
export function bestHeightOf(own: number, peers: Record<string, number>): number {
  let first = own;
  let second = -Infinity;
  for (const h of Object.values(peers)) {
    if (!Number.isFinite(h) || h < 0) continue;
    if (h > first) {
      second = first;
      first = h;
    } else if (h > second) second = h;
  }
  return second === -Infinity ? own : second;
}

function heightsFrom(e: { own: number; peers: Record<string, number> }): Pick<ElectionContext, 'ownHeight' | 'heights' | 'bestHeight'> {
  return { ownHeight: e.own, heights: e.peers, bestHeight: bestHeightOf(e.own, e.peers) };
}

/**
 * All the machine decides by from heights: whether this peer lags and which peers do (isLagging; a lagging
 * peer is always behind the best height). Two `heights.changed` events with the same verdict lead to the same
 * transitions, so a binding may leave out the ones that change none (a commit moves this peer's height each block).
 */
export function lagVerdict(c: Pick<ElectionContext, 'self' | 'profile' | 'maxLeaderLag'>, own: number, peers: Record<string, number>): string {
  const h = { ...c, ...heightsFrom({ own, peers }) };
  return [isLagging(h, c.self), ...Object.keys(peers).filter((id) => isLagging(h, id)).sort()].join(',');
}

const TIMER = {
  sample: 'election.sample',
  grace: 'election.grace',
  election: 'election.wait',
  declare: 'election.declare',
  follower: 'election.follower',
  yield: 'election.yield',
} as const;

export const electionMachine = setup({
  types: {} as { context: ElectionContext; events: ElectionEvent; input: ElectionInput; emitted: ElectionEmitted },
  delays: {
    sample: ({ context }) => context.timings.membershipSampleInterval,
    grace: ({ context }) => context.timings.startupGracePeriod,
    electionDuration: ({ context }) => context.timings.leaderElectionDuration,
    declareInterval: ({ context }) => context.timings.leaderAliveThreshold / 2,
    aliveThreshold: ({ context }) => context.timings.leaderAliveThreshold,
    yieldPeriod: ({ context }) => 6 * context.timings.leaderAliveThreshold,
  },
  guards: {
    isStaticLeader: ({ context }) => context.mode === 'static-leader',
    isStandby: ({ context }) => context.mode === 'standby',
    viewStable: ({ context }) => context.lastSample !== null && context.lastSample === context.viewSize,
    shouldElect: ({ context }) => !context.leaderExists && !context.yielding && !isLagging(context, context.self),
    isLeader: ({ context }) => context.isLeader,
    mayLead: ({ context }) =>
      !context.leaderExists && !context.yielding && !isLagging(context, context.self) && !context.proposals.some((p) => isPreferred(context, p, context.self)),
    fromPreferred: ({ context, event }) => event.type === 'declaration.received' && isPreferred(context, event.from, context.self),
    /** With the heights this event brings, would this (leading) peer lag behind another peer of the view? */
    lagsAfterUpdate: ({ context, event }) => {
      if (event.type !== 'heights.changed') return false;
      const next = { ...context, ...heightsFrom(event) };
      return isLagging(next, context.self) && next.bestHeight > next.ownHeight;
    },
    restartsOnDeclaration: ({ context }) => context.profile === 'murmur',
  },
  actions: {
    recordHeights: assign(({ event }) => (event.type === 'heights.changed' ? heightsFrom(event) : {})),
    noteDeclaration: assign(({ event }) => (event.type === 'declaration.received' ? { leaderExists: true, leaderId: event.from } : {})),
    endYieldIfLeaderSeen: enqueueActions(({ context, enqueue }) => {
      if (context.yielding && context.leaderExists) {
        enqueue.cancel(TIMER.yield);
        enqueue.assign({ yielding: false });
      }
    }),
    becomeLeader: enqueueActions(({ context, enqueue }) => {
      enqueue.assign({ isLeader: true, leaderExists: true, leaderId: context.self });
      if (!context.isLeader) enqueue.emit({ type: 'leadership.changed', leading: true });
    }),
    stepDown: enqueueActions(({ context, enqueue }) => {
      if (context.isLeader) enqueue.emit({ type: 'leadership.changed', leading: false });
      enqueue.assign({ isLeader: false });
    }),
  },
}).createMachine({
  id: 'election',
  context: ({ input }) => ({
    ...input,
    viewSize: 0,
    lastSample: null,
    leaderExists: false,
    leaderId: null,
    proposals: [],
    yielding: false,
    isLeader: false,
    ownHeight: 0,
    bestHeight: 0,
    heights: {},
  }),
  initial: 'init',
  on: {
    'heights.changed': { actions: 'recordHeights' },
    'view.changed': { actions: assign({ viewSize: ({ event }) => event.size }) },
  },
  states: {
    init: {
      always: [
        { guard: 'isStaticLeader', target: 'static.leader' },
        { guard: 'isStandby', target: 'static.standby' },
        { target: 'dynamic' },
      ],
    },
    static: {
      initial: 'standby',
      states: {
        leader: { entry: 'becomeLeader' },
        standby: {},
      },
    },
    dynamic: {
      initial: 'startup',
      on: {
        'proposal.received': {
          actions: assign({ proposals: ({ context, event }) => (context.proposals.includes(event.from) ? context.proposals : [...context.proposals, event.from]) }),
        },
        'timeout.yield': { actions: assign({ yielding: false }) },
      },
      states: {
        startup: {
          entry: [raise({ type: 'timeout.sample' }, { delay: 'sample', id: TIMER.sample }), raise({ type: 'timeout.grace' }, { delay: 'grace', id: TIMER.grace })],
          exit: [cancel(TIMER.sample), cancel(TIMER.grace)],
          on: {
            'timeout.sample': [
              { guard: 'viewStable', target: 'deciding' },
              {
                actions: [assign({ lastSample: ({ context }) => context.viewSize }), raise({ type: 'timeout.sample' }, { delay: 'sample', id: TIMER.sample })],
              },
            ],
            'timeout.grace': 'deciding',
            'declaration.received': { actions: 'noteDeclaration', target: 'deciding' },
          },
        },
        deciding: {
          entry: 'endYieldIfLeaderSeen',
          always: [{ guard: 'shouldElect', target: 'electing' }, { guard: 'isLeader', target: 'leading' }, { target: 'following' }],
        },
        electing: {
          entry: [assign({ leaderId: null }), emit({ type: 'send.proposal' }), raise({ type: 'timeout.election' }, { delay: 'electionDuration', id: TIMER.election })],
          exit: cancel(TIMER.election),
          on: {
            'declaration.received': { actions: 'noteDeclaration', target: 'deciding' },
            // A lost round follows for a window, as Fabric's loop does: following clears the proposals, so one
            // heard from a peer that has since gone (crashed, partitioned away) costs a round, not the election.
            'timeout.election': [{ guard: 'mayLead', actions: 'becomeLeader', target: 'deciding' }, { target: 'following' }],
          },
        },
        leading: {
          initial: 'declaring',
          states: {
            declaring: {
              entry: [emit({ type: 'send.declaration' }), raise({ type: 'timeout.declare' }, { delay: 'declareInterval', id: TIMER.declare })],
              exit: cancel(TIMER.declare),
              on: { 'timeout.declare': { target: 'declaring', reenter: true } },
            },
          },
          on: {
            'declaration.received': [
              { guard: 'fromPreferred', actions: ['stepDown', 'noteDeclaration'], target: 'following' },
              // Someone else declared: declare again at once (Fabric interrupts the leader's sleep).
              { target: '.declaring', reenter: true },
            ],
            'heights.changed': [
              { guard: 'lagsAfterUpdate', actions: ['recordHeights', 'stepDown', assign({ leaderExists: false, leaderId: null })], target: 'following' },
              { actions: 'recordHeights' },
            ],
            'leadership.yield': {
              actions: ['stepDown', assign({ yielding: true, leaderExists: false, leaderId: null }), raise({ type: 'timeout.yield' }, { delay: 'yieldPeriod', id: TIMER.yield })],
              target: 'following',
            },
          },
        },
        following: {
          entry: [
            assign(({ context }) => (context.profile === 'fabric' ? { proposals: [], leaderExists: false } : { proposals: [] })),
            raise({ type: 'timeout.follower' }, { delay: 'aliveThreshold', id: TIMER.follower }),
          ],
          exit: cancel(TIMER.follower),
          on: {
            'declaration.received': [
              {
                guard: 'restartsOnDeclaration',
                actions: ['noteDeclaration', 'endYieldIfLeaderSeen', cancel(TIMER.follower), raise({ type: 'timeout.follower' }, { delay: 'aliveThreshold', id: TIMER.follower })],
              },
              { actions: 'noteDeclaration' },
            ],
            'timeout.follower': [
              // murmur: the wait restarts at every declaration, so reaching its end means the leader is gone.
              { guard: 'restartsOnDeclaration', actions: assign({ leaderExists: false, leaderId: null }), target: 'deciding' },
              { target: 'deciding' },
            ],
          },
        },
      },
    },
  },
});

/** The role `murmur status` reports for an election snapshot. */
export function roleOf(snapshot: { matches(v: unknown): boolean; context: ElectionContext }): 'leader' | 'follower' | 'candidate' | 'standby' {
  if (snapshot.matches({ static: 'standby' })) return 'standby';
  if (snapshot.context.isLeader) return 'leader';
  if (snapshot.matches({ dynamic: 'following' })) return 'follower';
  return 'candidate';
}
