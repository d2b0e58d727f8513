#!/usr/bin/env node
// The `murmur` command. Runs the compiled dist/ (npm run build; `npm ci` and `npm pack` build it); in a checkout
// whose sources are newer than that build, runs the TypeScript sources through tsx (a dev dependency) instead.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { entryKind } from './built.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const kind = entryKind(root);
if (kind === 'dist') {
  createRequire(import.meta.url)('./compiled.cjs').run();
} else if (kind === 'sources') {
  const { register } = await import('tsx/esm/api').catch(() => {
    console.error('murmur: dist/ is missing or older than the sources, and tsx is not installed: run `npm run build`');
    process.exit(2);
  });
  register();
  await import('../runtime/cli/main.ts');
} else {
  console.error('murmur: dist/ is missing from this package: run `npm run build`');
  process.exit(2);
}
