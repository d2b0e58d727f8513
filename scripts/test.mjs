#!/usr/bin/env node
// Runs every uvu suite under test/ through tsx and ends with a plain `N passed, N failed` line.
// Usage: npm test [-- PATTERN]   (PATTERN: a regex over test file paths, e.g. `unit/config`)
// uvu never force-exits, so a suite that leaks a timer or socket would hang the run: once uvu has printed
// its summary the process gets a short grace period, then it is killed and the leak is reported.
import { spawn } from 'node:child_process';

const pattern = process.argv[2] ?? '\\.test\\.ts$';
const args = ['--import', 'tsx', 'node_modules/uvu/bin.js', 'test', pattern, '-i', 'helpers', '-i', 'fixtures', '--no-color'];
const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, FORCE_COLOR: '0' } });

let out = '';
let graceTimer;
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  out += chunk.toString();
  if (!graceTimer && /Duration:/.test(out)) {
    graceTimer = setTimeout(() => {
      console.error('\n[test] suites finished but the process did not exit (a leaked handle); killing it');
      child.kill('SIGKILL');
    }, 10_000);
  }
});

child.on('exit', (code, signal) => {
  clearTimeout(graceTimer);
  const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
  const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? NaN);
  const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? NaN);
  const skipped = Number(/Skipped:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  if (Number.isNaN(total) || Number.isNaN(passed)) {
    console.log(`0 passed, 1 failed`);
    console.error(`[test] uvu ended without a summary (code ${code}, signal ${signal})`);
    process.exit(1);
  }
  // uvu's Total counts the tests that ran; skipped ones are only in Skipped.
  const failed = total - passed;
  const bad = failed > 0 || (code !== 0 && signal !== 'SIGKILL');
  console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exit(bad ? 1 : 0);
});
