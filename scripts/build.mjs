#!/usr/bin/env node
// `npm run build` (also the `prepare` script, so `npm ci` and `npm pack` build): tsc compiles the runtime to
// JavaScript and declaration files in dist/ (tsconfig.build.json: the public API, one file per module), esbuild
// bundles the CLI into dist/cli/murmur.cjs (what tsc cannot: one minified graph with its dependencies, which
// bin/compiled.cjs runs with a V8 code cache; a peer starts in about half the time of hundreds of files), the
// dashboard's static files are copied next to both servers, and dist/.built is stamped last: bin/murmur.js runs
// dist/ only while no source is newer.
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { STAMP } from '../bin/built.mjs';

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
  // Native or worker-based: loaded from node_modules at run time.
  external: ['lmdb', 'pino', 'thread-stream'],
  // import.meta.url (runtime/cli/self.ts, the dashboard's files) is the bundle's own URL.
  define: { 'import.meta.url': '__murmurUrl' },
  banner: { js: "const __murmurUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});
for (const at of ['runtime/dashboard/public', 'cli/public']) cpSync(join(root, 'runtime/dashboard/public'), join(dist, at), { recursive: true });
writeFileSync(join(root, STAMP), `${new Date().toISOString()}\n`);
