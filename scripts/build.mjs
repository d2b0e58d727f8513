#!/usr/bin/env node
// `npm run build` (also the `prepare` script, so `npm ci` and `npm pack` build): tsc compiles the runtime to
// JavaScript and declaration files in dist/ (tsconfig.build.json: the public API, one file per module), esbuild
// bundles the CLI into dist/cli/murmur.cjs (what tsc cannot: one minified graph with its dependencies, which
// bin/compiled.cjs runs with a V8 code cache; a peer starts in about half the time of hundreds of files), the
// dashboard's static files are copied next to both servers, and dist/.built is stamped last: bin/murmur.js runs
// dist/ only while no source is newer.
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { STAMP } from '../bin/built.cjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (r.status !== 0) {
  console.error('build: tsc failed; dist/ is incomplete (bin/murmur.js keeps running the sources through tsx)');
  process.exit(r.status ?? 1);
}
const { build } = await import('esbuild');
/** Dependencies whose top-level tls, dns and child_process are loaded on first use (see the plugin). */
const LAZY_BUILTINS = ['nats', 'commander'];
// nats asks `socket instanceof tls.TLSSocket` of every connection: before tls is loaded no socket of nats' can be
// one, so that question alone does not load it.
const lazyBuiltin = (name) =>
  `let m; const load = () => (m ??= require('node:${name}'));` +
  (name === 'tls' ? ' const none = { [Symbol.hasInstance]: () => false };' : '') +
  ` module.exports = new Proxy({}, { get: (_, k) => (${name === 'tls' ? "k === 'TLSSocket' && !m ? none : " : ''}load()[k]), has: (_, k) => k in load() });`;
/** Modules the bundle replaces (see the plugin below). */
const STUBS = {
  'thread-stream': "module.exports = class { constructor() { throw new Error('pino transports are not part of the murmur bundle'); } };",
  assert: 'module.exports = (ok, message) => { if (!ok) throw new Error(message); };',
  // cbor-x and msgpackr (lmdb's) try an optional native string extractor. From the bundle its loader looked
  // for the binary next to dist/cli/, failed after ~12 ms of probing and detect-libc, and the codecs ran in
  // JavaScript anyway (which decodes murmur's messages as fast: 0.9-1.5 us either way for alive messages and
  // 4 KB blocks). Now they are told at once that there is none.
  'main-thread': 'module.exports = { isMainThread: true };',
  'no-native-extractor': 'module.exports = undefined;',
  // lmdb's JavaScript is bundled (and so code-cached): its native addon is the one file still loaded from
  // node_modules (bin/lmdb-native.cjs).
  'lmdb-native': readFileSync(join(root, 'scripts/stubs/lmdb-native.cjs'), 'utf8'),
};
await build({
  entryPoints: [join(root, 'runtime/cli/main.ts')],
  outfile: join(dist, 'cli', 'murmur.cjs'),
  bundle: true,
  // CommonJS so that bin/compiled.cjs can compile it with a V8 code cache (vm.Script); one file, every
  // command's module initialised only when that command runs.
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minify: true,
  // Stack traces and logs keep function and class names.
  keepNames: true,
  // Native: loaded from node_modules at run time. pino is bundled; its transports (worker threads that load
  // files from node_modules) are not used by murmur, so thread-stream, which only they need and which costs
  // ~8 ms of every start (worker_threads, assert), is replaced by a stub that refuses to run.
  external: ['bun:ffi'],
  plugins: [
    {
      name: 'no-pino-transports',
      setup(b) {
        b.onResolve({ filter: /^thread-stream$/ }, () => ({ path: 'thread-stream', namespace: 'murmur-stub' }));
        // sonic-boom (pino's destination) asserts one thing with node:assert, whose module graph is ~5 ms.
        b.onResolve({ filter: /^assert$/ }, (a) => (/[\\/]sonic-boom[\\/]/.test(a.importer) ? { path: 'assert', namespace: 'murmur-stub' } : undefined));
        b.onResolve({ filter: /^(cbor-extract|msgpackr-extract)$/ }, () => ({ path: 'no-native-extractor', namespace: 'murmur-stub' }));
        b.onResolve({ filter: /^node-gyp-build-optional-packages$/ }, (a) =>
          /[\\/]lmdb[\\/]/.test(a.importer) ? { path: 'lmdb-native', namespace: 'murmur-stub' } : undefined,
        );
        // Builtins a dependency loads at the top and uses only on paths a peer's start does not take (nats: TLS
        // and DNS SRV resolution; commander: executable subcommands; ~7 ms of module graph): loaded on first use.
        b.onResolve({ filter: /^(node:)?(tls|dns|child_process)$/ }, (a) =>
          LAZY_BUILTINS.some((dep) => a.importer.includes(`${sep}node_modules${sep}${dep}${sep}`)) ? { path: `lazy:${a.path.replace(/^node:/, '')}`, namespace: 'murmur-stub' } : undefined,
        );
        // pino reads worker_threads' isMainThread only to decide whether an asynchronous destination flushes at
        // exit; murmur's destinations are synchronous and the bundle runs on the main thread (bin/compiled.cjs).
        b.onResolve({ filter: /^(node:)?worker_threads$/ }, (a) => (/[\\/]pino[\\/]lib[\\/]tools\.js$/.test(a.importer) ? { path: 'main-thread', namespace: 'murmur-stub' } : undefined));
        b.onLoad({ filter: /.*/, namespace: 'murmur-stub' }, (a) => ({
          contents: a.path.startsWith('lazy:') ? lazyBuiltin(a.path.slice(5)) : STUBS[a.path],
          loader: 'js',
        }));
      },
    },
  ],
  // import.meta.url (runtime/cli/self.ts, the dashboard's files) is the bundle's own URL.
  define: { 'import.meta.url': '__murmurUrl' },
  banner: { js: "const __murmurUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});
// bin/compiled.cjs reads the bundle as Latin-1: one non-ASCII character would make a UTF-8 read decode all of
// it into a two-byte string (~12 ms of every start), and Latin-1 would then garble that character.
const bundled = readFileSync(join(dist, 'cli', 'murmur.cjs'));
const nonAscii = bundled.findIndex((b) => b > 0x7f);
if (nonAscii >= 0) {
  console.error(`build: dist/cli/murmur.cjs has a non-ASCII byte at ${nonAscii}: ...${bundled.subarray(Math.max(0, nonAscii - 60), nonAscii + 20).toString('utf8')}...`);
  console.error('build: write it as an escape in the source (esbuild leaves regular expression literals as written)');
  process.exit(1);
}
for (const at of ['runtime/dashboard/public', 'cli/public']) cpSync(join(root, 'runtime/dashboard/public'), join(dist, at), { recursive: true });
writeFileSync(join(root, STAMP), `${new Date().toISOString()}\n`);
