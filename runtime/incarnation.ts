// The incarnation number of alive and StateInfo messages: the clock at start, but never less than one more
// than the last start's (persisted), so a peer whose clock went backwards still comes back "newer".
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export function nextIncarnation(dir: string, now: number): number {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'incarnation');
  let prev = 0;
  try {
    prev = Number(readFileSync(file, 'utf8').trim()) || 0;
  } catch {
    // First start.
  }
  const inc = Math.max(Math.floor(now), prev + 1);
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, `${inc}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  return inc;
}
