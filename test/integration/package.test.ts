// murmur as users install it (issue 24): `npm pack` holds the compiled dist/, bin, sample config, README and
// LICENSE and nothing else; the tarball installs into an empty folder (from npm's cache where it can: `npm ci` caches the tarballs but not the registry's metadata, so a fresh machine fetches that) and
// `npx murmur up --no-load` there reaches one leader per org, each committing a block; the public entry points
// import from the installed package.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { until, withDeadline } from '../helpers/deadline.ts';
import { oneLeaderPerOrg, rowsWhen } from '../helpers/up-run.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'murmur-pkg-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

let tarball = '';

test('npm pack: dist, bin, sample config, README and LICENSE; no sources, tests or benchmarks', () => {
  // prepare (the build) runs here as it does for a publish.
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const [info] = JSON.parse(out) as { filename: string; files: { path: string }[] }[];
  tarball = join(work, info!.filename);
  const files = info!.files.map((f) => f.path);
  for (const must of ['bin/murmur.js', 'dist/runtime/cli/main.js', 'dist/runtime/api/index.d.ts', 'dist/runtime/dashboard/public/index.html', 'config/core.yaml', 'README.md', 'LICENSE'])
    assert.ok(files.includes(must), `${must} in the tarball`);
  const stray = files.filter((f) => /^(test|bench|scripts)\//.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts')));
  assert.equal(stray, [], 'no tests, benchmarks, scripts or TypeScript sources');
});

test('the tarball installs into an empty folder and `npx murmur up --no-load` commits a block per org', async () => {
  const app = join(work, 'app');
  execFileSync('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: app, stdio: 'ignore' });
  assert.ok(existsSync(join(app, 'node_modules/murmur/dist/runtime/cli/main.js')));
  assert.not.ok(existsSync(join(app, 'node_modules/tsx')), 'tsx is a dev dependency: not installed with the package');
  // The public API, with its types' entry, resolves from the installed package.
  const api = execFileSync(process.execPath, ['--input-type=module', '-e', "const m = await import('murmur'); console.log(typeof m.startPeer)"], { cwd: app, encoding: 'utf8' });
  assert.is(api.trim(), 'function');

  const data = join(work, 'data');
  const up = spawn('npx', ['murmur', 'up', '--no-load', '--orgs', '2', '--peers', '1', '--data', data], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  up.stdout!.on('data', (d) => (out += d));
  up.stderr!.on('data', (d) => (out += d));
  try {
    await until(() => /network\.json/.test(out) || up.exitCode !== null, 60_000, 'up from the installed package', 50);
    assert.is(up.exitCode, null, out);
    assert.not.match(out, /tsx/);
    const leadersAt = (height: number, what: string) =>
      rowsWhen(data, (rs) => oneLeaderPerOrg(rs, 2, 2) && rs.every((r) => (r.height ?? 0) >= height), 60_000, what);
    await leadersAt(1, 'one leader per org with its ledger open');
    // One transaction through the installed CLI: its block reaches every org's leader.
    const tx = JSON.parse(execFileSync('npx', ['murmur', 'tx', 'from the package', '--channel', 'channel1', '--wait', '--json', '--data', data], { cwd: app, encoding: 'utf8' })) as { ok: boolean; block?: number };
    assert.ok(tx.ok && tx.block === 1, JSON.stringify(tx));
    await leadersAt(2, "each org's leader committing block 1");
  } finally {
    process.kill(-up.pid!, 'SIGINT');
    await withDeadline(new Promise((r) => up.once('exit', r)), 20_000, 'up exiting').catch(() => process.kill(-up.pid!, 'SIGKILL'));
  }
});

test.run();
