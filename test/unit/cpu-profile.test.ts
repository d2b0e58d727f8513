// The benchmark's CPU profile attribution (bench/lib/cpu-profile.ts) on a small synthetic profile: each
// sample's time goes to the category its stack decides (native and Node frames to their caller, Ed25519 by
// the sign or verify call above the crypto work), and the categories add up to the busy time.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { attribute, classify, summarize, type CallFrame, type CpuProfile, type ProfileNode } from '../../bench/lib/cpu-profile.ts';

const ROOT = '/repo/';
const src = (path: string, functionName: string): CallFrame => ({ functionName, url: `file:///repo/${path}` });
const node = (url: string, functionName: string): CallFrame => ({ functionName, url });
const native = (functionName: string): CallFrame => ({ functionName, url: '' });

/** A profile from stacks (root first, leaf last) and the µs each one ran; nodes shared by common prefixes. */
function profileOf(stacks: [CallFrame[], number][]): CpuProfile {
  const nodes: ProfileNode[] = [{ id: 1, callFrame: native('(root)'), children: [] }];
  const samples: number[] = [];
  const timeDeltas: number[] = [];
  let prev = 0;
  for (const [frames, us] of stacks) {
    let at = nodes[0]!;
    for (const f of frames) {
      let next = (at.children ?? []).map((id) => nodes[id - 1]!).find((n) => n.callFrame.url === f.url && n.callFrame.functionName === f.functionName);
      if (!next) {
        next = { id: nodes.length + 1, callFrame: f, children: [] };
        nodes.push(next);
        at.children!.push(next.id);
      }
      at = next;
    }
    // One sample per stack; it lasts until the next one (the first delta, from startTime, is not counted).
    samples.push(at.id);
    timeDeltas.push(prev);
    prev = us;
  }
  const startTime = 1_000_000;
  const endTime = startTime + timeDeltas.reduce((a, b) => a + b, 0) + prev;
  return { nodes, startTime, endTime, samples, timeDeltas };
}

const timers = node('node:internal/timers', 'processTimers');
const intake = src('actors/block-intake.ts', 'onData');
const stacks: [CallFrame[], number][] = [
  // node:crypto verify under murmur's port, under the bench's counting decorator: verify
  [[timers, intake, src('bench/lib/nats-network.ts', 'verify'), src('runtime/crypto/ed25519.ts', 'verify'), node('node:internal/crypto/sig', 'verifyOneShot'), native('run')], 400],
  // key parsing for a verification (a helper of ed25519.ts, then Node's keys module): verify
  [[timers, intake, src('runtime/crypto/ed25519.ts', 'verify'), src('runtime/crypto/ed25519.ts', 'pubKey'), node('node:internal/crypto/keys', 'createPublicKey'), native('createPublicKey')], 30],
  // noble's sign deep in its field arithmetic, under an anonymous arrow of ed25519.ts and the local signer: sign
  [[timers, intake, src('runtime/crypto/signer.ts', 'sign'), src('runtime/crypto/ed25519.ts', ''), node('file:///repo/node_modules/@noble/curves/ed25519.js', 'sign'), node('file:///repo/node_modules/@noble/curves/abstract/modular.js', 'mod')], 50],
  // node:crypto sign under the anonymous arrow: sign
  [[timers, intake, src('runtime/wire/envelope.ts', 'seal'), src('runtime/crypto/ed25519.ts', ''), node('node:internal/crypto/sig', 'signOneShot'), native('run')], 70],
  // the codec calling cbor-x and a native copy; a hash of the verify cache through node:crypto: codec
  [[node('/elsewhere/node_modules/nats/lib/nats-base-client/protocol.js', 'processMsg'), src('runtime/wire/codec.ts', 'decode'), node('file:///repo/node_modules/cbor-x/decode.js', 'decode'), native('copy')], 20],
  [[intake, src('runtime/wire/codec.ts', 'verifyCached'), node('node:internal/crypto/hash', 'digest')], 5],
  // the NATS client's own work (a CommonJS path outside the repository): transport
  [[node('node:internal/stream_base_commons', 'onStreamRead'), node('/elsewhere/node_modules/nats/lib/nats-base-client/protocol.js', 'processMsg')], 25],
  // Node's socket read with nothing above it: transport
  [[node('node:internal/stream_base_commons', 'onStreamRead')], 15],
  // RxJS under an actor: machines; the actor itself with a byte helper and a native builtin: actors
  [[timers, intake, node('file:///repo/node_modules/rxjs/dist/cjs/internal/Subject.js', 'Subject.next')], 60],
  [[timers, intake, src('runtime/util/bytes.ts', 'concatBytes'), native('set')], 35],
  [[timers, src('machines/plumtree.logic.ts', 'onData')], 12],
  // ledger, metrics, status
  [[intake, src('runtime/ledger/memory.ledger.ts', 'append')], 8],
  [[intake, node('file:///repo/node_modules/prom-client/lib/counter.js', 'inc')], 6],
  [[intake, src('actors/block-stats.ts', 'record')], 4],
  // V8's pseudo frames
  [[native('(garbage collector)')], 90],
  [[native('(program)')], 45],
  [[native('(idle)')], 500],
  // a timer of the clock module with nothing of an owner below it, and code outside the repository: other
  [[timers, src('runtime/slack-clock.ts', 'fire')], 3],
  [[timers], 2],
  [[node('file:///elsewhere/lib.js', 'f')], 1],
  // the orderer process's messages on the child-process channel, nothing above them: bench
  [[node('node:internal/child_process/serialization', 'parseChannelMessages')], 7],
];

