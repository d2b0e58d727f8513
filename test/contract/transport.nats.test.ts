// NatsTransport against a real nats-server on a free loopback port: the shared contract, then what only a
// real bus does (reconnect after the server restarts on the same port). Every wait has a deadline.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { findNatsServer, freePort, startNatsServer, type NatsServer } from '../../runtime/nats-server.ts';
import { subjects } from '../../runtime/transport/subjects.ts';
import { NatsTransport } from '../../runtime/transport/nats.transport.ts';
import type { ConnectionEvent, Inbound } from '../../runtime/transport/transport.ts';
import { until, waitFor, withDeadline } from '../helpers/deadline.ts';
import { frame, TestDecoder, text } from '../helpers/test-decoder.ts';
import { transportContract } from './transport.contract.ts';

let server: NatsServer | null = null;
let harnesses = 0;

transportContract(
  'nats',
  async (decoders) => {
    if (!server) throw new Error('nats-server not started');
    const prefix = `t${++harnesses}`; // each case on its own subjects, so nothing leaks between cases
    const transports = decoders.map(
      (decoder, i) => new NatsTransport({ servers: [server!.url], endpoint: `peer${i}.org1`, prefix, decoder }),
    );
    try {
      for (const t of transports) await withDeadline(t.start(), 5000, 'connect');
    } catch (err) {
      await Promise.all(transports.map((t) => t.stop()));
      throw err;
    }
    return {
      transports,
      subjects: subjects(prefix),
      // Twice round: the first flush gets every publish/subscribe to the server, the second makes each
      // receiver read everything the server wrote to it before its PONG.
      async settle() {
        for (let round = 0; round < 2; round++) for (const t of transports) await withDeadline(t.flush(), 5000, 'flush');
      },
      async close() {
        await Promise.all(transports.map((t) => t.stop()));
      },
    };
  },
  {
    before: async () => {
      server = await startNatsServer({ jetstream: false });
    },
    after: async () => {
      await server?.stop();
      server = null;
    },
  },
).run();

const test = suite('nats transport');

test('maxPayload is the server max_payload less the header reserve', async () => {
  const s = await startNatsServer({ jetstream: false, extraArgs: ['--max_payload', '65536'] }).catch(async () => {
    // Older servers lack the flag: fall back to the default limit.
    return startNatsServer({ jetstream: false });
  });
  const t = new NatsTransport({ servers: [s.url], endpoint: 'solo', decoder: new TestDecoder() });
  try {
    await withDeadline(t.start(), 5000, 'connect');
    const server = t.connection!.info!.max_payload;
    assert.is(t.maxPayload, server - 256);
  } finally {
    await t.stop();
    await s.stop();
  }
});

test('reconnects after the server restarts on the same port; delivery resumes', async () => {
  let s: NatsServer | null = await startNatsServer({ jetstream: false });
  const port = s.port;
  const a = new NatsTransport({ servers: [s.url], endpoint: 'a', decoder: new TestDecoder(), reconnectTimeWaitMs: 100 });
  const b = new NatsTransport({ servers: [s.url], endpoint: 'b', decoder: new TestDecoder(), reconnectTimeWaitMs: 100 });
  const events: ConnectionEvent['type'][] = [];
  const got: Inbound[] = [];
  try {
    await withDeadline(Promise.all([a.start(), b.start()]), 5000, 'connect');
    b.inbound$.subscribe((m) => got.push(m));
    a.status$.subscribe((e) => events.push(e.type));
    a.send('b', frame('before'));
    await until(() => got.length === 1, 5000, 'first delivery');

    const reconnected = Promise.all([
      waitFor(a.status$, (e) => e.type === 'reconnected', 15_000, 'a reconnected'),
      waitFor(b.status$, (e) => e.type === 'reconnected', 15_000, 'b reconnected'),
    ]);
    const disconnected = waitFor(a.status$, (e) => e.type === 'disconnected', 5000, 'a disconnected');
    await s.stop();
    s = null;
    await disconnected;
    assert.is(a.connected, false);
    await waitFor(a.status$, (e) => e.type === 'reconnecting', 5000, 'a reconnecting');
    s = await startNatsServer({ jetstream: false, port });
    await reconnected;
    assert.ok(a.connected);
    assert.equal(events.slice(0, 4), ['connected', 'disconnected', 'reconnecting', 'reconnected']);

    await b.flush(); // b's inbox subscription is re-registered on the new server
    a.send('b', frame('after'));
    await until(() => got.length === 2, 5000, 'delivery after reconnect');
    assert.equal(got.map((m) => text(m.msg)), ['before', 'after']);
  } finally {
    await a.stop();
    await b.stop();
    await s?.stop();
  }
});

