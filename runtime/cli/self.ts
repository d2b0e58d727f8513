// How a murmur process starts another one (up's orderer and peers) the same way it runs itself: from the CLI
// bundle (dist/cli/murmur.cjs), the child runs bin/compiled.cjs directly (no second look at which build is
// current; the same code cache); from tsc's dist/runtime/, its main.js; from the TypeScript sources,
// bin/murmur.js (which registers tsx). Never a path relative to the current directory.
// Every murmur process runs with NODE_FLAGS: the package's bin (bin/murmur.cjs) carries them on its shebang
// line (a test keeps the two equal) and `up` passes them to its children.
import { fileURLToPath } from 'node:url';

/**
 * V8 collects garbage on the main thread only. A peer's heap is small (tens of MB) and its collections short,
 * and V8's helper threads for parallel and concurrent collection cost more in wake-ups than they save: 24 idle
 * peers in one process used 11-17 % less CPU without them (README, Idle cost).
 */
export const NODE_FLAGS = ['--single-threaded-gc'];

const here = import.meta.url;
const ENTRY = fileURLToPath(new URL(here.endsWith('.cjs') ? '../../bin/compiled.cjs' : here.endsWith('.js') ? './main.js' : '../../bin/murmur.js', here));

/** `spawn(command, args)` for `murmur <args...>`. */
export function murmurCommand(args: string[]): { command: string; args: string[] } {
  return { command: process.execPath, args: [...NODE_FLAGS, ENTRY, ...args] };
}
