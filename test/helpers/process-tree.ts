// A process's descendants read from /proc (Linux), for tests that check nothing outlives `murmur up`.
import { readdirSync, readFileSync } from 'node:fs';

export interface Proc {
  pid: number;
  ppid: number;
  comm: string;
}

function readProc(pid: number): Proc | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ...": comm may hold spaces or parentheses, so split at the last ')'.
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const ppid = Number(stat.slice(close + 2).split(' ')[1]);
    return { pid, ppid, comm };
  } catch {
    return null; // gone meanwhile
  }
}

export function processes(): Proc[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => readProc(Number(d)))
    .filter((p): p is Proc => p !== null);
}

/** Every live descendant of `root` (not root itself). */
export function descendants(root: number): Proc[] {
  const all = processes();
  const out: Proc[] = [];
  const frontier = [root];
  while (frontier.length) {
    const parent = frontier.pop()!;
    for (const p of all) if (p.ppid === parent) {
      out.push(p);
      frontier.push(p.pid);
    }
  }
  return out;
}

/** The processes of `procs` still running (zombies count as gone: they have exited). */
export function stillRunning(procs: readonly Proc[]): Proc[] {
  return procs.filter((p) => {
    try {
      const stat = readFileSync(`/proc/${p.pid}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      return state !== 'Z';
    } catch {
      return false;
    }
  });
}
