// Where the peers' CPU goes, for the benchmark (issue 21): a sampled CPU profile of this process
// (node:inspector's Profiler, in process, no external tool) summarised into categories, and the CPU time of
// this process and of child processes (the orderer, nats-server) read from the kernel.
//
// Attribution (`attribute`, `classify`): every sample's time (the interval until the next sample, as DevTools
// counts it) goes to exactly one category, decided by walking its stack from the leaf (the frame that was
// running) towards the root:
//   - V8's pseudo frames decide by name: (garbage collector) → gc, (program) → program (native work with no
//     JavaScript on the stack: libuv, socket reads and writes before a callback runs, compilation),
//     (idle) → idle (excluded from the total).
//   - Ed25519: a frame of node:internal/crypto/sig, @noble/curves or runtime/crypto/ed25519.ts / signer.ts
//     whose function is sign…/verify… decides sign or verify; other frames of those (native crypto jobs, key
//     parsing, noble's field arithmetic) keep walking, so the time reaches the sign or verify call above them.
//   - Neutral frames keep walking too: native builtins (no URL), Node's own modules (node:…), @noble/hashes,
//     and murmur's helpers (runtime/util/*): their time belongs to whoever called them.
//   - The first owner frame decides by its file: a package (nats → transport, xstate and rxjs → machines,
//     cbor-x → codec, prom-client → metrics, lmdb → ledger) or a murmur source (`OWNERS` below).
//   - A stack with no owner (say, Node's socket read with nothing of murmur's above it): transport when the
//     leaf-most Node module is a socket or stream one, bench when it is the child-process channel (in the
//     bench process that is the orderer process's messages), else other.
// So the categories add up to the profile's busy time (every sample but idle), by construction.
import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Session } from 'node:inspector/promises';

export interface CallFrame {
  functionName: string;
  url: string;
  scriptId?: string;
  lineNumber?: number;
  columnNumber?: number;
}

export interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
  hitCount?: number;
}

/** V8's CPU profile (the `.cpuprofile` format DevTools opens). Times in µs. */
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The categories, in the order the README's table lists them (idle last: excluded from the total). */
export const CATEGORIES = {
  verify: 'ed25519 verify (node:crypto or noble, key parsing) and identity checks (runtime/crypto)',
  sign: 'ed25519 sign',
  codec: 'codec: envelopes, CBOR, validation, verify cache (runtime/wire, cbor-x)',
  transport: "transport: NATS client, sockets, the leader's deliver feed (runtime/transport, runtime/orderer/*feed.ts, nats, node:net and streams)",
  machines: 'machines and RxJS (machines/, xstate, rxjs)',
  actors: "the peer's actors (actors/: intake, tree or push, pull, discovery, election, commit queue)",
  ledger: 'ledger (runtime/ledger: block encoding, hashes, commit rule; lmdb)',
  metrics: 'metrics (runtime/ops, prom-client)',
  status: 'status (actors/status-*, block-stats)',
  bench: "bench harness (bench/: counters, latency hooks; the orderer process's messages)",
  gc: 'garbage collector ((garbage collector))',
  program: 'native, no JavaScript frame ((program): libuv, I/O, compilation)',
  other: 'other (timers and clock, logging, config, Node internals with no owner)',
  idle: 'idle (excluded from the total)',
} as const;

export type Category = keyof typeof CATEGORIES;

/** murmur's sources, by path prefix relative to the repository (first match wins); 'pass' = keep walking. */
const OWNERS: readonly [string, Category | 'pass'][] = [
  ['runtime/crypto/ed25519.ts', 'pass'],
  ['runtime/crypto/signer.ts', 'sign'],
  ['runtime/crypto/', 'verify'],
  ['runtime/util/', 'pass'],
  ['runtime/wire/', 'codec'],
  ['runtime/transport/', 'transport'],
  ['runtime/ledger/', 'ledger'],
  ['runtime/ops/', 'metrics'],
  ['runtime/orderer/deliver.feed.ts', 'transport'],
  ['runtime/orderer/feed.ts', 'transport'],
  ['runtime/orderer/', 'ledger'],
  ['actors/status-', 'status'],
  ['actors/block-stats.ts', 'status'],
  ['actors/', 'actors'],
  ['machines/', 'machines'],
  ['bench/', 'bench'],
  ['runtime/', 'other'],
  ['config/', 'other'],
];

