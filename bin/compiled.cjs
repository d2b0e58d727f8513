// Runs the compiled CLI (dist/cli/murmur.cjs, one CommonJS bundle written by scripts/build.mjs) with a V8 code
// cache: Node 20 has no module compile cache, and compiling the ~1 MB bundle is about a third of a peer's start.
// The first run of each command (`peer`, `orderer`, `up`, ...) writes what V8 compiled during its first
// seconds next to the bundle (tmp file + rename: concurrent starts are safe); later runs start from it. The
// cache's name carries the bundle's size and mtime, so a rebuild never meets an old cache (V8 itself checks
// only its version, flags and the source's length). A cache V8 rejects is rewritten; an unwritable folder or
// MURMUR_CODE_CACHE=off only means compiling from source. Run directly by `up` for its children.
'use strict';
const vm = require('node:vm');
const v8 = require('node:v8');
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');

const BUNDLE = path.join(__dirname, '..', 'dist', 'cli', 'murmur.cjs');
/** Written this long after start (or at exit, if sooner): a peer has connected and started its actors by then. */
const WRITE_AFTER_MS = 3000;

function cachePath(bundle, argv) {
  const st = fs.statSync(bundle);
  // The command comes first (`murmur peer start ...`); anything else (`--version`, no argument) is one kind.
  const command = /^[a-z][a-z-]{0,19}$/.test(argv[0] ?? '') ? argv[0] : 'other';
  return `${bundle}.${st.size}-${Math.trunc(st.mtimeMs)}.${command}.cache`;
}

/** Runs the bundle; says whether its code cache was used ('hit'), missing, rejected by V8, or turned off. */
function run(bundle = BUNDLE, argv = process.argv.slice(2)) {
  // Loading allocates in a burst whose survivors are long-lived; V8 answers by doubling the young generation,
  // which then stays committed in an idle process (+8-15 MB RSS). Keep it at its size while starting.
  // The cache must be written before the flag changes back: V8 keys a cache by the flags in force when it was
  // made, and one made after the change is rejected by every later start (which runs with the flag set).
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  let writeCache = () => {};
  setTimeout(() => {
    writeCache();
    v8.setFlagsFromString('--semi-space-growth-factor=2');
  }, WRITE_AFTER_MS).unref();
  // The build keeps the bundle ASCII (scripts/build.mjs checks), so Latin-1 reads it exactly and skips UTF-8
  // validation of 1.2 MB.
  const source = fs.readFileSync(bundle, 'latin1');
  const useCache = process.env.MURMUR_CODE_CACHE !== 'off';
  const cacheFile = useCache ? cachePath(bundle, argv) : null;
  let cachedData;
  if (cacheFile) {
    try {
      cachedData = fs.readFileSync(cacheFile);
    } catch {
      cachedData = undefined;
    }
  }
  const script = new vm.Script(Module.wrap(source), {
    filename: bundle,
    cachedData,
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const cache = !cacheFile ? 'off' : cachedData === undefined ? 'miss' : script.cachedDataRejected ? 'rejected' : 'hit';
  if (cache === 'miss' || cache === 'rejected') {
    let written = false;
    const write = () => {
      if (written) return;
      written = true;
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      try {
        fs.writeFileSync(tmp, script.createCachedData());
        fs.renameSync(tmp, cacheFile);
      } catch {
        try {
          fs.rmSync(tmp, { force: true });
        } catch {}
      }
    };
    writeCache = write;
    process.once('exit', write);
  }
  const mod = new Module(bundle, module);
  mod.filename = bundle;
  mod.paths = Module._nodeModulePaths(path.dirname(bundle));
  script.runInThisContext()(mod.exports, Module.createRequire(bundle), mod, bundle, path.dirname(bundle));
  return cache;
}

module.exports = { run, cachePath };
if (require.main === module) run();
