// The main thread's side of a BenchNetwork spread over peer threads (bench/lib/peer-thread.ts): starts the
// threads, each with its share of the peers (peer i of every org on thread i mod threads, so every org spans
// the threads and gossip crosses them as it crosses hosts), and keeps the main thread's view of those peers
// (heights, counts, roles, members, drops, rejections, commit times) from their reports.
import { Worker } from 'node:worker_threads';
import type { CpuProfile } from './cpu-profile.ts';
import type { FromThread, PeerStatusReport, ThreadNetworkOptions, ThreadReport, ToThread } from './peer-thread-protocol.ts';
import type { PeerCounts } from './nats-network.ts';

/** What the main thread knows of a peer that runs on a peer thread (from its last report). */
export interface RemotePeer {
  thread: number;
  height: number;
  status: PeerStatusReport | null;
}

export interface ThreadTarget {
  /** The main thread's record of the peer: its remote view, counts and commit callback. */
  remote: RemotePeer | null;
  counts: PeerCounts;
  onCommit: ((n: number, at: number) => void) | null;
}

/** A thread's event loop and CPU so far, from its last report. */
export interface ThreadUsage {
  loop: { idle: number; active: number };
  cpuUs: number | null;
}

// The worker runs TypeScript: tsx's loader hooks are registered in the worker itself before it imports its entry
// (execArgv's --import does not reach a worker's entry module in Node 20).
const ENTRY = new URL('./peer-thread.ts', import.meta.url).href;
const BOOT = `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(ENTRY)}); })`;

export class PeerThreads {
  private readonly waiting = new Map<string, ((m: FromThread) => void)[]>();
  private readonly usage: ThreadUsage[];
  private refreshSeq = 0;
  private failure: Error | null = null;

  private constructor(
    private readonly workers: Worker[],
    private readonly targets: Map<string, ThreadTarget>,
  ) {
    this.usage = workers.map(() => ({ loop: { idle: 0, active: 0 }, cpuUs: null }));
    workers.forEach((w, i) => {
      w.on('message', (m: FromThread) => this.onMessage(i, m));
      w.on('error', (e) => (this.failure = e));
    });
  }

  /** Starts `threads` peer threads for the peers in `targets` (in the network's order) and waits until every
   * thread's peers have started. */
  static async start(threads: number, options: ThreadNetworkOptions, targets: Map<string, ThreadTarget>, indexOf: (id: string) => number): Promise<PeerThreads> {
    const workers = Array.from({ length: threads }, () => new Worker(BOOT, { eval: true }));
    const pt = new PeerThreads(workers, targets);
    const ids = [...targets.keys()];
    await Promise.all(
      workers.map((_, i) => {
        const mine = ids.filter((id) => indexOf(id) % threads === i);
        for (const id of mine) targets.get(id)!.remote = { thread: i, height: 0, status: null };
        return pt.ask(i, { type: 'start', options, ids: mine }, 'started');
      }),
    );
    return pt;
  }

  get threads(): number {
    return this.workers.length;
  }

  /** A fresh full report from every thread (roles, members, drops, rejections as of now). */
  async refresh(): Promise<void> {
    const seq = ++this.refreshSeq;
    await Promise.all(this.workers.map((_, i) => this.ask(i, { type: 'refresh', seq }, 'report')));
  }

  /** Each thread's event loop and CPU as last reported. */
  threadUsage(): ThreadUsage[] {
    return this.usage.map((u) => ({ loop: { ...u.loop }, cpuUs: u.cpuUs }));
  }

  /** Samples every peer thread with node:inspector's Profiler; `stop` returns one profile per thread. */
  async startProfile(intervalUs: number): Promise<{ stop(): Promise<CpuProfile[]> }> {
    await Promise.all(this.workers.map((_, i) => this.ask(i, { type: 'profile-start', intervalUs }, 'profiling')));
    return {
      stop: async () => {
        const replies = await Promise.all(this.workers.map((_, i) => this.ask(i, { type: 'profile-stop' }, 'profile')));
        return replies.map((r) => (r as Extract<FromThread, { type: 'profile' }>).profile);
      },
    };
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((_, i) => this.ask(i, { type: 'stop' }, 'stopped').catch(() => undefined)));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private ask(i: number, m: ToThread, reply: FromThread['type']): Promise<FromThread> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const key = `${i}:${reply}`;
      const q = this.waiting.get(key) ?? [];
      q.push((r) => (r.type === 'error' ? reject(new Error(`peer thread ${i}: ${r.message}`)) : resolve(r)));
      this.waiting.set(key, q);
      this.workers[i]!.postMessage(m);
    });
  }

  private onMessage(i: number, m: FromThread): void {
    if (m.type === 'report') this.apply(i, m);
    if (m.type === 'report' && m.seq === 0) return;
    // An error answers whatever the thread was asked first.
    const key = m.type === 'error' ? [...this.waiting.keys()].find((k) => k.startsWith(`${i}:`) && this.waiting.get(k)!.length > 0) : `${i}:${m.type}`;
    if (m.type === 'error' && !key) {
      this.failure = new Error(`peer thread ${i}: ${m.message}`);
      return;
    }
    this.waiting.get(key!)?.shift()?.(m);
  }

  private apply(i: number, r: ThreadReport): void {
    this.usage[i] = { loop: r.loop, cpuUs: r.cpuUs };
    for (const [id, h] of Object.entries(r.heights)) {
      const t = this.targets.get(id)!;
      t.remote!.height = h;
      t.counts = r.counts[id]!;
      if (r.status?.[id]) t.remote!.status = r.status[id]!;
    }
    // Commit times were taken on the thread: the same process clock, from another origin.
    for (const [id, n, abs] of r.commits) this.targets.get(id)!.onCommit?.(n, abs - performance.timeOrigin);
  }
}
