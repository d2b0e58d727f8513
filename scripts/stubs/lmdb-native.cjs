// lmdb's native addon, for the bundle (scripts/build.mjs): lmdb's JavaScript is bundled into dist/cli/murmur.cjs
// and code-cached like the rest; its addon is one file of its platform package (@lmdb/lmdb-<platform>-<arch>).
// lmdb finds it with node-gyp-build-optional-packages, which probes folders and runs detect-libc at every start
// (~25 ms of a peer's start with msgpackr's and cbor-x's probes). Here: the addon for this Node's ABI, glibc
// then musl (the wrong one fails to load and the next is tried), then N-API; lmdb's own loader, from lmdb's
// folder, if none loads, so an unusual install behaves as it did.
'use strict';
const { createRequire } = require('node:module');
const { existsSync } = require('node:fs');
const { dirname, join } = require('node:path');

/** lmdb's native addon; `loadLmdbAddon.from` says whether it came from the platform package or lmdb's loader. */
function loadLmdbAddon() {
  const here = createRequire(__filename);
  let lmdbIndex = null;
  try {
    lmdbIndex = here.resolve('lmdb');
  } catch {}
  const pkg = `@lmdb/lmdb-${process.platform}-${process.arch}/package.json`;
  const abi = process.versions.modules;
  const files = [`node.abi${abi}.glibc.node`, `node.abi${abi}.musl.node`, 'node.napi.glibc.node', 'node.napi.musl.node'];
  for (const from of [here, lmdbIndex && createRequire(lmdbIndex)]) {
    if (!from) continue;
    let dir;
    try {
      dir = dirname(from.resolve(pkg));
    } catch {
      continue;
    }
    for (const f of files) {
      if (!existsSync(join(dir, f))) continue;
      try {
        const addon = here(join(dir, f));
        loadLmdbAddon.from = 'platform-package';
        return addon;
      } catch {}
    }
  }
  if (!lmdbIndex) throw new Error('lmdb is not installed next to murmur');
  loadLmdbAddon.from = 'lmdb-loader';
  return createRequire(lmdbIndex)('node-gyp-build-optional-packages')(dirname(dirname(lmdbIndex)));
};
module.exports = loadLmdbAddon;
