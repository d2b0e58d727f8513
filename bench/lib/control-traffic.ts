// Control traffic by network size (issue 21's scale section): bytes of control messages each peer receives per
// second, in simulated time on the in-memory bus with the real wire encoding (the cheap deterministic signer:
// signatures are the same size), 3 orgs, `murmur up`'s local timings, idle and at 10 blocks/s, for murmur's
// profile and the fabric profile. Control = every delivery except what carries a block (data, pull updates of
// blocks, state responses); each receiver counts what reached it. Then failure detection at that size: one
// peer (not a leader) crashes, and `detect_ms` is how long until every peer of its org holds it dead.
//   node --import tsx bench/lib/control-traffic.ts [--sizes 12,48,96,192] [--window 20] [--membership broadcast]
// (--membership: the murmur profile's peer.gossip.murmur.membership, default swim; broadcast is the heartbeat)
// prints one JSON line: { "<peers>": { murmur: {idle, busy, detect_ms}, fabric: {…} } } (bytes per peer per second).
import { parseArgs } from 'node:util';
import { Harness } from '../../runtime/sim/harness.ts';
import { loadPeerConfig } from '../../config/load.ts';
import { gossipTimings } from '../../runtime/peer-options.ts';
import { classify } from '../../runtime/sim/kinds.ts';

export type ControlTraffic = Record<string, Record<'murmur' | 'fabric', { idle: number; busy: number; detect_ms?: number | null }>>;

const BLOCK_KINDS = new Set(['data', 'stateRes']);

type Membership = 'swim' | 'broadcast';

async function measure(peers: number, profile: 'murmur' | 'fabric', windowS: number, membership: Membership = 'swim'): Promise<{ idle: number; busy: number; detect_ms: number | null }> {
  const timings = gossipTimings(loadPeerConfig({ env: {}, preset: 'local' }).config.peer.gossip);
  const h = await Harness.create({
    orgs: 3,
    peers: peers / 3,
    seed: `control-${peers}-${profile}`,
    signer: 'sim',
    timings,
    orderer: { batchTimeoutMs: 50, maxMessageCount: 1 },
    peerOptions: { profile, useLeaderElection: false, membership },
    perPeer: (id) => ({ orgLeader: id.startsWith('peer0.') }),
  });
  try {
    const org = peers / 3 - 1;
    await h.until(() => h.running().every((p) => p.peer!.discovery.aliveMembers().filter((m) => m.mspId === p.mspId).length === org), 120_000, 500);
    await h.advance(10_000);
    let bytes = 0;
    const tap = (_from: string, _to: string, _subject: string, b: Uint8Array) => {
      const c = classify(b);
      if (c.kind && !BLOCK_KINDS.has(c.kind) && !(c.kind === 'update' && c.blocks > 0)) bytes += b.byteLength;
    };
    h.network.deliveryTaps.add(tap);
    await h.advance(windowS * 1000);
    const idle = bytes / peers / windowS;
    bytes = 0;
    // 10 blocks/s: one small transaction every 100 ms, one block each.
    const tx = new Uint8Array(256);
    for (let t = 0; t < windowS * 10; t++) {
      h.submit('channel1', tx);
      await h.advance(100);
    }
    const busy = bytes / peers / windowS;
    h.network.deliveryTaps.delete(tap);
    const victim = h.peers.get('peer1.org1')!;
    await h.crash(victim.id);
    const at = h.clock.now();
    const dead = () => h.running().filter((p) => p.org === victim.org).every((p) => p.peer!.discovery.table.get(victim.pkiIdHex)?.status !== 'alive');
    const detected = await h.until(dead, 10 * timings.aliveExpirationTimeout, 50);
    return { idle: Math.round(idle), busy: Math.round(busy), detect_ms: detected ? h.clock.now() - at : null };
  } finally {
    await h.stop();
  }
}

export async function measureControlTraffic(sizes: number[], windowS: number, say: (s: string) => void = () => undefined, membership: Membership = 'swim'): Promise<ControlTraffic> {
  const out: ControlTraffic = {};
  for (const n of sizes) {
    const murmur = await measure(n, 'murmur', windowS, membership);
    const fabric = await measure(n, 'fabric', windowS);
    out[String(n)] = { murmur, fabric };
    say(`control traffic at ${n} peers (bytes per peer per s, idle / 10 blocks/s; a crash detected by its org after): murmur ${murmur.idle} / ${murmur.busy}, ${murmur.detect_ms} ms; fabric ${fabric.idle} / ${fabric.busy}, ${fabric.detect_ms} ms`);
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { sizes: { type: 'string', default: '12,48,96,192' }, window: { type: 'string', default: '20' }, membership: { type: 'string', default: 'swim' } } });
  const r = await measureControlTraffic(values.sizes!.split(',').map(Number), Number(values.window), (s) => console.error(s), values.membership as Membership);
  console.log(JSON.stringify(r));
}