/** Packages under node_modules, by name; 'pass' = keep walking. Unlisted packages are `other`. */
const PACKAGES: Record<string, Category | 'pass'> = {
  nats: 'transport',
  xstate: 'machines',
  rxjs: 'machines',
  'cbor-x': 'codec',
  'prom-client': 'metrics',
  lmdb: 'ledger',
  '@noble/hashes': 'pass',
  '@noble/curves': 'pass',
};

const SIGN_OR_VERIFY = /^(sign|verify)(oneshot)?$/i;
const SOCKETS = /^node:(net|tls|dgram|stream|internal\/(stream_base_commons|streams\/|net|tls|js_stream_socket))/;

/** A file path or URL relative to `root` (a directory path ending in '/'), or null when outside it. */
function relative(url: string, root: string): string | null {
  const path = url.startsWith('file://') ? safePath(url) : url;
  return path !== null && path.startsWith(root) ? path.slice(root.length) : null;
}

function safePath(url: string): string | null {
  try {
    return fileURLToPath(url);
  } catch {
    return null;
  }
}

function packageOf(url: string): string | null {
  const i = url.lastIndexOf('/node_modules/');
  if (i < 0) return null;
  const parts = url.slice(i + '/node_modules/'.length).split('/');
  return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

/** The last segment of a function name ("Verify.verify" → "verify"). */
const lastName = (name: string) => name.slice(name.lastIndexOf('.') + 1);

/**
 * The category of one sample, from its stack: `frames[0]` is the leaf (the running frame), the last is the
 * root. `root` is the repository's directory (ending in '/'), against which murmur's sources are recognised.
 */
export function classify(frames: readonly CallFrame[], root: string): Category {
  let nodeModule: string | null = null;
  for (const f of frames) {
    const { url, functionName: fn } = f;
    if (url === '') {
      if (fn === '(idle)') return 'idle';
      if (fn === '(garbage collector)') return 'gc';
      if (fn === '(program)') return 'program';
      if (fn === '(root)') break;
      continue; // a native builtin: its caller decides
    }
    if (url.startsWith('node:')) {
      if (url.startsWith('node:internal/crypto/sig') && SIGN_OR_VERIFY.test(lastName(fn))) return lastName(fn).toLowerCase().startsWith('sign') ? 'sign' : 'verify';
      nodeModule ??= url;
      continue;
    }
    const pkg = packageOf(url);
    if (pkg !== null) {
      if (pkg === '@noble/curves' && SIGN_OR_VERIFY.test(lastName(fn))) return lastName(fn).toLowerCase().startsWith('sign') ? 'sign' : 'verify';
      const c = PACKAGES[pkg] ?? 'other';
      if (c === 'pass') continue;
      return c;
    }
    const rel = relative(url, root);
    if (rel === null) return 'other';
    if (rel.startsWith('runtime/crypto/ed25519.ts') && SIGN_OR_VERIFY.test(lastName(fn))) return lastName(fn).toLowerCase().startsWith('sign') ? 'sign' : 'verify';
    const owner = OWNERS.find(([prefix]) => rel.startsWith(prefix))?.[1] ?? 'other';
    if (owner === 'pass') continue;
    return owner;
  }
  if (nodeModule !== null && SOCKETS.test(nodeModule)) return 'transport';
  // The bench process's only child-process channel in the window is the orderer process's (heights, appends).
  if (nodeModule !== null && nodeModule.startsWith('node:internal/child_process')) return 'bench';
  return 'other';
}

export interface Attribution {
  /** µs of samples per category (idle included here, excluded from `busy_us`). */
  us: Record<Category, number>;
  /** Every sample's time but idle's: the sum of the other categories. */
  busy_us: number;
  samples: number;
  /** The leaf functions with the most time, with their category. */
  top: { category: Category; function: string; file: string; us: number }[];
}

/**
 * Each sample's time by category. A sample lasts until the next one (the last until `endTime`), as DevTools
 * counts self time; the first sample's delta (from `startTime`) is the time before it and is not counted.
 */
export function attribute(profile: CpuProfile, root: string, topN = 15): Attribution {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const self = new Map<number, number>();
  let t = profile.startTime;
  const times: number[] = [];
  for (let i = 0; i < profile.samples.length; i++) times.push((t += profile.timeDeltas[i] ?? 0));
  for (let i = 0; i < profile.samples.length; i++) {
    const end = i + 1 < times.length ? times[i + 1]! : Math.max(profile.endTime, times[i]!);
    const id = profile.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + Math.max(0, end - times[i]!));
  }
  const us = Object.fromEntries(Object.keys(CATEGORIES).map((k) => [k, 0])) as Record<Category, number>;
  const leaves = new Map<string, { category: Category; function: string; file: string; us: number }>();
  for (const [id, time] of self) {
    const frames: CallFrame[] = [];
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) frames.push(byId.get(n)!.callFrame);
    const category = classify(frames, root);
    us[category] += time;
    const leaf = frames[0]!;
    const file = relative(leaf.url, root) ?? (packageOf(leaf.url) ? `node_modules/${leaf.url.slice(leaf.url.lastIndexOf('/node_modules/') + 14)}` : leaf.url);
    const key = `${category}\0${file}\0${leaf.functionName}`;
    const e = leaves.get(key) ?? { category, function: leaf.functionName || '(anonymous)', file, us: 0 };
    e.us += time;
    leaves.set(key, e);
  }
  const busy = (Object.keys(us) as Category[]).filter((k) => k !== 'idle').reduce((a, k) => a + us[k], 0);
  const top = [...leaves.values()].filter((e) => e.category !== 'idle').sort((a, b) => b.us - a.us).slice(0, topN);
  return { us, busy_us: busy, samples: profile.samples.length, top };
}

