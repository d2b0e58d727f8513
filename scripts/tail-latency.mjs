#!/usr/bin/env node
// What the slowest blocks of a `BLOCKS=FILE npm run bench:profile` run have in common: their append times
// (absolute and within the second), and the garbage collections that ran while they were in flight.
// Usage: node scripts/tail-latency.mjs FILE [SHARE]   (SHARE: the slowest fraction looked at, default 0.02)
import { readFileSync } from 'node:fs';

const [file, shareArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node scripts/tail-latency.mjs FILE [SHARE]');
  process.exit(2);
}
const { blocks, gcs } = JSON.parse(readFileSync(file, 'utf8'));
const share = Number(shareArg ?? 0.02);
const sorted = [...blocks].sort((a, b) => b.latencyMs - a.latencyMs);
const slow = sorted.slice(0, Math.max(1, Math.round(blocks.length * share)));
const t0 = blocks[0]?.appendedAt ?? 0;
const inFlight = (b, g) => g.at < b.appendedAt + b.latencyMs && g.at + g.ms > b.appendedAt;
const gcMs = (b) => gcs.filter((g) => inFlight(b, g)).reduce((s, g) => s + g.ms, 0);
const kinds = { 1: 'scavenge', 2: 'mark-compact', 4: 'incremental', 8: 'weak-cb' };
const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
console.log(`${blocks.length} blocks, ${gcs.length} GCs (${Math.round(gcs.reduce((s, g) => s + g.ms, 0))} ms); slowest ${slow.length}:`);
for (const b of slow.slice(0, 30))
  console.log(`  #${b.n} at ${((b.appendedAt - t0) / 1000).toFixed(3)} s (ms in second ${Math.round((b.appendedAt - t0) % 1000)}): ${b.latencyMs.toFixed(1)} ms, GC in flight ${gcMs(b).toFixed(1)} ms ${gcs.filter((g) => inFlight(b, g)).map((g) => kinds[g.kind] ?? g.kind).join(',')}`);
console.log(`mean GC ms in flight: slowest ${mean(slow.map(gcMs)).toFixed(2)}, all ${mean(blocks.map(gcMs)).toFixed(2)}`);
const longGcs = gcs.filter((g) => g.ms > 5);
console.log(`GCs over 5 ms: ${longGcs.length}${longGcs.length ? ': ' + longGcs.map((g) => `${kinds[g.kind] ?? g.kind} ${g.ms.toFixed(1)} ms`).join(', ') : ''}`);
// Slow blocks close together in time are one stall, not many.
const stalls = [];
for (const b of [...slow].sort((a, c) => a.appendedAt - c.appendedAt)) {
  const last = stalls.at(-1);
  if (last && b.appendedAt - last.end < 200) {
    last.end = b.appendedAt;
    last.blocks++;
    last.worst = Math.max(last.worst, b.latencyMs);
  } else stalls.push({ start: b.appendedAt, end: b.appendedAt, blocks: 1, worst: b.latencyMs });
}
console.log(`stalls (slow blocks within 200 ms of each other): ${stalls.length}`);
for (const s of stalls.slice(0, 20)) console.log(`  at ${((s.start - t0) / 1000).toFixed(3)} s, ${s.blocks} blocks, worst ${s.worst.toFixed(1)} ms`);
