// Whether dist/ (scripts/build.mjs) may run instead of the TypeScript sources. An installed package has no
// sources: dist/ it is. A checkout runs dist/ only while no source file is newer than the stamp the build
// wrote last, so an edit (or a checkout of another commit) is never hidden behind an old build.
'use strict';
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

/** Written by the build once dist/ is complete (relative to the package root). */
const STAMP = 'dist/.built';
/** What the build compiles (tsconfig.build.json's include). */
const SOURCE_DIRS = ['actors', 'machines', 'runtime', 'config'];

/** 'dist': run dist/; 'sources': run the TypeScript through tsx; 'none': neither is here. */
function entryKind(root) {
  let stamp;
  try {
    stamp = statSync(join(root, STAMP)).mtimeMs;
  } catch {
    stamp = null;
  }
  const hasSources = existsSync(join(root, 'runtime', 'cli', 'main.ts'));
  if (!hasSources) return stamp === null ? 'none' : 'dist';
  if (stamp === null) return 'sources';
  return SOURCE_DIRS.some((d) => newerThan(join(root, d), stamp)) ? 'sources' : 'dist';
}

function newerThan(dir, ms) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return false;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory() ? newerThan(p, ms) : statSync(p).mtimeMs > ms) return true;
  }
  return false;
}

exports.STAMP = STAMP;
exports.SOURCE_DIRS = SOURCE_DIRS;
exports.entryKind = entryKind;
