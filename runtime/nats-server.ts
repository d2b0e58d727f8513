// Launches a local nats-server (embedded server of `murmur up`, integration tests). The caller owns the
// process: `stop()` SIGTERMs it, SIGKILLs it after a grace period, and resolves once it has exited. Servers
// still running when this process exits are killed by an exit hook, so a crashed test leaves none behind, and
// the kernel SIGTERMs them if this process is killed outright (runtime/die-with-parent.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { dieWithParent } from './die-with-parent.ts';

export class NatsServerError extends Error {
  override readonly name = 'NatsServerError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export interface NatsServerOptions {
  /** Client port; 0 (default) picks a free one. */
  port?: number;
  /** Listen address (default 127.0.0.1). */
  host?: string;
  /** JetStream on (default true). */
  jetstream?: boolean;
  /** JetStream store; default a fresh temporary directory removed by `stop()`. */
  storeDir?: string;
  /** Monitoring port; 0 (default) picks a free one. */
  monitorPort?: number;
  /** Server log file (`-l`); by default the log goes to stderr and its tail is kept for error messages. */
  logFile?: string;
  extraArgs?: string[];
  /** How long to wait for the server to become healthy (ms, default 10 000). */
  timeoutMs?: number;
  /** SIGTERM → SIGKILL grace period of `stop()` (ms, default 5 000). */
  stopGraceMs?: number;
  /** Explicit path of the binary instead of searching PATH and /usr/sbin. */
  binary?: string;
}

export interface NatsServer {
  url: string;
  port: number;
  monitorUrl: string;
  pid: number;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function trackForExit(child: ChildProcess): void {
  live.add(child);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of live) {
      try {
        c.kill('SIGKILL');
      } catch {
        // Already gone.
      }
    }
  });
}

/** Path of the nats-server binary (PATH, then /usr/sbin, /usr/local/bin), or null. */
export function findNatsServer(): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/sbin', '/usr/local/sbin', '/usr/local/bin', '/usr/bin'];
  for (const dir of dirs) {
    const candidate = join(dir, 'nats-server');
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Ports this process handed out, so two callers in one process never get the same one. */
const handedOut = new Set<number>();

/** The kernel's ephemeral range (outgoing connections' source ports and every bind to port 0 come from it). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 2048 ? low : 32768;
  } catch {
    return 32768;
  }
}

/** A TCP port that was free on `host` a moment ago, for a process that binds it later. It is picked below the
 * kernel's ephemeral range: a port the OS assigned (port 0) is reused by the next outgoing connection or port-0
 * bind anywhere on the machine, so between the pick and the later bind someone else could take it (a peer of
 * `murmur up` then failed to start its ops server). Falls back to the OS's pick after a few taken ports. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const high = ephemeralLow() - 1;
  const low = Math.max(1024, high - 16_383);
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (handedOut.has(port)) continue;
    if ((await tryBind(port, host)) !== null) {
      handedOut.add(port);
      return port;
    }
  }
  const port = await tryBind(0, host);
  if (port === null) throw new Error(`freePort: no free port on ${host}`);
  return port;
}

/** Binds and releases `port` (0: any); the bound port, or null when it is taken. */
function tryBind(port: number, host: string): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' || e.code === 'EACCES' ? resolve(null) : reject(e)));
    srv.listen(port, host, () => {
      const addr = srv.address();
      const bound = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(bound || null));
    });
  });
}

function httpOk(url: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get(url, { timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

function tcpOk(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host, port });
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Keeps the last `max` characters of a stream. */
class Tail {
  private text = '';
  constructor(private readonly max = 4000) {}
  push(chunk: Buffer | string): void {
    this.text = (this.text + chunk.toString()).slice(-this.max);
  }
  toString(): string {
    return this.text.trim();
  }
}

export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServer> {
  const bin = opts.binary !== undefined ? (isExecutable(opts.binary) ? opts.binary : null) : findNatsServer();
  if (!bin) throw new NatsServerError('nats-server not found: install it with "apt-get install -y nats-server"');
  const host = opts.host ?? '127.0.0.1';
  const jetstream = opts.jetstream ?? true;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  // A picked port can be taken between freePort() and the server's bind: retry only ports we picked.
  const attempts = opts.port || opts.monitorPort ? 1 : 3;
  let lastError: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      return await launch(bin, host, jetstream, timeoutMs, opts);
    } catch (err) {
      lastError = err;
      if (!(err instanceof NatsServerError) || !/address already in use/i.test(err.message)) throw err;
    }
  }
  throw lastError;
}

async function launch(bin: string, host: string, jetstream: boolean, timeoutMs: number, opts: NatsServerOptions): Promise<NatsServer> {
  const port = opts.port || (await freePort(host));
  const monitorPort = opts.monitorPort || (await freePort(host));
  const ownStore = jetstream && !opts.storeDir ? mkdtempSync(join(tmpdir(), 'murmur-nats-')) : null;
  const args = ['-a', host, '-p', String(port), '-m', String(monitorPort)];
  if (jetstream) args.push('-js', '-sd', opts.storeDir ?? ownStore!);
  if (opts.logFile) args.push('-l', opts.logFile);
  args.push(...(opts.extraArgs ?? []));

  const tail = new Tail();
  // Through setpriv --pdeathsig: a SIGKILLed `up` (or test runner) takes its server with it.
  const cmd = dieWithParent(bin, args);
  const child = spawn(cmd.bin, cmd.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (c: Buffer) => tail.push(c));
  child.stderr!.on('data', (c: Buffer) => tail.push(c));
  trackForExit(child);
  let spawnError: Error | null = null;
  child.once('error', (err) => (spawnError = err));
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  exited.then(() => {
    live.delete(child);
    if (ownStore) rmSync(ownStore, { recursive: true, force: true });
  });

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null && !spawnError) {
        child.kill('SIGTERM');
        const grace = opts.stopGraceMs ?? 5000;
        let timer: ReturnType<typeof setTimeout> | undefined;
        const killed = new Promise<void>((r) => {
          timer = setTimeout(() => {
            child.kill('SIGKILL');
            r();
          }, grace);
        });
        await Promise.race([exited, killed]);
        clearTimeout(timer);
      }
      await exited;
    })();
    return stopping;
  };

  const url = `nats://${host}:${port}`;
  const monitorUrl = `http://${host}:${monitorPort}`;
  const health = `${monitorUrl}/healthz${jetstream ? '?js-enabled-only=true' : ''}`;
  const deadline = Date.now() + timeoutMs;
  let exitedEarly = false;
  void exited.then(() => (exitedEarly = true));
  for (;;) {
    if (spawnError || exitedEarly) {
      await stop();
      const why = spawnError ? `could not run ${bin}: ${(spawnError as Error).message}` : `nats-server exited (code ${child.exitCode}, signal ${child.signalCode})`;
      throw new NatsServerError(`${why}\n--- nats-server output (tail) ---\n${tail}`);
    }
    if ((await httpOk(health, 500)) && (await tcpOk(host, port, 500))) break;
    if (Date.now() > deadline) {
      await stop();
      throw new NatsServerError(`nats-server on ${url} not healthy after ${timeoutMs} ms (${health})\n--- nats-server output (tail) ---\n${tail}`);
    }
    await sleep(20);
  }
  return { url, port, monitorUrl, pid: child.pid!, stop };
}
