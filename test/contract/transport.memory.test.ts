// MemoryTransport: the shared contract, then the fault model (latency, loss, duplication, partitions) and
// determinism of the trace digest. Everything runs in simulated time.
import { setImmediate as tick } from 'node:timers/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SimClock } from '../../runtime/clock.ts';
import { rngFromSeed } from '../../runtime/rng.ts';
import { MemoryNetwork, type MemoryNetworkOptions, type MemoryTransport } from '../../runtime/transport/memory.transport.ts';
import type { Inbound } from '../../runtime/transport/transport.ts';
import { frame, TestDecoder, text } from '../helpers/test-decoder.ts';
import { transportContract } from './transport.contract.ts';

transportContract('memory', async (decoders) => {
  const clock = new SimClock();
  const net = new MemoryNetwork({ clock, rng: rngFromSeed('contract') });
  const transports = decoders.map((decoder, i) => net.transport({ endpoint: `peer${i}.org1`, decoder }));
  for (const t of transports) await t.start();
  return {
    transports,
    subjects: net.subjects,
    // Interleave microtasks (async serve handlers) with simulated time: 2 s of sim time in 20 ms steps.
    async settle() {
      for (let i = 0; i < 100; i++) {
        await tick();
        clock.advance(20);
      }
      await tick();
    },
    async close() {
      for (const t of transports) await t.stop();
    },
  };
}).run();

interface World {
  clock: SimClock;
  net: MemoryNetwork;
  peers: MemoryTransport[];
  inbox: Inbound[][];
}

async function world(n: number, opts: Partial<MemoryNetworkOptions> & { seed?: string | number } = {}): Promise<World> {
  const clock = new SimClock();
  const { seed = 1, ...rest } = opts;
  const net = new MemoryNetwork({ clock, rng: rngFromSeed(seed), ...rest });
  const peers = Array.from({ length: n }, (_, i) => net.transport({ endpoint: `p${i}`, decoder: new TestDecoder() }));
  const inbox: Inbound[][] = peers.map(() => []);
  for (const [i, p] of peers.entries()) {
    await p.start();
    p.inbound$.subscribe((m) => inbox[i]!.push(m));
  }
  return { clock, net, peers, inbox };
}

const test = suite('memory network');

test('latency stays within bounds, in simulated time only', async () => {
  const { clock, peers, inbox } = await world(2, { latency: { minMs: 20, maxMs: 40 } });
  const arrivals: number[] = [];
  peers[1]!.inbound$.subscribe(() => arrivals.push(clock.now()));
  for (let i = 0; i < 200; i++) peers[0]!.send('p1', frame(`m${i}`));
  clock.advance(19);
  assert.is(inbox[1]!.length, 0, 'nothing before minMs');
  clock.advance(21);
  assert.is(inbox[1]!.length, 200, 'everything by maxMs');
  assert.ok(arrivals.every((t) => t >= 20 && t <= 40));
  assert.ok(new Set(arrivals).size > 10, 'latencies spread over the range');
});

test('latency 0 is still asynchronous, through the clock', async () => {
  const { clock, peers, inbox } = await world(2, { latency: { minMs: 0, maxMs: 0 } });
  peers[0]!.send('p1', frame('now'));
  assert.is(inbox[1]!.length, 0, 'no synchronous delivery');
  assert.is(clock.pending(), 1);
  clock.advance(0);
  assert.is(inbox[1]!.length, 1);
});

test('a latency function is called per message', async () => {
  const { clock, peers, inbox } = await world(3, { latency: (from, to) => (to === 'p2' ? 100 : 10) });
  peers[0]!.send('p1', frame('a'));
  peers[0]!.send('p2', frame('b'));
  clock.advance(10);
  assert.is(inbox[1]!.length, 1);
  assert.is(inbox[2]!.length, 0);
  clock.advance(90);
  assert.is(inbox[2]!.length, 1);
});

test('loss ≈ p over 2000 messages, exactly reproducible per seed', async () => {
  const run = async (seed: number) => {
    const { clock, net, peers, inbox } = await world(2, { loss: 0.2, seed });
    for (let i = 0; i < 2000; i++) peers[0]!.send('p1', frame(`m${i}`));
    clock.advance(100);
    assert.is(net.counters.lost + inbox[1]!.length, 2000);
    return net.counters.lost;
  };
  const lost = await run(7);
  assert.ok(lost > 2000 * 0.2 - 90 && lost < 2000 * 0.2 + 90, `lost ${lost}`);
  assert.is(await run(7), lost, 'same seed, same count');
});

test('duplication delivers extra copies, counted', async () => {
  const { clock, net, peers, inbox } = await world(2, { duplicate: 0.5 });
  for (let i = 0; i < 1000; i++) peers[0]!.send('p1', frame(`m${i}`));
  clock.advance(100);
  const dups = net.counters.duplicated;
  assert.ok(dups > 400 && dups < 600, `duplicated ${dups}`);
  assert.is(inbox[1]!.length, 1000 + dups);
});

