#!/usr/bin/env node
// The `murmur` command (package.json `bin`). Runs the compiled dist/ (npm run build; `npm ci` and `npm pack`
// build it); in a checkout whose sources are newer than that build, runs the TypeScript sources through tsx (a
// dev dependency) instead. CommonJS, so that an installed `murmur` starts without Node's ES module loader.
'use strict';
const { join } = require('node:path');
const { entryKind } = require('./built.cjs');

const kind = entryKind(join(__dirname, '..'));
if (kind === 'dist') {
  require('./compiled.cjs').run();
} else if (kind === 'sources') {
  import('tsx/esm/api').then(
    ({ register }) => {
      register();
      return import('../runtime/cli/main.ts');
    },
    () => {
      console.error('murmur: dist/ is missing or older than the sources, and tsx is not installed: run `npm run build`');
      process.exit(2);
    },
  );
} else {
  console.error('murmur: dist/ is missing from this package: run `npm run build`');
  process.exit(2);
}
