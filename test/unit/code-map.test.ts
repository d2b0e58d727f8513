// The README's map of the code lists every source file: a file under machines/, actors/, runtime/, config/,
// bin/, examples/, scripts/ or bench/ must be named in the map, by its path or by its name in a row of its
// folder (`runtime/orderer/chain.ts`, `block-log.ts`), or be covered by a folder glob (`runtime/api/*.ts`).
// And every path the map names exists, so a rename cannot leave the map behind.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const FOLDERS = ['machines', 'actors', 'runtime', 'config', 'bin', 'examples', 'scripts', 'bench'];
const SKIP = new Set(['bench/results']);

function files(dir: string): string[] {
  if (SKIP.has(dir)) return [];
  return readdirSync(join(root, dir)).flatMap((n) => {
    const rel = `${dir}/${n}`;
    return statSync(join(root, rel)).isDirectory() ? files(rel) : [rel];
  });
}

function mapSection(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const start = readme.indexOf('## Map of the code');
  const end = readme.indexOf('\n## ', start + 1);
  assert.ok(start >= 0, 'README has a map of the code');
  return readme.slice(start, end);
}

export function unlisted(map: string, all: string[]): string[] {
  const rows = map.split('\n').filter((l) => l.startsWith('|'));
  return all.filter((f) => {
    const dir = dirname(f);
    const name = basename(f);
    return !rows.some((r) => r.includes(`\`${f}\``) || r.includes(`${dir}/*`) || (r.includes(`\`${dir}/`) && r.includes(`\`${name}\``)));
  });
}

test('every source file is in the README map of the code', () => {
  const all = FOLDERS.flatMap(files);
  assert.ok(all.length > 100, `found ${all.length} files`);
  assert.equal(unlisted(mapSection(), all), []);
});

test('a file missing from the map is found (the check can fail)', () => {
  assert.equal(unlisted('| `actors/peer.actor.ts` | x |\n| `runtime/orderer/chain.ts`, `block-log.ts` | y |', ['actors/peer.actor.ts', 'runtime/orderer/block-log.ts', 'actors/lost.ts']), ['actors/lost.ts']);
});

test('every path the map names exists', () => {
  const named = [...mapSection().matchAll(/`((?:machines|actors|runtime|config|bin|examples|scripts|bench|test)\/[^`*]+\.[a-z]+)`/g)].map((m) => m[1]!);
  assert.ok(named.length > 50);
  assert.equal(named.filter((p) => !existsSync(join(root, p))), []);
});

test.run();