test('reordering lets later messages overtake', async () => {
  const { clock, peers, inbox } = await world(2, { latency: { minMs: 5, maxMs: 5 }, reorder: 0.3, reorderDelay: { minMs: 20, maxMs: 20 } });
  for (let i = 0; i < 100; i++) peers[0]!.send('p1', frame(String(i)));
  clock.advance(100);
  const order = inbox[1]!.map((m) => Number(text(m.msg)));
  assert.is(order.length, 100);
  assert.not.equal(order, [...order].sort((x, y) => x - y));
});

test('partition drops across groups; unlisted endpoints form one group; heal restores', async () => {
  const { clock, net, peers, inbox } = await world(4);
  net.partition([['p0', 'p1']]); // p2, p3 unlisted: together
  peers[0]!.send('p1', frame('same group'));
  peers[0]!.send('p2', frame('across'));
  peers[2]!.send('p3', frame('unlisted together'));
  peers[3]!.send('p1', frame('across back'));
  clock.advance(50);
  assert.equal(inbox.map((m) => m.length), [0, 1, 0, 1]);
  assert.is(net.counters.partitioned, 2);
  net.heal();
  peers[0]!.send('p2', frame('healed'));
  clock.advance(50);
  assert.equal(inbox[2]!.map((m) => text(m.msg)), ['healed']);
});

test('a partition formed while a message is in flight drops it; isolate cuts one endpoint', async () => {
  const { clock, net, peers, inbox } = await world(3, { latency: { minMs: 10, maxMs: 10 } });
  peers[0]!.send('p1', frame('in flight'));
  net.partition([['p0'], ['p1']]);
  clock.advance(20);
  assert.is(inbox[1]!.length, 0);
  net.heal();
  net.isolate('p2');
  peers[0]!.send('p2', frame('x'));
  peers[2]!.send('p1', frame('y'));
  peers[0]!.send('p1', frame('z'));
  clock.advance(20);
  assert.equal(inbox.map((m) => m.length), [0, 1, 0]);
  assert.is(net.counters.partitioned, 3);
});

test('per-link override: a lossy link to one endpoint only', async () => {
  const { clock, net, peers, inbox } = await world(3);
  net.setLink('p0', 'p1', { loss: 1 });
  peers[0]!.send('p1', frame('lost'));
  peers[0]!.send('p2', frame('kept'));
  peers[1]!.send('p0', frame('other direction'));
  clock.advance(50);
  assert.equal(inbox.map((m) => m.length), [1, 0, 1]);
});

test('disconnect/reconnect report status events', async () => {
  const { clock, net, peers } = await world(2);
  const events: string[] = [];
  peers[1]!.status$.subscribe((e) => events.push(e.type));
  net.disconnect('p1');
  assert.is(peers[1]!.connected, false);
  peers[0]!.send('p1', frame('x'));
  clock.advance(20);
  net.reconnect('p1');
  assert.ok(peers[1]!.connected);
  assert.equal(events, ['connected', 'disconnected', 'reconnecting', 'reconnected']);
});

async function scenario(seed: number | string): Promise<string> {
  const { clock, net, peers } = await world(5, { seed, latency: { minMs: 1, maxMs: 30 }, loss: 0.1, duplicate: 0.05, reorder: 0.1 });
  const subject = net.subjects.channel('ch1');
  for (const p of peers) p.subscribe(subject);
  // Each peer relays the first copy of each message once: traffic depends on arrival order.
  for (const p of peers) {
    const seen = new Set<string>();
    p.inbound$.subscribe((m) => {
      const t = text(m.msg);
      if (seen.has(t)) return;
      seen.add(t);
      p.publish(subject, m.msg.bytes, { via: p.endpoint });
    });
  }
  for (let i = 0; i < 20; i++) {
    peers[i % 5]!.publish(subject, frame(`block ${i}`));
    clock.advance(7);
  }
  clock.advance(1000);
  assert.ok(net.counters.delivered > 100);
  return net.traceDigest();
}

test('same seed → same trace digest; different seed → different', async () => {
  const a = await scenario(42);
  const b = await scenario(42);
  const c = await scenario(43);
  assert.is(a, b);
  assert.is.not(a, c);
  assert.match(a, /^[0-9a-f]{64}$/);
});

test('bad input: unsafe endpoints and subjects are refused, duplicate endpoints rejected', async () => {
  const { net, peers } = await world(1);
  assert.is(peers[0]!.send('bad endpoint', frame('x')), false);
  assert.is(peers[0]!.publish('murmur.chan.*', frame('x')), false);
  assert.is(peers[0]!.stats.dropped['bad-subject'], 2);
  assert.throws(() => peers[0]!.subscribe('a..b'), /invalid subscription subject/);
  const twin = net.transport({ endpoint: 'p0', decoder: new TestDecoder() });
  try {
    await twin.start();
    assert.unreachable('a second p0 must not start');
  } catch (err) {
    assert.match(String(err), /already started/);
  }
});

test.run();
