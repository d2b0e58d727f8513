#!/usr/bin/env node
// `npm run build` (also the `prepare` script, so `npm ci` and `npm pack` build): tsc compiles the runtime to
// JavaScript and declaration files in dist/ (tsconfig.build.json: the public API, one file per module), esbuild
// bundles the CLI into dist/cli/ (what tsc cannot: one minified graph with its dependencies, split per command,
// which a peer process loads in about half the time and with less memory than hundreds of files), the
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
  outdir: join(dist, 'cli'),
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  // Stack traces and logs keep function and class names.
  keepNames: true,
  // Native or worker-based: loaded from node_modules at run time.
  external: ['lmdb', 'pino', 'thread-stream'],
  // Bundled CommonJS dependencies call require().
  banner: { js: "import { createRequire as __murmurRequire } from 'node:module'; const require = __murmurRequire(import.meta.url);" },
  logLevel: 'warning',
});
for (const at of ['runtime/dashboard/public', 'cli/public']) cpSync(join(root, 'runtime/dashboard/public'), join(dist, at), { recursive: true });
writeFileSync(join(root, STAMP), `${new Date().toISOString()}\n`);
