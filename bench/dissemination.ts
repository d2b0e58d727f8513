// Block dissemination figures in simulated time (Fabric's timings, 3 orgs x 8 peers, elected leaders):
//   copies   — block copies each peer receives per block: pushed DataMsgs, blocks in pull updates and in state
//              responses (counted as sent to its inbox; with loss a few of those never arrive)
//   latency  — orderer append → commit on the LAST peer of the network, p50 / p99 over blocks
//   catch-up — a peer that joins 2 000 blocks late: blocks/s from its first state request to its last block
// Each configuration runs `--seeds` seeds; latencies are pooled over them, copies averaged.
// Usage: npm run bench:dissemination [-- --blocks 300 --seeds 3 --quick]
import { Harness, SIM_EPOCH_MS } from '../runtime/sim/harness.ts';
import { payloadOf } from '../runtime/sim/kinds.ts';

const CH = 'channel1';
const args = process.argv.slice(2);
const arg = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const quick = args.includes('--quick');
const BLOCKS = arg('blocks', quick ? 100 : 300);
const SEEDS = arg('seeds', quick ? 1 : 3);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
};
const tx = (i: number) => new TextEncoder().encode(`tx-${i}`.padEnd(256, '.'));

interface RunResult {
  profile: string;
  blocksPerSecond: number;
  loss: number;
  copies: { push: number; pull: number; state: number };
  latencies: number[];
  bySource: Record<string, number>;
  wallMs: number;
}

async function dissemination(profile: 'murmur' | 'fabric', blocksPerSecond: number, loss: number, seed: number): Promise<RunResult> {
  const wall = Date.now();
  const h = await Harness.create({
    orgs: 3,
    peers: 8,
    seed: `bench-dissemination-${seed}`,
    signer: 'sim',
    link: { loss },
    startJitterMs: 1000,
    orderer: { batchTimeoutMs: 50, maxMessageCount: 1 },
    peerOptions: { profile },
  });
  try {
    const leaders = () => h.running().filter((p) => p.peer!.elections.get(CH)?.role() === 'leader').length;
    if (!(await h.until(() => leaders() === 3, 120_000, 500))) throw new Error('no leaders');
    const base = h.ordering.height(CH);
    const appended = new Map<number, number>();
    const lastCommit = new Map<number, { at: number; peers: number }>();
    h.orderer.blocks$.subscribe(({ block }) => appended.set(block.number, h.clock.now()));
    for (const p of h.running())
      h.ledger(p.id)!.commits$.subscribe((c) => {
        for (const b of c.blocks) {
          const e = lastCommit.get(b.number) ?? { at: 0, peers: 0 };
          lastCommit.set(b.number, { at: h.clock.now(), peers: e.peers + 1 });
        }
      });
    const copies = { push: 0, pull: 0, state: 0 };
    h.network.taps.add((_from, subject, bytes) => {
      if (!subject.includes('.inbox.')) return;
      const p = payloadOf(bytes);
      if (p?.t === 'data') copies.push++;
      else if (p?.t === 'update' && p.kind === 'block') copies.pull += p.items.length;
      else if (p?.t === 'stateRes') copies.state += p.blocks.length;
    });
    const every = 1000 / blocksPerSecond;
    for (let i = 0; i < BLOCKS; i++) {
      h.submit(CH, tx(i));
      await h.advance(every);
    }
    const want = base + BLOCKS;
    if (!(await h.until(() => h.running().every((p) => h.ledger(p.id)!.height() === want), 300_000, 500))) throw new Error('not every peer caught up');
    const lat: number[] = [];
    for (let n = base; n < want; n++) lat.push(lastCommit.get(n)!.at - appended.get(n)!);
    const bySource: Record<string, number> = {};
    for (const p of h.running())
      for (const [k, v] of Object.entries(p.peer!.status()[0]!.counters)) if (typeof v === 'number') bySource[k] = (bySource[k] ?? 0) + v;
    const perPeerBlock = (n: number) => Number((n / (24 * BLOCKS)).toFixed(2));
    return {
      profile,
      blocksPerSecond,
      loss,
      copies: { push: perPeerBlock(copies.push), pull: perPeerBlock(copies.pull), state: perPeerBlock(copies.state) },
      latencies: lat,
      bySource,
      wallMs: Date.now() - wall,
    };
  } finally {
    await h.stop();
  }
}

