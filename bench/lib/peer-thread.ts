// A peer thread of a BenchNetwork spread over threads (bench/lib/peer-threads.ts starts it): runs its share of
// the network's peers, each the whole real peer with its own bus connection, codec and ledger, exactly as a
// single-thread BenchNetwork does (it is one, with the other threads' peers deferred and no orderer), and
// reports to the main thread as bench/lib/peer-thread-protocol.ts describes.
import { readFileSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { BenchNetwork } from './nats-network.ts';
import { startCpuProfile, type RunningProfile } from './cpu-profile.ts';
import { REPORT_MS, STATUS_EVERY, type FromThread, type PeerStatusReport, type ThreadReport, type ToThread } from './peer-thread-protocol.ts';

const port = parentPort!;
const send = (m: FromThread) => port.postMessage(m);
let net: BenchNetwork | null = null;
let timer: NodeJS.Timeout | null = null;
let profiler: RunningProfile | null = null;
let commits: [string, number, number][] = [];
let reports = 0;

/** This thread's CPU (µs): utime + stime of /proc/thread-self/stat, in clock ticks of 10 ms. */
function threadCpuUs(): number | null {
  try {
    const s = readFileSync('/proc/thread-self/stat', 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10_000;
  } catch {
    return null;
  }
}

function report(seq: number): ThreadReport {
  const n = net!;
  const heights: ThreadReport['heights'] = {};
  const counts: ThreadReport['counts'] = {};
  const full = seq > 0 || ++reports % STATUS_EVERY === 1;
  const status: Record<string, PeerStatusReport> | null = full ? {} : null;
  for (const p of n.running()) {
    heights[p.id] = n.height(p);
    counts[p.id] = p.counts;
    if (status) {
      const row = p.peer!.status()[0];
      status[p.id] = {
        role: row?.role ?? null,
        leaderId: row?.leaderId ?? null,
        alive: p.peer!.discovery.aliveMembers().map((m) => m.id),
        dropped: { ...(p.transport?.stats.dropped ?? {}) },
        rejected: { ...(row?.counters.rejected ?? {}) },
      };
    }
  }
  const out = commits;
  commits = [];
  const loop = performance.eventLoopUtilization();
  return { type: 'report', seq, heights, counts, commits: out, status, loop: { idle: loop.idle, active: loop.active }, cpuUs: threadCpuUs() };
}

async function handle(m: ToThread): Promise<void> {
  switch (m.type) {
    case 'start': {
      const mine = new Set(m.ids);
      net = await BenchNetwork.start({ ...m.options, deferred: (id) => !mine.has(id), orderer: 'none' });
      for (const p of net.running()) p.onCommit = (n, at) => void commits.push([p.id, n, performance.timeOrigin + at]);
      timer = setInterval(() => send(report(0)), REPORT_MS);
      send({ type: 'started' });
      return;
    }
    case 'refresh':
      send(report(m.seq));
      return;
    case 'profile-start':
      profiler = await startCpuProfile(m.intervalUs);
      send({ type: 'profiling' });
      return;
    case 'profile-stop': {
      const profile = await profiler!.stop();
      profiler = null;
      send({ type: 'profile', profile });
      return;
    }
    case 'stop':
      if (timer) clearInterval(timer);
      await net?.stop();
      send({ type: 'stopped' });
      port.close();
      return;
  }
}

port.on('message', (m: ToThread) => void handle(m).catch((e) => send({ type: 'error', message: `${m.type}: ${(e as Error).stack ?? e}` })));
