// How the measurement scripts start murmur: as the `murmur` command starts (the package's bin, whose shebang
// carries murmur's node flags), with room for extra node arguments (--cpu-prof). A checkout older than
// bin/murmur.cjs runs bin/murmur.js without flags, as it did.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Node flags on `bin`'s `#!/usr/bin/env -S node ...` line (none for a plain `#!/usr/bin/env node`). */
export function shebangFlags(bin) {
  const first = readFileSync(bin, 'utf8').split('\n', 1)[0];
  const m = /^#!\/usr\/bin\/env -S node((?: --?[\w-]+(?:=\S+)?)*)\s*$/.exec(first);
  return m ? m[1].split(' ').filter(Boolean) : [];
}

/** The murmur command of checkout `dir`: bin/murmur.cjs (the package's bin), else bin/murmur.js. */
export function murmurBin(dir) {
  const cjs = join(dir, 'bin', 'murmur.cjs');
  return existsSync(cjs) ? cjs : join(dir, 'bin', 'murmur.js');
}

/** `spawn(process.execPath, <this>)` for `murmur <args>` run from `bin`, with node arguments of the caller's. */
export function murmurArgs(bin, args, nodeArgs = []) {
  return [...shebangFlags(bin), ...nodeArgs, bin, ...args];
}
