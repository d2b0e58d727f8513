#!/usr/bin/env node
// The benchmark table, as markdown, from a results file of `npm run bench` (default bench/results/latest.json):
// the README's Benchmarks table is this output, so it can be regenerated after every full run.
// Usage: node scripts/bench-table.mjs [FILE]
// `benchTable(results)` is also what bench/run.ts prints at the end of a run.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dash = '—';
const num = (x, unit = '') => (x === null || x === undefined ? 'n/a' : `${Number(x).toLocaleString('en-US').replace(/,/g, ' ')}${unit}`);
const pair = (a, b, unit = '') => `${num(a, unit)} / ${num(b, unit)}`;

/** @param {any} r the parsed results (bench/run.ts writes them) */
export function benchTable(r) {
  const f = r.fabric_profile ?? {};
  const c = r.config ?? {};
  const d = r.details ?? {};
  const mk = (p) => d[p]?.latency ?? {};
  const tp = (p) => d[p]?.throughput;
  const rows = [
    [`block latency p50, orderer append → commit on the last peer (ms)`, num(r.latency_p50_ms), num(f.latency_p50_ms)],
    [`block latency p99 (ms)`, num(r.latency_p99_ms), num(f.latency_p99_ms)],
    [`every peer holds the last block … ms after the load ended; share of the window the peers' thread was busy`, keptUp(mk('murmur')), keptUp(mk('fabric'))],
    [`NATS floor p99: the same block published to ${r.peers} subscribers (ms)`, num(r.floor_p99_ms), num(f.floor_p99_ms)],
    [`block copies received per peer per block (push or tree / pull / state transfer / orderer)`, `${num(r.copies_per_peer)} (${copies(mk('murmur'))})`, `${num(f.copies_per_peer)} (${copies(mk('fabric'))})`],
    [`block signature verifications per block per peer`, num(r.verifies_per_block_per_peer), num(f.verifies_per_block_per_peer)],
    [`throughput: highest block rate every peer keeps up with (blocks/s)`, tput(r.throughput_blocks_per_s, tp('murmur')), tput(f.throughput_blocks_per_s, tp('fabric'))],
    [`failover p99, kill -9 of the leader → first block under the new one, fast timings (ms)`, num(r.failover_p99_ms_fast), num(f.failover_p99_ms_fast)],
    [`failover p99 at Fabric's default timings (ms, simulated time)`, num(r.failover_p99_ms_fabric_defaults), num(f.failover_p99_ms_fabric_defaults)],
    [`catch-up of a peer joining at height 1, ${num(c.catchup?.blocks)} blocks (blocks/s)`, num(r.catchup_blocks_per_s), num(f.catchup_blocks_per_s)],
    [`idle: CPU of ${num(r.idle_cpu_ms_per_s?.peers ?? 24)} peers in one process, no load, local / fabric timings (ms per s)`, pair(r.idle_cpu_ms_per_s?.local, r.idle_cpu_ms_per_s?.fabric), dash],
  ];
  if (r.scale) {
    const s = r.scale;
    rows.push(
      [`${s.memory?.peers ?? 100} peers in one process, in-memory bus: membership converged / leaders (ms)`, pair(s.memory?.convergence_ms, s.memory?.leaders_ms), dash],
      [`same, memory per peer: heap / RSS (KB)`, pair(s.memory?.heap_per_peer_kb, s.memory?.rss_per_peer_kb), dash],
      [`${s.nats?.peers ?? 100} peers in one process on NATS: membership converged / leaders (ms)`, pair(s.nats?.convergence_ms, s.nats?.leaders_ms), dash],
      [`same, memory per peer: heap / RSS (KB)`, pair(s.nats?.heap_per_peer_kb, s.nats?.rss_per_peer_kb), dash],
    );
  }
  if (r.control_bytes_per_peer_s) {
    const ct = r.control_bytes_per_peer_s;
    const kb = (x) => (x === undefined || x === null ? 'n/a' : (x / 1024).toFixed(1));
    for (const n of Object.keys(ct)) {
      const v = ct[n];
      rows.push([`control traffic received per peer at ${n} peers, idle / 10 blocks/s (KB/s, simulated)`, `${kb(v.murmur?.idle)} / ${kb(v.murmur?.busy)}`, `${kb(v.fabric?.idle)} / ${kb(v.fabric?.busy)}`]);
    }
  }
  if (r.micro) {
    const m = r.micro;
    rows.push(
      [`ed25519 sign per second: noble / node:crypto`, pair(m.sign_per_s.noble, m.sign_per_s.node), dash],
      [`ed25519 verify per second: noble / node:crypto`, pair(m.verify_per_s.noble, m.verify_per_s.node), dash],
      [`4 KB block encode per second: CBOR / JSON (${m.block_bytes.cbor} / ${m.block_bytes.json} bytes)`, pair(m.encode_per_s.cbor, m.encode_per_s.json), dash],
      [`4 KB block decode per second: CBOR / JSON`, pair(m.decode_per_s.cbor, m.decode_per_s.json), dash],
    );
  }
  const m = r.machine ?? {};
  const head = [
    `\`${r.command}\` on ${String(r.date).slice(0, 10)} (${num(r.duration_s)} s): ${m.cores} cores (${m.cpu}), Node ${m.node}, nats-server ${m.nats_server}.`,
    `${c.orgs} orgs x ${c.peers_per_org} peers (${r.peers}) in one process, one NATS connection each, the orderer in its own; ${c.block_bytes}-byte blocks ` +
      `(one ${c.tx_bytes}-byte transaction) at ${c.blocks_per_s} blocks/s for ${c.window_s} s; dissemination: ${c.dissemination} (murmur), ` +
      `${f.config?.dissemination ?? 'push'} (fabric profile). Details and every parameter: \`bench/results/latest.json\`.`,
  ];
  const table = [`| figure | murmur | \`fabric\` profile |`, `|---|---|---|`, ...rows.map((x) => `| ${x.join(' | ')} |`)];
  return [...head, '', ...table].join('\n');
}

/** The highest rate that held; "≥" when none failed, "<" the first rate when that one failed already. */
function tput(value, t) {
  if (value === null || value === undefined) return t?.steps?.length ? `< ${num(t.steps[0].rate)}` : 'n/a';
  return t?.ramp_exhausted ? `≥ ${num(value)}` : num(value);
}

function keptUp(l) {
  if (l.drain_ms === undefined) return 'n/a';
  const busy = l.event_loop_utilization === null || l.event_loop_utilization === undefined ? 'n/a' : `${Math.round(l.event_loop_utilization * 100)} %`;
  return `${num(l.drain_ms)}; ${busy}`;
}

function copies(l) {
  const s = l.copies_by_source;
  if (!s) return 'n/a';
  return [s.push, s.pull, s.state, s.orderer].map((x) => num(x)).join(' / ');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2] ?? fileURLToPath(new URL('../bench/results/latest.json', import.meta.url));
  console.log(benchTable(JSON.parse(readFileSync(file, 'utf8'))));
}
