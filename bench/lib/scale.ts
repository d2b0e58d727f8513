// Scale: `orgs` x `peersPerOrg` peers (100 by default) in ONE process, on the in-memory bus (real clock, no
// link latency) or on NATS (one connection each), with in-memory ledgers and the bench timings.
//   convergence_ms — from the first peer's start until every peer sees every peer it should (its org, and
//                    the other orgs' anchor peers if it is one); leaders_ms — until one leader per org that
//                    all its peers follow
//   memory         — process memory after convergence, 2 s of idle and two forced GCs, minus the same
//                    measure taken before the network existed, divided by the peers (heap, and RSS)
// Runs in its own process (`node --expose-gc`), so nothing else in the bench shares its heap:
//   node --expose-gc --import tsx bench/lib/scale.ts --bus memory|nats [--orgs 4 --peers 25]
// and prints one JSON line. `measureScale` spawns that process.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startNatsServer } from '../../runtime/nats-server.ts';
import { BenchNetwork, sleep, until } from './nats-network.ts';
import { round } from './stats.ts';

export interface ScaleResult {
  bus: 'memory' | 'nats';
  peers: number;
  convergence_ms: number | null;
  leaders_ms: number | null;
  heap_per_peer_kb: number | null;
  rss_per_peer_kb: number | null;
  error?: string;
}

const gc = () => (globalThis as { gc?: () => void }).gc?.();
const mem = () => {
  gc();
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed + m.external, rss: m.rss };
};

async function runScale(bus: 'memory' | 'nats', orgs: number, peersPerOrg: number): Promise<ScaleResult> {
  const peers = orgs * peersPerOrg;
  const server = bus === 'nats' ? await startNatsServer({ port: 0 }) : null;
  let net: BenchNetwork | null = null;
  try {
    await sleep(200);
    const m0 = mem();
    const t0 = performance.now();
    net = await BenchNetwork.start({ bus: server ? { kind: 'nats', url: server.url } : { kind: 'memory' }, orgs, peersPerOrg, profile: 'murmur' });
    const n = net;
    await until(() => n.membershipComplete(), 300_000, 'membership of every peer', 100);
    const convergence = performance.now() - t0;
    await until(() => n.leadersSettled(), 300_000, 'one leader per org', 100);
    const leaders = performance.now() - t0;
    await sleep(2000);
    const m1 = mem();
    return {
      bus,
      peers,
      convergence_ms: Math.round(convergence),
      leaders_ms: Math.round(leaders),
      heap_per_peer_kb: round((m1.heap - m0.heap) / 1024 / peers, 0),
      rss_per_peer_kb: round((m1.rss - m0.rss) / 1024 / peers, 0),
    };
  } finally {
    await net?.stop();
    await server?.stop();
  }
}

/** Runs the scale scenario in a child process (own heap, GC exposed); never throws. */
export function measureScale(bus: 'memory' | 'nats', orgs = 4, peersPerOrg = 25, timeoutMs = 600_000): Promise<ScaleResult> {
  const self = fileURLToPath(import.meta.url);
  const failed = (error: string): ScaleResult => ({ bus, peers: orgs * peersPerOrg, convergence_ms: null, leaders_ms: null, heap_per_peer_kb: null, rss_per_peer_kb: null, error });
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', self, '--bus', bus, '--orgs', String(orgs), '--peers', String(peersPerOrg)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').at(-1) ?? '';
      try {
        resolve(JSON.parse(line) as ScaleResult);
      } catch {
        resolve(failed(`scale child exited ${signal ?? code}: ${err.trim().split('\n').slice(-3).join(' / ')}`));
      }
    });
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (name: string, d: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1]! : d;
  };
  const bus = arg('bus', 'memory') as 'memory' | 'nats';
  const r = await runScale(bus, Number(arg('orgs', '4')), Number(arg('peers', '25')));
  console.log(JSON.stringify(r));
  process.exit(0);
}
