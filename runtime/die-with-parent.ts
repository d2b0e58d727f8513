// Nothing murmur starts may outlive the process that started it, even when that process is killed with
// SIGKILL (no handler runs) or its own launcher goes away without telling it.
// - Children that are not Node (nats-server) are started through util-linux `setpriv --pdeathsig SIGTERM`:
//   the kernel sends them SIGTERM when the spawning thread exits, so JetStream shuts down cleanly and the store
//   stays intact. Node children (peers, orderer) already stop when their IPC channel to `up` disconnects.
// - A long-running command (`up`, `dashboard`) cannot be told by the kernel that its launcher is gone (npx's
//   `sh -c` forwards no signal), so it polls its parent pid: a change means it was re-parented, i.e. orphaned.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

let setprivPath: string | null | undefined;

/** The setpriv binary on PATH (Linux only), or null where it is absent. Looked up once. */
export function setpriv(): string | null {
  if (setprivPath !== undefined) return setprivPath;
  setprivPath = null;
  if (process.platform !== 'linux') return null;
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
    const p = join(dir, 'setpriv');
    try {
      accessSync(p, constants.X_OK);
      setprivPath = p;
      break;
    } catch {
      /* next */
    }
  }
  return setprivPath;
}

/** The command line that runs `bin args` so it receives SIGTERM when this process dies (unchanged where
 * setpriv is missing: the caller's own shutdown path still stops it). */
export function dieWithParent(bin: string, args: readonly string[]): { bin: string; args: string[] } {
  const sp = setpriv();
  return sp ? { bin: sp, args: ['--pdeathsig', 'SIGTERM', '--', bin, ...args] } : { bin, args: [...args] };
}

/**
 * Calls `onGone` once when this process's parent changes (the launcher exited and we were re-parented to init
 * or a subreaper). Returns a function that stops watching. The timer is unref'd: it never keeps a process alive.
 */
export function watchParent(onGone: () => void, everyMs = 500): () => void {
  const original = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === original) return;
    clearInterval(timer);
    onGone();
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
