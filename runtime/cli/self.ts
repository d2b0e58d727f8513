// How a murmur process starts another one (up's orderer and peers) the same way it runs itself: from the CLI
// bundle (dist/cli/murmur.cjs), the child runs bin/compiled.cjs directly (no second look at which build is
// current; the same code cache); from tsc's dist/runtime/, its main.js; from the TypeScript sources,
// bin/murmur.js (which registers tsx). Never a path relative to the current directory.
import { fileURLToPath } from 'node:url';

const here = import.meta.url;
const ENTRY = fileURLToPath(new URL(here.endsWith('.cjs') ? '../../bin/compiled.cjs' : here.endsWith('.js') ? './main.js' : '../../bin/murmur.js', here));

/** `spawn(command, args)` for `murmur <args...>`. */
export function murmurCommand(args: string[]): { command: string; args: string[] } {
  return { command: process.execPath, args: [ENTRY, ...args] };
}
