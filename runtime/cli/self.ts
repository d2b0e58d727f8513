// How a murmur process starts another one (up's orderer and peers) the same way it runs itself: compiled, the
// child runs dist/runtime/cli/main.js directly (no second look at which build is current); from the TypeScript
// sources, bin/murmur.js (which registers tsx). Never a path relative to the current directory.
import { fileURLToPath } from 'node:url';

const compiled = import.meta.url.endsWith('.js');
const ENTRY = fileURLToPath(new URL(compiled ? './main.js' : '../../bin/murmur.js', import.meta.url));

/** `spawn(command, args)` for `murmur <args...>`. */
export function murmurCommand(args: string[]): { command: string; args: string[] } {
  return { command: process.execPath, args: [ENTRY, ...args] };
}
