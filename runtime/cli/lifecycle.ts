// How a long-running murmur process ends: SIGTERM, SIGINT, or (when started by `murmur up` with an IPC
// channel) its parent going away. The stop work runs once; if it hangs, the process exits 1 after a deadline.
import { createLogs, type Logs } from '../log.ts';

export function processLogs(module: string): { logs: Logs; log: (line: string) => void } {
  const logs = createLogs({ base: { pid: process.pid } });
  const l = logs.module(module);
  return { logs, log: (line) => l.info(line) };
}

export function stopOnSignals(log: (line: string) => void, stop: () => Promise<string | void>, deadlineMs = 10_000): void {
  let stopping = false;
  const run = async (why: string) => {
    if (stopping) return;
    stopping = true;
    log(`${why}: stopping`);
    const force = setTimeout(() => {
      log('stop took too long; exiting');
      process.exit(1);
    }, deadlineMs);
    force.unref();
    const summary = await stop();
    log(summary ? `stopped (${summary})` : 'stopped');
    process.exit(0);
  };
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.once(sig, () => void run(sig));
  if (process.send) process.once('disconnect', () => void run('parent gone'));
}
