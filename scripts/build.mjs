#!/usr/bin/env node
// `npm run build` (also the `prepare` script, so `npm ci` and `npm pack` build): tsc compiles the runtime to
// JavaScript and declaration files in dist/ (tsconfig.build.json), the dashboard's static files are copied
// next to its server, and dist/.built is stamped last: bin/murmur.js runs dist/ only while no source is newer.
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
cpSync(join(root, 'runtime/dashboard/public'), join(dist, 'runtime/dashboard/public'), { recursive: true });
writeFileSync(join(root, STAMP), `${new Date().toISOString()}\n`);
