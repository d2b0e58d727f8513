// Tree dissemination (murmur) against Fabric's push (the fabric profile), side by side in the same run, in
// simulated time with Fabric's timing defaults and elected leaders:
//   copies     — block payload copies each peer RECEIVES per block: DataMsgs, blocks in pull updates, blocks in
//                state responses (delivered copies: a lost message is not counted), at followers that never crashed
//   last peer  — orderer append → commit on the last live peer, p50 / p99 over blocks
//   delivery   — (block, live peer) pairs committed at the end / all pairs
//   small      — announcements, grafts and prunes received per peer per block (tree only)
// Scenarios: 24 peers (3 orgs x 8) and 100 peers (2 orgs x 50); 0 % and 5 % loss; `--crashes` (default on)
// crashes two followers per org a third of the way in and restarts them at two thirds.
// Usage: npm run bench:tree [-- --blocks 200 --rate 10 --quick --json]
import { Harness } from '../runtime/sim/harness.ts';
import { classify } from '../runtime/sim/kinds.ts';
import { pct, tx as blockTx } from './lib/stats.ts';

const CH = 'channel1';
const args = process.argv.slice(2);
const arg = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const quick = args.includes('--quick');
const BLOCKS = arg('blocks', quick ? 60 : 200);
const RATE = arg('rate', 10);
const CRASHES = !args.includes('--no-crashes');

const tx = (i: number) => blockTx(i, 4096);

export interface TreeRun {
  profile: 'murmur' | 'fabric';
  peers: number;
  loss: number;
  crashes: boolean;
  copiesPerPeer: number;
  /** Copies per peer per block by the message that carried them (data, update, stateRes). */
  copiesByKind: Record<string, number>;
  smallPerPeer: number;
  latencyP50Ms: number | null;
  latencyP99Ms: number | null;
  delivery: number;
  wallMs: number;
}