async function catchUp(blocks: number): Promise<{ blocks: number; simSeconds: number; blocksPerSimSecond: number; blocksPerWallSecond: number }> {
  const late = 'peer2.org1';
  const h = await Harness.create({
    orgs: 2,
    peers: 3,
    seed: 'bench-catchup',
    signer: 'sim',
    orderer: { batchTimeoutMs: 50, maxMessageCount: 1 },
    peerOptions: { useLeaderElection: false },
    perPeer: (id) => ({ orgLeader: id.startsWith('peer0.') }),
  });
  try {
    await h.crash(late);
    await h.advance(5000);
    for (let i = 0; i < blocks; i++) {
      h.submit(CH, tx(i));
      await h.advance(10);
    }
    await h.advance(5000);
    let first: number | null = null;
    h.network.taps.add((from, _s, bytes) => {
      if (from === late && first === null && payloadOf(bytes)?.t === 'stateReq') first = h.clock.now();
    });
    await h.start(late);
    const wall = Date.now();
    const want = h.ordering.height(CH);
    if (!(await h.until(() => (h.ledger(late)?.height() ?? 0) === want, 300_000, 50))) throw new Error('no catch-up');
    const wallS = (Date.now() - wall) / 1000;
    const simS = (h.clock.now() - (first ?? h.clock.now())) / 1000;
    return { blocks: want - 1, simSeconds: Number(simS.toFixed(2)), blocksPerSimSecond: Math.round((want - 1) / simS), blocksPerWallSecond: Math.round((want - 1) / wallS) };
  } finally {
    await h.stop();
  }
}

const runs: object[] = [];
const rates = quick ? [10] : [0.5, 10];
const losses = quick ? [0.05] : [0, 0.05];
const mean = (xs: number[]) => Number((xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(2));
for (const profile of ['fabric', 'murmur'] as const)
  for (const rate of rates)
    for (const loss of losses) {
      const rs: RunResult[] = [];
      for (let seed = 1; seed <= SEEDS; seed++) rs.push(await dissemination(profile, rate, loss, seed));
      const lat = rs.flatMap((r) => r.latencies);
      const copies = { push: mean(rs.map((r) => r.copies.push)), pull: mean(rs.map((r) => r.copies.pull)), state: mean(rs.map((r) => r.copies.state)) };
      const latencyMs = { p50: pct(lat, 50), p99: pct(lat, 99) };
      runs.push({ profile, blocksPerSecond: rate, loss, seeds: SEEDS, copies, latencyMs, bySource: rs.map((r) => r.bySource) });
      console.log(
        `${profile.padEnd(7)} ${String(rate).padStart(4)} blocks/s loss ${String(loss * 100).padStart(2)} %  copies/peer/block push ${copies.push} pull ${copies.pull} state ${copies.state}  ` +
          `orderer→last peer p50 ${latencyMs.p50} ms p99 ${latencyMs.p99} ms  (${(rs.reduce((n, r) => n + r.wallMs, 0) / 1000).toFixed(1)} s wall)`,
      );
    }
const c = await catchUp(quick ? 500 : 2000);
console.log(`catch-up: ${c.blocks} blocks in ${c.simSeconds} s simulated from the first state request = ${c.blocksPerSimSecond} blocks/s (${c.blocksPerWallSecond} blocks/s of CPU)`);
console.log(JSON.stringify({ epoch: SIM_EPOCH_MS, blocks: BLOCKS, runs, catchUp: c }));
