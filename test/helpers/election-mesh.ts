// A mesh of election machines on one simulated clock, without transport: what Fabric's election_test.go
// does with its in-memory adapter. Messages reach every started peer in the same partition after `latencyMs`;
// a peer only hears peers in its view (same partition), as Fabric drops messages from peers outside Peers().
import { createActor, type Actor } from 'xstate';
import { SimClock } from '../../runtime/clock.ts';
import { electionMachine, roleOf, type ElectionProfile, type ElectionTimings } from '../../machines/election.machine.ts';

export const FABRIC_TEST_TIMINGS: ElectionTimings = { startupGracePeriod: 500, membershipSampleInterval: 100, leaderAliveThreshold: 500, leaderElectionDuration: 500 };

export class ElectionMesh {
  readonly clock = new SimClock(0);
  readonly actors = new Map<string, Actor<typeof electionMachine>>();
  readonly callbacks = new Map<string, boolean[]>();
  readonly sent: { from: string; kind: 'proposal' | 'declaration'; at: number }[] = [];
  private group = new Map<string, number>();
  private heights = new Map<string, number>();

  constructor(
    readonly profile: ElectionProfile = 'fabric',
    readonly timings: ElectionTimings = FABRIC_TEST_TIMINGS,
    readonly latencyMs = 1,
    readonly maxLeaderLag = 10,
  ) {}

  start(id: string, height = 1): void {
    this.heights.set(id, height);
    const a = createActor(electionMachine, {
      clock: this.clock,
      input: { self: id, mode: 'dynamic', profile: this.profile, timings: this.timings, maxLeaderLag: this.maxLeaderLag },
    });
    this.callbacks.set(id, []);
    a.on('send.proposal', () => this.broadcast(id, 'proposal'));
    a.on('send.declaration', () => this.broadcast(id, 'declaration'));
    a.on('leadership.changed', (e) => this.callbacks.get(id)!.push(e.leading));
    this.actors.set(id, a);
    a.start();
    this.refreshViews();
  }

  stop(id: string): void {
    this.actors.get(id)?.stop();
    this.actors.delete(id);
    this.refreshViews();
  }

  yield(id: string): void {
    this.actors.get(id)!.send({ type: 'leadership.yield' });
  }

  setHeight(id: string, h: number): void {
    this.heights.set(id, h);
    this.refreshViews();
  }

  /** Peers in different groups cannot hear each other; unlisted peers are each alone. */
  partition(groups: string[][]): void {
    this.group = new Map(groups.flatMap((g, i) => g.map((id) => [id, i] as const)));
    this.refreshViews();
  }

  heal(): void {
    this.group.clear();
    this.refreshViews();
  }

  isolateAll(): void {
    this.partition([...this.actors.keys()].map((id) => [id]));
  }

  canTalk(a: string, b: string): boolean {
    if (!this.group.size) return true;
    const ga = this.group.get(a);
    const gb = this.group.get(b);
    return ga !== undefined && ga === gb;
  }

  view(id: string): string[] {
    return [...this.actors.keys()].filter((o) => o !== id && this.canTalk(id, o));
  }

  leaders(): string[] {
    return [...this.actors.entries()].filter(([, a]) => a.getSnapshot().context.isLeader).map(([id]) => id).sort();
  }

  role(id: string): string {
    return roleOf(this.actors.get(id)!.getSnapshot());
  }

  advance(ms: number): void {
    this.clock.advance(ms);
  }

  stopAll(): void {
    for (const id of [...this.actors.keys()]) this.stop(id);
  }

  private refreshViews(): void {
    for (const [id, a] of this.actors) {
      const v = this.view(id);
      a.send({ type: 'view.changed', size: v.length });
      a.send({ type: 'heights.changed', own: this.heights.get(id) ?? 1, peers: Object.fromEntries(v.map((o) => [o, this.heights.get(o) ?? 1])) });
    }
  }

  private broadcast(from: string, kind: 'proposal' | 'declaration'): void {
    this.sent.push({ from, kind, at: this.clock.now() });
    for (const to of this.view(from)) {
      this.clock.setTimeout(() => {
        const a = this.actors.get(to);
        if (!a || !this.actors.has(from) || !this.canTalk(from, to)) return;
        a.send(kind === 'proposal' ? { type: 'proposal.received', from } : { type: 'declaration.received', from });
      }, this.latencyMs);
    }
  }
}