test('a shared connection: stop() only unsubscribes', async () => {
  const s = await startNatsServer({ jetstream: false });
  const owner = new NatsTransport({ servers: [s.url], endpoint: 'owner', decoder: new TestDecoder() });
  const other = new NatsTransport({ servers: [s.url], endpoint: 'other', decoder: new TestDecoder() });
  try {
    await owner.start();
    await other.start();
    const guest = new NatsTransport({ servers: [], endpoint: 'guest', decoder: new TestDecoder(), connection: owner.connection! });
    await guest.start();
    const got: string[] = [];
    guest.inbound$.subscribe((m) => got.push(text(m.msg)));
    await guest.flush();
    other.send('guest', frame('hi guest'));
    await until(() => got.length === 1, 5000, 'guest delivery');
    await guest.stop();
    assert.is(owner.connection!.isClosed(), false);
    assert.ok(owner.connected);
    other.send('guest', frame('gone'));
    await other.flush();
    await owner.flush();
    assert.equal(got, ['hi guest']);
  } finally {
    await owner.stop();
    await other.stop();
    await s.stop();
  }
});

test('startNatsServer reports a clear error on a taken port, with the server output', async () => {
  const s = await startNatsServer({ jetstream: false });
  try {
    await startNatsServer({ jetstream: false, port: s.port, timeoutMs: 3000 });
    assert.unreachable('a second server on the same port must fail');
  } catch (err) {
    assert.match(String(err), /address already in use|exited/);
  } finally {
    await s.stop();
  }
});

test('a missing binary gives the install hint', async () => {
  try {
    await startNatsServer({ binary: '/nonexistent/nats-server' });
    assert.unreachable('must fail');
  } catch (err) {
    assert.match(String(err), 'nats-server not found: install it with "apt-get install -y nats-server"');
  }
  assert.type(findNatsServer(), 'string');
});

test('start() waits for a server that comes up later; stop() ends a wait that never connects', async () => {
  const port = await freePort();
  const late = new NatsTransport({ servers: [`nats://127.0.0.1:${port}`], endpoint: 'late', decoder: new TestDecoder(), reconnectTimeWaitMs: 50 });
  const never = new NatsTransport({ servers: [`nats://127.0.0.1:${await freePort()}`], endpoint: 'never', decoder: new TestDecoder(), reconnectTimeWaitMs: 50 });
  let s: NatsServer | null = null;
  try {
    const starting = late.start();
    const waiting = never.start();
    await waitFor(late.status$, (e) => e.type === 'error', 5000, 'first connect failure reported');
    s = await startNatsServer({ jetstream: false, port });
    await withDeadline(starting, 5000, 'start after the server came up');
    assert.ok(late.connected);
    await withDeadline(never.stop(), 2000, 'stop during the first-connect wait');
    await withDeadline(waiting, 2000, 'start() returns once stopped');
    assert.is(never.connected, false);
    const bounded = new NatsTransport({ servers: [`nats://127.0.0.1:${await freePort()}`], endpoint: 'b', decoder: new TestDecoder(), reconnectTimeWaitMs: 50, connectTimeoutMs: 300 });
    try {
      await withDeadline(bounded.start(), 3000, 'bounded start');
      assert.unreachable('must fail');
    } catch (err) {
      assert.match(String(err), /no NATS server reachable/);
    }
  } finally {
    await late.stop();
    await never.stop();
    await s?.stop();
  }
});

test('stop() while the server is down does not hang', async () => {
  const s = await startNatsServer({ jetstream: false });
  const t = new NatsTransport({ servers: [s.url], endpoint: 'x', decoder: new TestDecoder(), reconnectTimeWaitMs: 50 });
  try {
    await t.start();
    const down = waitFor(t.status$, (e) => e.type === 'disconnected', 5000, 'disconnected');
    await s.stop();
    await down;
    await withDeadline(t.stop(), 7000, 'stop while disconnected');
    assert.is(t.connection!.isClosed(), true);
  } finally {
    await t.stop();
    await s.stop();
  }
});

test('startNatsServer with JetStream is healthy and stops cleanly', async () => {
  const s = await startNatsServer({});
  const pid = s.pid;
  await Promise.all([s.stop(), s.stop()]);
  assert.throws(() => process.kill(pid, 0), /ESRCH/);
});

test.run();
