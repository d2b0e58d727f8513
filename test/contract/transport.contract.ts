// The Transport contract: every implementation (memory, NATS) runs this one suite. Frames go through a test
// decoder (test/helpers/test-decoder.ts) so the suite does not depend on the wire codec.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { InboundDecoder } from '../../runtime/wire/messages.ts';
import type { Subjects } from '../../runtime/transport/subjects.ts';
import type { ConnectionEvent, Inbound, Transport } from '../../runtime/transport/transport.ts';
import { withDeadline } from '../helpers/deadline.ts';
import { frame, TestDecoder, text } from '../helpers/test-decoder.ts';

export interface ContractHarness {
  /** Started transports, one per decoder, in order. */
  transports: Transport[];
  /** Subject builder for the prefix the transports use. */
  subjects: Subjects;
  /** Let every message sent so far arrive (memory: advance the sim clock; NATS: flush round trips). */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export type ContractFactory = (decoders: InboundDecoder[]) => Promise<ContractHarness>;

export interface ContractHooks {
  before?: () => Promise<void>;
  after?: () => Promise<void>;
}

interface Recorder {
  got: Inbound[];
  texts(): string[];
  stop(): void;
}

function record(t: Transport): Recorder {
  const got: Inbound[] = [];
  const sub = t.inbound$.subscribe((m) => got.push(m));
  return { got, texts: () => got.map((m) => text(m.msg)), stop: () => sub.unsubscribe() };
}

function latestStatus(t: Transport): ConnectionEvent | undefined {
  let last: ConnectionEvent | undefined;
  t.status$.subscribe((e) => (last = e)).unsubscribe();
  return last;
}

const DEADLINE = 10_000;

export function transportContract(name: string, factory: ContractFactory, hooks: ContractHooks = {}) {
  const test = suite(`transport contract: ${name}`);
  if (hooks.before) test.before(hooks.before);
  if (hooks.after) test.after(hooks.after);

  /** Runs `body` with n fresh transports, closing them whatever happens. */
  async function withTransports(n: number, body: (h: ContractHarness, decoders: TestDecoder[]) => Promise<void>): Promise<void> {
    const decoders = Array.from({ length: n }, () => new TestDecoder());
    const h = await withDeadline(factory(decoders), DEADLINE, 'factory');
    try {
      await body(h, decoders);
    } finally {
      await withDeadline(h.close(), DEADLINE, 'close');
    }
  }

  test('send to an inbox arrives once, with payload, subject and via', () =>
    withTransports(3, async (h) => {
      const [a, b, c] = h.transports as [Transport, Transport, Transport];
      const [ra, rb, rc] = [record(a), record(b), record(c)];
      assert.ok(a.send(b.endpoint, frame('hello b'), { via: 'relay.peer' }));
      assert.ok(a.send(c.endpoint, frame('hello c')));
      await h.settle();
      assert.equal(rb.texts(), ['hello b']);
      assert.is(rb.got[0]!.via, 'relay.peer');
      assert.is(rb.got[0]!.subject, h.subjects.inbox(b.endpoint));
      assert.equal(rc.texts(), ['hello c']);
      assert.is(rc.got[0]!.via, null);
      assert.equal(ra.got, []);
      assert.is(a.stats.sent, 2);
      assert.is(b.stats.received, 1);
    }));

  test('publish reaches every subscriber but not the sender', () =>
    withTransports(4, async (h) => {
      const [a, b, c, d] = h.transports as [Transport, Transport, Transport, Transport];
      const subject = h.subjects.channel('c1');
      for (const t of [a, b, c]) t.subscribe(subject);
      b.subscribe(subject); // idempotent: still one delivery
      await h.settle();
      const [ra, rb, rc, rd] = [record(a), record(b), record(c), record(d)];
      assert.ok(a.publish(subject, frame('block 1')));
      await h.settle();
      assert.equal(rb.texts(), ['block 1']);
      assert.equal(rc.texts(), ['block 1']);
      assert.is(rb.got[0]!.subject, subject);
      assert.equal(ra.got, [], 'the sender hears nothing of its own publish');
      assert.equal(rd.got, [], 'a non-subscriber hears nothing');
    }));

  test('a wildcard subscription receives matching subjects', () =>
    withTransports(2, async (h) => {
      const [a, b] = h.transports as [Transport, Transport];
      b.subscribe(`${h.subjects.prefix}.org.Org1MSP.*`);
      await h.settle();
      const rb = record(b);
      a.publish(h.subjects.org('Org1MSP', 'ch1'), frame('x1'));
      a.publish(h.subjects.org('Org2MSP', 'ch1'), frame('x2'));
      await h.settle();
      assert.equal(rb.texts(), ['x1']);
    }));

  test('unsubscribe stops delivery', () =>
    withTransports(3, async (h) => {
      const [a, b, c] = h.transports as [Transport, Transport, Transport];
      const subject = h.subjects.org('Org1MSP', 'c1');
      b.subscribe(subject);
      c.subscribe(subject);
      await h.settle();
      c.unsubscribe(subject);
      c.unsubscribe(subject); // idempotent
      await h.settle();
      const [rb, rc] = [record(b), record(c)];
      a.publish(subject, frame('m1'));
      await h.settle();
      assert.equal(rb.texts(), ['m1']);
      assert.equal(rc.got, []);
    }));

  test('a frame the decoder rejects is seen by the decoder and not emitted', () =>
    withTransports(2, async (h, decoders) => {
      const [a, b] = h.transports as [Transport, Transport];
      const rb = record(b);
      a.send(b.endpoint, frame('reject: forged'));
      a.send(b.endpoint, frame('good'));
      await h.settle();
      assert.equal(rb.texts(), ['good']);
      assert.ok(decoders[1]!.seenTexts().includes('reject: forged'));
      assert.is(decoders[1]!.rejected, 1);
      assert.is(b.stats.dropped.rejected, 1);
      assert.is(b.stats.received, 2);
    }));

  test('an oversized send is refused and counted; maxPayload bytes pass', () =>
    withTransports(2, async (h) => {
      const [a, b] = h.transports as [Transport, Transport];
      assert.ok(a.maxPayload > 0);
      const rb = record(b);
      assert.is(a.send(b.endpoint, new Uint8Array(a.maxPayload + 1)), false);
      assert.is(a.publish(h.subjects.channel('c1'), new Uint8Array(a.maxPayload + 1)), false);
      assert.is(a.stats.dropped.oversized, 2);
      assert.is(a.send(b.endpoint, new Uint8Array(a.maxPayload).fill(0x78), { via: 'x'.repeat(128) }), true);
      await h.settle();
      assert.is(rb.got.length, 1);
      assert.is(rb.got[0]!.msg.bytes.byteLength, a.maxPayload);
    }));

  test('stop is idempotent; after stop nothing is delivered or sent', () =>
    withTransports(2, async (h) => {
      const [a, b] = h.transports as [Transport, Transport];
      const subject = h.subjects.channel('c1');
      b.subscribe(subject);
      await h.settle();
      const rb = record(b);
      let completed = false;
      b.inbound$.subscribe({ complete: () => (completed = true) });
      await Promise.all([b.stop(), b.stop()]);
      await b.stop();
      assert.is(b.connected, false);
      assert.is(latestStatus(b)?.type, 'closed');
      assert.ok(completed, 'inbound$ completes on stop');
      a.send(b.endpoint, frame('late'));
      a.publish(subject, frame('late'));
      assert.is(b.send(a.endpoint, frame('from the dead')), false);
      assert.is(b.stats.dropped.stopped, 1);
      await h.settle();
      assert.equal(rb.got, []);
    }));

  test('serve/request: replies from every other responder, maxReplies, errors counted', () =>
    withTransports(4, async (h) => {
      const [a, b, c, d] = h.transports as [Transport, Transport, Transport, Transport];
      const subject = h.subjects.status();
      const dec = new TextDecoder();
      for (const t of [a, b, c]) t.serve(subject, async (req) => frame(`${t.endpoint}:${dec.decode(req)}`));
      const removeBroken = d.serve(subject, () => {
        throw new Error('broken handler');
      });
      await h.settle();

      const all = a.request(subject, frame('q1'), { timeoutMs: 500 });
      await h.settle();
      const replies = (await withDeadline(all, DEADLINE, 'request')).map((r) => dec.decode(r)).sort();
      assert.equal(replies, [`${b.endpoint}:q1`, `${c.endpoint}:q1`], 'own handler does not answer, broken one is silent');
      assert.is(d.stats.dropped['serve-error'], 1);

      removeBroken();
      const one = a.request(subject, frame('q2'), { timeoutMs: 500, maxReplies: 1 });
      await h.settle();
      assert.is((await withDeadline(one, DEADLINE, 'request maxReplies')).length, 1);

      const none = a.request(`${h.subjects.prefix}.nobody`, frame('q3'), { timeoutMs: 100 });
      await h.settle();
      assert.equal(await withDeadline(none, DEADLINE, 'request without responders'), []);
    }));

  test('status$ reports connected', () =>
    withTransports(2, async (h) => {
      for (const t of h.transports) {
        assert.ok(t.connected);
        assert.is(latestStatus(t)?.type, 'connected');
        assert.type(latestStatus(t)?.at, 'number');
      }
    }));

  return test;
}
