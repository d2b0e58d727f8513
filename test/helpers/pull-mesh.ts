// A mesh of pull engines (machines/pull.logic.ts) holding plain string items, on one simulated clock: what
// Fabric's algo/pull_test.go does with its in-memory instances. Messages take `latencyMs`; a node's `slowMs`
// delays everything it receives (Fabric's sleeping hook); `onSend` observes or replaces outgoing messages.
import { SimClock } from '../../runtime/clock.ts';
import { rngFromSeed } from '../../runtime/rng.ts';
import { PullEngine, type PullSend, type PullTimings } from '../../machines/pull.logic.ts';

/** Fabric's pull test windows. */
export const PULL_TEST_TIMINGS: PullTimings = { digestWaitTime: 100, requestWaitTime: 200, responseWaitTime: 200 };

export interface MeshNode {
  id: string;
  items: Set<string>;
  engine: PullEngine;
  /** Egress filter: may `peer` see `id`? */
  allow: (peer: string, id: string) => boolean;
  slowMs: number;
  /** Every message this node receives, with its sender. */
  received: (PullSend & { from: string })[];
  verdicts: string[];
}

export class PullMesh {
  readonly clock = new SimClock(0);
  readonly nodes = new Map<string, MeshNode>();
  /** Outgoing messages pass through here; return null to drop. */
  onSend: (from: string, m: PullSend) => PullSend | null = (_f, m) => m;

  constructor(
    readonly timings: PullTimings = PULL_TEST_TIMINGS,
    readonly latencyMs = 1,
  ) {}

  add(id: string, items: Iterable<string> = []): MeshNode {
    const node: MeshNode = {
      id,
      items: new Set(items),
      allow: () => true,
      slowMs: 0,
      received: [],
      verdicts: [],
      engine: undefined as unknown as PullEngine,
    };
    node.engine = new PullEngine(
      { digests: (peer) => [...node.items].filter((i) => node.allow(peer, i)), wants: (i) => !node.items.has(i) },
      rngFromSeed(`pull-mesh:${id}`),
      this.timings,
    );
    this.nodes.set(id, node);
    return node;
  }

  /** One pull round of `id` towards `peers` (Fabric's setNextPeerSelection + initiatePull). */
  pull(id: string, peers: string[]): void {
    const n = this.nodes.get(id)!;
    const { round, out } = n.engine.startRound(peers);
    this.sendAll(id, out);
    this.clock.setTimeout(() => this.sendAll(id, n.engine.endDigests(round)), this.timings.digestWaitTime);
    this.clock.setTimeout(() => n.engine.endRound(round), this.timings.digestWaitTime + this.timings.responseWaitTime);
  }

  /** Delivers a message as if `from` had sent it (Byzantine tests); `onSend` does not see it. */
  inject(from: string, m: PullSend): void {
    const to = this.nodes.get(m.to);
    if (to) this.clock.setTimeout(() => this.receive(to, from, m), this.latencyMs + to.slowMs);
  }

  advance(ms: number): void {
    this.clock.advanceTo(this.clock.now() + ms);
  }

  private sendAll(from: string, out: readonly (PullSend | null)[]): void {
    for (const o of out) {
      if (!o) continue;
      const m = this.onSend(from, o);
      if (!m) continue;
      const to = this.nodes.get(m.to);
      if (!to) continue;
      this.clock.setTimeout(() => this.receive(to, from, m), this.latencyMs + to.slowMs);
    }
  }

  private receive(n: MeshNode, from: string, m: PullSend): void {
    n.received.push({ ...m, from });
    const now = this.clock.now();
    switch (m.t) {
      case 'hello':
        return this.sendAll(n.id, [n.engine.onHello(from, m.nonce, now)]);
      case 'digest':
        n.engine.onDigest(from, m.nonce, m.ids);
        return;
      case 'request':
        return this.sendAll(n.id, [n.engine.onRequest(from, m.nonce, m.ids, now)]);
      case 'update': {
        const v = n.engine.onUpdate(from, m.nonce, m.ids);
        n.verdicts.push(v);
        if (v === 'accepted') for (const i of m.ids) n.items.add(i);
      }
    }
  }
}

export const range = (from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => String(from + i));
