// The parent's side of bench/lib/orderer-child.ts: spawns the orderer process, measures the offset between its
// clock and this one (10 pings; the one with the shortest round trip: offset = child time − midpoint), and turns
// its reports into this process's terms: heights, pending transactions, and each block's append on this
// process's performance.now() clock.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { toHex } from '../../runtime/util/bytes.ts';
import { absNow, type ChildReply, type ChildRequest } from './orderer-protocol.ts';
import { sleep } from './stats.ts';

export interface OrdererLoadResult {
  /** Transactions submitted (one per block). */
  sent: number;
  /** Blocks the orderer appended during the load (counted where it runs). */
  appended: number;
  /** Its height when the load ended. */
  height: number;
}

export class OrdererProcess {
  height = 0;
  pending = 0;
  /** Child clock − this clock (ms), and the round trip it was measured with. */
  offsetMs = 0;
  rttMs = 0;
  onAppended: ((n: number, at: number) => void) | null = null;
  private onDone: ((r: OrdererLoadResult) => void) | null = null;
  private onPong: ((t: number) => void) | null = null;

  private constructor(private readonly proc: ChildProcess) {}

  static async start(o: { url: string; prefix: string; genesis: Uint8Array; secret: Uint8Array }): Promise<OrdererProcess> {
    const proc = fork(fileURLToPath(new URL('./orderer-child.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const op = new OrdererProcess(proc);
    const ready = new Promise<void>((resolve, reject) => {
      proc.on('message', (m: ChildReply) => {
        if (m.type === 'ready') {
          op.height = m.height;
          resolve();
        } else if (m.type === 'error') reject(new Error(`bench: orderer process: ${m.message}`));
        else op.handle(m);
      });
      proc.on('exit', (code) => reject(new Error(`bench: the orderer process exited (${code})`)));
    });
    op.send({ type: 'init', url: o.url, prefix: o.prefix, genesis: Buffer.from(o.genesis).toString('base64'), secret: toHex(o.secret) });
    await ready;
    let best = Infinity;
    for (let i = 0; i < 10; i++) {
      const t0 = absNow();
      const tc = await new Promise<number>((resolve) => {
        op.onPong = resolve;
        op.send({ type: 'ping' });
      });
      const t1 = absNow();
      if (t1 - t0 < best) {
        best = t1 - t0;
        op.rttMs = best;
        op.offsetMs = tc - (t0 + t1) / 2;
      }
      await sleep(5);
    }
    return op;
  }

  /** The orderer process's pid (its CPU is read from /proc by the latency measurement). */
  get pid(): number | undefined {
    return this.proc.pid;
  }

  private send(m: ChildRequest): void {
    this.proc.send(m);
  }

  private handle(m: ChildReply): void {
    if (m.type === 'height') {
      this.height = Math.max(this.height, m.height);
      this.pending = m.pending;
    } else if (m.type === 'pong') this.onPong?.(m.t);
    else if (m.type === 'appended') {
      const base = performance.timeOrigin + this.offsetMs;
      for (const [n, t] of m.blocks) this.onAppended?.(n, t - base);
    } else if (m.type === 'done') {
      this.height = Math.max(this.height, m.height);
      this.onDone?.({ sent: m.sent, appended: m.appended, height: m.height });
    }
  }

  load(rate: number, ms: number, txBytes: number): Promise<OrdererLoadResult> {
    const done = new Promise<OrdererLoadResult>((resolve) => (this.onDone = resolve));
    this.send({ type: 'load', rate, ms, txBytes });
    return done;
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    if (proc.exitCode !== null) return;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    this.send({ type: 'stop' });
    await Promise.race([exited, sleep(5000)]);
    if (proc.exitCode === null) proc.kill('SIGKILL');
  }
}
