// The bundle's loader of lmdb's native addon (scripts/stubs/lmdb-native.cjs) finds the same addon lmdb's own
// loader does, straight from the platform package (no probing), and the bundled lmdb opens a ledger with it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

const require = createRequire(import.meta.url);
const loadLmdbAddon = require('../../scripts/stubs/lmdb-native.cjs') as (() => unknown) & { from?: string };

test('the addon is the one lmdb loads itself, taken from its platform package', () => {
  const addon = loadLmdbAddon();
  assert.is(loadLmdbAddon.from, 'platform-package');
  const lmdbIndex = require.resolve('lmdb');
  const own = createRequire(lmdbIndex)('node-gyp-build-optional-packages')(dirname(dirname(lmdbIndex)));
  assert.ok(addon === own, 'the same module object (same file)');
  assert.type((addon as { version?: unknown }).version, 'object');
});

test.run();
