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
  const su = (p) => d[p]?.sustained;
  const rows = [
    [`block latency p50, orderer append → commit on the last peer (ms)`, num(r.latency_p50_ms), num(f.latency_p50_ms)],
    [`block latency p99 (ms)`, num(r.latency_p99_ms), num(f.latency_p99_ms)],
    [`every peer holds the last block … ms after the load ended; share of the window the peers' thread was busy`, keptUp(mk('murmur')), keptUp(mk('fabric'))],
    [`NATS floor p99: the same block published to ${r.peers} subscribers (ms)`, num(r.floor_p99_ms), num(f.floor_p99_ms)],
    [`block copies received per peer per block (push or tree / pull / state transfer / orderer)`, `${num(r.copies_per_peer)} (${copies(mk('murmur'))})`, `${num(f.copies_per_peer)} (${copies(mk('fabric'))})`],
    [`block signature verifications per block per peer`, num(r.verifies_per_block_per_peer), num(f.verifies_per_block_per_peer)],
    [`message (envelope) signature verifications per block per peer`, num(r.message_verifies_per_block_per_peer ?? mk('murmur').message_verifies_per_block_per_peer), num(f.message_verifies_per_block_per_peer ?? mk('fabric').message_verifies_per_block_per_peer)],
    [`CPU per peer per block in the latency window: the peers' process (orderer / nats-server apart) (µs)`, cpuCell(r.cpu_us_per_peer_block, mk('murmur')), cpuCell(f.cpu_us_per_peer_block, mk('fabric'))],
    [`throughput: highest block rate every peer keeps up with (blocks/s)`, tput(r.throughput_blocks_per_s, tp('murmur')), tput(f.throughput_blocks_per_s, tp('fabric'))],
    [`sustained: highest rate every peer sustains for ${num(c.sustained?.step_s ?? su('murmur')?.step_s ?? 60)} s, p99 < 1 s, no growing backlog (blocks/s; lowest that failed)`, sustained(r.sustained_blocks_per_s, su('murmur')), sustained(f.sustained_blocks_per_s, su('fabric'))],
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
  return [...head, '', ...table, ...profileTable(r)].join('\n');
}

/** The CPU profiles of the latency window by category (µs per peer-block), when the run has them. */
function profileTable(r) {
  const a = r.cpu_profile;
  const b = r.fabric_profile?.cpu_profile;
  if (!a && !b) return [];
  const cats = r.config?.cpu_profile?.categories ?? {};
  const keys = Object.keys(a?.us_per_peer_block ?? b?.us_per_peer_block ?? {}).filter((k) => k !== 'total');
  const cell = (p, k) => num(p?.us_per_peer_block?.[k]);
  const share = (p, k) => {
    const v = p?.us_per_peer_block?.[k];
    const t = p?.us_per_peer_block?.total;
    return v === null || v === undefined || !t ? '' : ` (${Math.round((v / t) * 100)} %)`;
  };
  const rows = keys.map((k) => [cats[k] ?? k, `${cell(a, k)}${share(a, k)}`, `${cell(b, k)}${share(b, k)}`]);
  rows.push(
    [`**total sampled on the peers' thread** (the categories' sum)`, `**${cell(a, 'total')}**`, `**${cell(b, 'total')}**`],
    [`the peers' process CPU over the same window, every thread (main / profiler / other threads: GC, libuv)`, procCell(a), procCell(b)],
    [`idle (not in the total)`, num(a?.idle_us_per_peer_block), num(b?.idle_us_per_peer_block)],
  );
  const win = (p) => (p ? `${num(p.window_ms)} ms, ${num(p.samples)} samples, ${num(p.peer_blocks)} peer-blocks` : 'n/a');
  return [
    '',
    `CPU profile of the latency window (node:inspector, ${num(a?.sampling_interval_us ?? b?.sampling_interval_us)} µs sampling), µs per peer-block by category; murmur: ${win(a)}; fabric profile: ${win(b)}.`,
    '',
    `| category | murmur | \`fabric\` profile |`,
    `|---|---|---|`,
    ...rows.map((x) => `| ${x.join(' | ')} |`),
  ];
}

function procCell(p) {
  if (!p) return 'n/a';
  const t = p.threads_cpu_us_per_peer_block;
  return t ? `${num(p.process_cpu_us_per_peer_block)} (${num(t.main)} / ${num(t.profiler)} / ${num(t.other)})` : num(p.process_cpu_us_per_peer_block);
}

/** The peers' process µs per peer-block, with the orderer's and nats-server's from details.<profile>.latency.cpu. */
function cpuCell(value, l) {
  const c = l?.cpu?.us_per_peer_block;
  if (!c) return num(value);
  return `${num(value)} (${num(c.orderer)} / ${num(c.nats_server)})`;
}

/** The sustained rate with the lowest rate that failed; "<" the lowest tried when none held, "≥" when none failed. */
function sustained(value, s) {
  if (!s) return num(value);
  const tried = (s.steps ?? []).map((x) => x.rate);
  if (value === null || value === undefined) return tried.length ? `< ${num(Math.min(...tried))}` : 'n/a';
  return s.lowest_failed_blocks_per_s === null || s.lowest_failed_blocks_per_s === undefined ? `≥ ${num(value)}` : `${num(value)}; ${num(s.lowest_failed_blocks_per_s)}`;
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