async function run(profile: 'murmur' | 'fabric', orgs: number, perOrg: number, loss: number, seed: number): Promise<TreeRun> {
  const wall = Date.now();
  const n = orgs * perOrg;
  const h = await Harness.create({
    orgs,
    peers: perOrg,
    seed: `bench-tree-${n}-${loss}-${seed}`,
    signer: 'sim',
    link: { loss },
    startJitterMs: 1000,
    orderer: { batchTimeoutMs: 50, maxMessageCount: 1 },
    peerOptions: { profile },
  });
  try {
    const leaderOf = (org: string) => h.running().find((p) => p.id.endsWith(`.${org}`) && p.peer!.elections.get(CH)?.role() === 'leader');
    const orgNames = Array.from({ length: orgs }, (_, i) => `org${i + 1}`);
    if (!(await h.until(() => orgNames.every((o) => leaderOf(o)), 180_000, 500))) throw new Error('no leaders');
    // Membership settles before the measured window.
    await h.advance(10_000);
    const base = h.ordering.height(CH);
    const appended = new Map<number, number>();
    // Last commit time per block over the peers that never crashed (the victims count in delivery only).
    const commits = new Map<number, number>();
    let victimSet = new Set<string>();
    h.orderer.blocks$.subscribe(({ block }) => appended.set(block.number, h.clock.now()));
    const watched = new Set<string>();
    const watch = () => {
      for (const p of h.running()) {
        if (watched.has(p.id)) continue;
        watched.add(p.id);
        h.ledger(p.id)!.commits$.subscribe((c) => {
          if (victimSet.has(p.id)) return;
          for (const b of c.blocks) commits.set(b.number, Math.max(commits.get(b.number) ?? 0, h.clock.now()));
        });
      }
    };
    watch();
    let copies = 0;
    let small = 0;
    const byKind: Record<string, number> = {};
    let counted = new Set<string>();
    h.network.deliveryTaps.add((_from, to, subject, bytes) => {
      if (!subject.includes('.inbox.') || !counted.has(to)) return;
      const k = classify(bytes);
      copies += k.blocks;
      if (k.blocks) byKind[k.kind!] = (byKind[k.kind!] ?? 0) + k.blocks;
      if (k.kind === 'ihave' || k.kind === 'graft' || k.kind === 'prune') small++;
    });
    const victims = CRASHES ? orgNames.flatMap((o) => h.running().filter((p) => p.id.endsWith(`.${o}`) && p !== leaderOf(o)).slice(0, 2).map((p) => p.id)) : [];
    // Copies are counted at followers that stay up: leaders read the orderer, victims catch up by state.
    const leaders = new Set(orgNames.map((o) => leaderOf(o)!.id));
    victimSet = new Set(victims);
    counted = new Set(h.running().map((p) => p.id).filter((id) => !victimSet.has(id) && !leaders.has(id)));
    const every = 1000 / RATE;
    for (let i = 0; i < BLOCKS; i++) {
      if (i === Math.floor(BLOCKS / 3)) for (const v of victims) await h.crash(v);
      if (i === Math.floor((2 * BLOCKS) / 3)) {
        for (const v of victims) await h.start(v);
        watch();
      }
      h.submit(CH, tx(i));
      await h.advance(every);
    }
    const want = base + BLOCKS;
    await h.until(() => h.running().every((p) => h.ledger(p.id)!.height() >= want), 120_000, 250);
    const live = h.running().map((p) => p.id);
    const lat: number[] = [];
    let delivered = 0;
    for (let b = base; b < want; b++) {
      const c = commits.get(b);
      const got = live.filter((id) => h.ledger(id)!.height() > b).length;
      delivered += got;
      if (c !== undefined && appended.has(b)) lat.push(c - appended.get(b)!);
    }
    const pairs = BLOCKS * live.length;
    return {
      profile,
      peers: n,
      loss,
      crashes: CRASHES,
      copiesPerPeer: Number((copies / (BLOCKS * counted.size)).toFixed(2)),
      copiesByKind: Object.fromEntries(Object.entries(byKind).map(([k, v]) => [k, Number((v / (BLOCKS * counted.size)).toFixed(3))])),
      smallPerPeer: Number((small / (BLOCKS * counted.size)).toFixed(2)),
      latencyP50Ms: pct(lat, 50),
      latencyP99Ms: pct(lat, 99),
      delivery: Number((delivered / pairs).toFixed(4)),
      wallMs: Date.now() - wall,
    };
  } finally {
    await h.stop();
  }
}

const runs: TreeRun[] = [];
const sizes: [number, number][] = args.includes('--orgs') ? [[arg('orgs', 1), arg('peers', 8)]] : quick ? [[3, 8]] : [[3, 8], [2, 50]];
const losses = args.includes('--loss') ? [arg('loss', 0)] : quick ? [0.05] : [0, 0.05];
for (const [orgs, perOrg] of sizes)
  for (const loss of losses)
    for (const profile of args.includes('--murmur-only') ? (['murmur'] as const) : (['fabric', 'murmur'] as const)) {
      const r = await run(profile, orgs, perOrg, loss, 1);
      runs.push(r);
      console.log(
        `${String(r.peers).padStart(3)} peers  loss ${String(loss * 100).padStart(2)} %  ${profile.padEnd(6)}  copies/peer/block ${r.copiesPerPeer.toFixed(2)}  ` +
          `(${Object.entries(r.copiesByKind).map(([k, v]) => `${k} ${v}`).join(', ')})  small msgs ${r.smallPerPeer.toFixed(2)}  last peer p50 ${r.latencyP50Ms} ms p99 ${r.latencyP99Ms} ms  delivery ${(r.delivery * 100).toFixed(2)} %  (${(r.wallMs / 1000).toFixed(1)} s wall)`,
      );
    }
if (args.includes('--json')) console.log(JSON.stringify({ blocks: BLOCKS, rate: RATE, runs }));