export interface CpuProfileSummary {
  /** The profiled window (ms) and the committed peer-blocks in it (blocks × peers). */
  window_ms: number;
  peer_blocks: number;
  sampling_interval_us: number;
  samples: number;
  /** µs of the peers' thread(s) per peer-block (the bench's main thread, or every peer thread added up), by
   * category; `total` is their sum (idle excluded). */
  us_per_peer_block: Record<Exclude<Category, 'idle'> | 'total', number | null>;
  /** µs per peer-block the main thread was idle (not in the total). */
  idle_us_per_peer_block: number | null;
  /** The bench process's CPU (every thread, process.cpuUsage) over the same window per peer-block: more than
   * the sampled total by GC helper threads, libuv's pool and the profiler's own thread; less when the main
   * thread waited for a core it was not given (a sample counts wall time). */
  process_cpu_us_per_peer_block: number | null;
  /** The same by thread (/proc/self/task): the main thread's is what the samples cover. */
  threads_cpu_us_per_peer_block: Record<keyof ThreadCpu, number | null> | null;
  /** The leaf functions with the most time (µs per peer-block). */
  top: { category: Category; function: string; file: string; us_per_peer_block: number | null }[];
}

const per = (us: number, blocks: number) => (blocks > 0 ? Math.round((us / blocks) * 10) / 10 : null);

/** Several profiles' attributions added up: the peers' threads, profiled at once, as one budget. */
export function attributeAll(profiles: readonly CpuProfile[], root: string, topN = 15): Attribution {
  const parts = profiles.map((p) => attribute(p, root, Number.MAX_SAFE_INTEGER));
  const us = Object.fromEntries(Object.keys(CATEGORIES).map((k) => [k, parts.reduce((a, x) => a + x.us[k as Category], 0)])) as Record<Category, number>;
  const leaves = new Map<string, Attribution['top'][number]>();
  for (const e of parts.flatMap((x) => x.top)) {
    const key = `${e.category}\0${e.file}\0${e.function}`;
    const m = leaves.get(key);
    if (m) m.us += e.us;
    else leaves.set(key, { ...e });
  }
  return {
    us,
    busy_us: parts.reduce((a, x) => a + x.busy_us, 0),
    samples: parts.reduce((a, x) => a + x.samples, 0),
    top: [...leaves.values()].sort((a, b) => b.us - a.us).slice(0, topN),
  };
}