test('classify: native and Node frames go to their caller; sign and verify decided above the crypto work', () => {
  const at = (i: number) => classify([...stacks[i]![0]].reverse(), ROOT);
  assert.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(at), ['verify', 'verify', 'sign', 'sign', 'codec', 'codec', 'transport', 'transport', 'machines', 'actors', 'machines']);
  assert.equal([11, 12, 13, 14, 15, 16, 17, 18, 19, 20].map(at), ['ledger', 'metrics', 'status', 'gc', 'program', 'idle', 'other', 'other', 'other', 'bench']);
});

test('attribute: each sample lasts until the next; categories add up to the busy time', () => {
  const a = attribute(profileOf(stacks), ROOT);
  assert.equal(a.us, { verify: 430, sign: 120, codec: 25, transport: 40, machines: 72, actors: 35, ledger: 8, metrics: 6, status: 4, bench: 7, gc: 90, program: 45, other: 6, idle: 500 });
  const total = stacks.reduce((s, [, us]) => s + us, 0);
  assert.is(a.busy_us, total - 500);
  assert.is(Object.entries(a.us).reduce((s, [k, v]) => s + (k === 'idle' ? 0 : v), 0), a.busy_us);
  assert.is(a.samples, stacks.length);
  assert.equal(a.top[0], { category: 'verify', function: 'run', file: '', us: 400 });
});

test('summarize: µs per peer-block, idle apart, the process CPU beside the sampled total', () => {
  const s = summarize(profileOf(stacks), { root: ROOT, peerBlocks: 10, intervalUs: 1000, processCpuUs: 1000, threadsCpuUs: { main: 900, profiler: 20, other: 80 } });
  assert.is(s.us_per_peer_block.verify, 43);
  assert.is(s.us_per_peer_block.total, 88.8);
  assert.is(s.idle_us_per_peer_block, 50);
  assert.is(s.process_cpu_us_per_peer_block, 100);
  assert.equal(s.threads_cpu_us_per_peer_block, { main: 90, profiler: 2, other: 8 });
  assert.is(s.peer_blocks, 10);
});

test('summarize: several threads\' profiles (peer threads) add up, category by category and leaf by leaf', () => {
  const one = summarize(profileOf(stacks), { root: ROOT, peerBlocks: 10, intervalUs: 1000, processCpuUs: null });
  const two = summarize([profileOf(stacks), profileOf(stacks.slice(0, 1))], { root: ROOT, peerBlocks: 10, intervalUs: 1000, processCpuUs: null });
  assert.is(two.us_per_peer_block.verify, one.us_per_peer_block.verify! + 40);
  assert.is(two.us_per_peer_block.total, one.us_per_peer_block.total! + 40);
  assert.is(two.samples, stacks.length + 1);
  assert.equal(two.top[0], { category: 'verify', function: 'run', file: '', us_per_peer_block: 80 });
});

test.run();
