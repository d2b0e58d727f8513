// bin/compiled.cjs: the CLI bundle runs with a V8 code cache. Each case runs a small bundle in a fresh node
// process (a code cache belongs to a process's V8): the first run of a command writes its cache (at exit, or
// after its first seconds), the next one uses it; another command, a rebuilt bundle, a corrupt cache or MURMUR_CODE_CACHE=off never use a wrong one,
// and the bundle runs every time.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const loader = join(import.meta.dirname, '..', '..', 'bin', 'compiled.cjs');
let dir = '';
let bundle = '';

/** Runs the bundle as `murmur <args>` in a new process: what it printed and what run() said of the cache. */
function runOnce(args: string[], env: NodeJS.ProcessEnv = {}): { out: string; cache: string } {
  const code = `const c = require(${JSON.stringify(loader)}).run(${JSON.stringify(bundle)}, ${JSON.stringify(args)}); process.stdout.write(' cache=' + c);`;
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', env: { ...process.env, ...env } });
  assert.is(r.status, 0, r.stderr);
  const [out, cache] = r.stdout.split(' cache=');
  return { out: out!, cache: cache! };
}

const caches = () => readdirSync(dir).filter((f) => f.endsWith('.cache'));

test.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-code-cache-'));
  bundle = join(dir, 'murmur.cjs');
  writeFileSync(bundle, "const f = (x) => x * 2; process.stdout.write('ran ' + f(21) + ' ' + typeof require + ' ' + typeof __murmurCheck);\n");
});
test.after.each(() => rmSync(dir, { recursive: true, force: true }));

test('the first run writes the command cache, the next one uses it', () => {
  assert.equal(runOnce(['peer', 'start']), { out: 'ran 42 function undefined', cache: 'miss' });
  assert.is(caches().length, 1);
  assert.match(caches()[0]!, /^murmur\.cjs\.\d+-\d+\.peer\.cache$/);
  assert.equal(runOnce(['peer', 'start']), { out: 'ran 42 function undefined', cache: 'hit' });
  assert.equal(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temporary file left');
});

test('a cache written by a long-running first start (a peer, after its first seconds) is used by the next', () => {
  // The cache is written after 3 s, when the loader also gives V8 back its young-generation growth; written
  // after that change, V8 rejected it at every later start (those run with the start-up flag again).
  writeFileSync(bundle, "process.stdout.write('ran'); setTimeout(() => {}, 3300);\n");
  assert.equal(runOnce(['peer']), { out: 'ran', cache: 'miss' });
  assert.equal(runOnce(['peer']), { out: 'ran', cache: 'hit' });
});

test('each command has its own cache', () => {
  runOnce(['peer', 'start']);
  assert.is(runOnce(['orderer', 'start']).cache, 'miss');
  assert.is(runOnce(['--version']).cache, 'miss');
  assert.is(runOnce(['../../etc']).cache, 'hit', 'not a command: the same kind as --version, never a path');
  assert.equal(caches().map((f) => f.split('.').at(-2)).sort(), ['orderer', 'other', 'peer']);
});

test('a rebuilt bundle never meets the old cache', () => {
  runOnce(['peer']);
  writeFileSync(bundle, "process.stdout.write('rebuilt');\n");
  assert.equal(runOnce(['peer']), { out: 'rebuilt', cache: 'miss' });
  // Same length, new content: the name still changes with the build's mtime.
  writeFileSync(bundle, "process.stdout.write('REBUILT');\n");
  utimesSync(bundle, new Date(), new Date(Date.now() + 5000));
  assert.equal(runOnce(['peer']), { out: 'REBUILT', cache: 'miss' });
});

test('a corrupt cache is rejected, the bundle still runs, and the cache is rewritten', () => {
  runOnce(['peer']);
  writeFileSync(join(dir, caches()[0]!), 'not a code cache');
  assert.equal(runOnce(['peer']), { out: 'ran 42 function undefined', cache: 'rejected' });
  assert.is(runOnce(['peer']).cache, 'hit');
});

test('MURMUR_CODE_CACHE=off neither reads nor writes a cache', () => {
  assert.is(runOnce(['peer'], { MURMUR_CODE_CACHE: 'off' }).cache, 'off');
  assert.equal(caches(), []);
});

test.run();