/** A profile's attribution in µs per peer-block (several profiles: one per peer thread, added up). */
export function summarize(profile: CpuProfile | readonly CpuProfile[], o: { root: string; peerBlocks: number; intervalUs: number; processCpuUs: number | null; threadsCpuUs?: ThreadCpu | null }): CpuProfileSummary {
  const profiles = Array.isArray(profile) ? profile : [profile as CpuProfile];
  const a = attributeAll(profiles, o.root);
  const cats = (Object.keys(CATEGORIES) as Category[]).filter((k): k is Exclude<Category, 'idle'> => k !== 'idle');
  const us = Object.fromEntries([...cats.map((k) => [k, per(a.us[k], o.peerBlocks)]), ['total', per(a.busy_us, o.peerBlocks)]]) as CpuProfileSummary['us_per_peer_block'];
  return {
    window_ms: Math.round(Math.max(...profiles.map((p) => p.endTime - p.startTime)) / 1000),
    peer_blocks: o.peerBlocks,
    sampling_interval_us: o.intervalUs,
    samples: a.samples,
    us_per_peer_block: us,
    idle_us_per_peer_block: per(a.us.idle, o.peerBlocks),
    process_cpu_us_per_peer_block: o.processCpuUs === null ? null : per(o.processCpuUs, o.peerBlocks),
    threads_cpu_us_per_peer_block: o.threadsCpuUs ? { main: per(o.threadsCpuUs.main, o.peerBlocks), profiler: per(o.threadsCpuUs.profiler, o.peerBlocks), other: per(o.threadsCpuUs.other, o.peerBlocks) } : null,
    top: a.top.map((e) => ({ category: e.category, function: e.function, file: e.file, us_per_peer_block: per(e.us, o.peerBlocks) })),
  };
}

/** The repository's directory (ending in '/'): murmur's sources are under it. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface RunningProfile {
  stop(): Promise<CpuProfile>;
}

/** Starts sampling this process's main thread every `intervalUs` (node:inspector's Profiler, in process). */
export async function startCpuProfile(intervalUs = 1000): Promise<RunningProfile> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
  await session.post('Profiler.start');
  return {
    async stop() {
      try {
        const { profile } = await session.post('Profiler.stop');
        return profile as CpuProfile;
      } finally {
        await session.post('Profiler.disable').catch(() => undefined);
        session.disconnect();
      }
    },
  };
}

let ticks: number | null | undefined;

/** The kernel's clock ticks per second (`getconf CLK_TCK`), which /proc/<pid>/stat counts in. */
function clockTicks(): number | null {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || null;
    } catch {
      ticks = null;
    }
  }
  return ticks;
}

/** utime + stime (µs) and the thread or process name of a /proc stat file; null when it cannot be read. */
function readStat(path: string): { name: string; us: number } | null {
  const hz = clockTicks();
  if (hz === null) return null;
  try {
    const stat = readFileSync(path, 'utf8');
    // "pid (comm) state …": after the comm, state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[14 - 3]);
    const stime = Number(fields[15 - 3]);
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
    return { name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), us: ((utime + stime) * 1e6) / hz };
  } catch {
    return null;
  }
}

/** CPU time (user + system, µs, every thread) a process has used so far, from /proc/<pid>/stat (Linux; 10 ms
 * resolution at 100 ticks/s); null when it cannot be read (no /proc, process gone). */
export function processCpuUs(pid: number): number | null {
  return readStat(`/proc/${pid}/stat`)?.us ?? null;
}

export interface ThreadCpu {
  /** The main thread (every peer's JavaScript: what the profile samples). */
  main: number;
  /** V8's profiler thread (v8:ProfEvntProc), while a profile runs. */
  profiler: number;
  /** Every other thread: V8's platform workers (concurrent GC, compilation), libuv's pool, the inspector's. */
  other: number;
}

/** This process's CPU so far by thread (µs, /proc/self/task; 10 ms resolution per thread); null without /proc.
 * Node 20 names its threads "node", so only the main thread (tid = pid) and V8's profiler thread are told apart. */
export function threadCpuUs(): ThreadCpu | null {
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return null;
  }
  const out: ThreadCpu = { main: 0, profiler: 0, other: 0 };
  for (const tid of tids) {
    const t = readStat(`/proc/self/task/${tid}/stat`);
    if (!t) continue;
    if (Number(tid) === process.pid) out.main += t.us;
    else if (t.name.startsWith('v8:Prof')) out.profiler += t.us;
    else out.other += t.us;
  }
  return out;
}

/** This process's CPU time so far (µs, every thread). */
export function ownCpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}
