// The peer's one inbound router (actors/inbound-router.ts) and the sent-message count by seal-time kind
// (runtime/wire/envelope.ts envelopeKind, runtime/ops/metrics.ts countingTransport): a message reaches exactly
// the handlers of its (kind, channel), nobody's is counted by kind, and counting what is sent never decodes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Subject } from 'rxjs';
import { InboundRouter } from '../../actors/inbound-router.ts';
import type { Inbound, Transport } from '../../runtime/transport/transport.ts';
import type { Payload, Verified } from '../../runtime/wire/messages.ts';
import { envelopeKind, seal, stripSecret } from '../../runtime/wire/envelope.ts';
import { countingTransport } from '../../runtime/ops/metrics.ts';
import { codecFor, peerSigner } from '../helpers/material.ts';

const inbound = (payload: Payload): Inbound => ({ msg: { payload } as unknown as Verified, subject: 's', via: 'relay' });

test('routes by kind and channel; counts what nobody handles; unsubscribing stops delivery', () => {
  const stream = new Subject<Inbound>();
  const r = new InboundRouter(stream);
  r.start();
  const got: string[] = [];
  const offData = r.onChannel('data', 'ch1', (m, via) => got.push(`data:${m.payload.ch}:${m.payload.seq}:${via}`));
  r.onChannel('data', 'ch1', (m) => got.push(`second:${m.payload.seq}`));
  r.onChannel('stateReq', 'ch2', (m) => got.push(`stateReq:${m.payload.ch}`));
  r.onPeer('alive', () => got.push('alive'));
  stream.next(inbound({ t: 'data', ch: 'ch1', seq: 5, block: new Uint8Array(1) }));
  stream.next(inbound({ t: 'data', ch: 'ch2', seq: 6, block: new Uint8Array(1) })); // a channel nobody joined here
  stream.next(inbound({ t: 'stateReq', ch: 'ch2', nonce: 1, start: 1, end: 2 }));
  stream.next(inbound({ t: 'stateReq', ch: 'ch1', nonce: 1, start: 1, end: 2 }));
  stream.next(inbound({ t: 'identity', pkiId: new Uint8Array(32) } as Payload)); // a kind nobody serves
  stream.next(inbound({ t: 'alive' } as Payload));
  assert.equal(got, ['data:ch1:5:relay', 'second:5', 'stateReq:ch2', 'alive']);
  assert.equal(r.unhandled, { data: 1, stateReq: 1, identity: 1 });
  offData();
  stream.next(inbound({ t: 'data', ch: 'ch1', seq: 7, block: new Uint8Array(1) }));
  assert.equal(got.slice(4), ['second:7'], 'the other handler of the key still gets it');
  r.stop();
  stream.next(inbound({ t: 'alive' } as Payload));
  assert.is(got.length, 5, 'nothing routed after stop');
});

test('sent messages are counted by the kind recorded at seal, verify and strip; unknown bytes are never decoded', () => {
  const signer = peerSigner(0, 0);
  const sealed = seal({ t: 'stateReq', ch: 'ch1', nonce: 1, start: 1, end: 2 }, signer, { secret: { internalEndpoint: 'inbox' } });
  assert.is(envelopeKind(sealed), 'stateReq');
  assert.is(envelopeKind(stripSecret(sealed)), 'stateReq', 'stripping the secret for another org keeps the kind');
  // Bytes verified by the codec (a forwarded message) carry their kind too, as the same object.
  const other = seal({ t: 'stateReq', ch: 'ch1', nonce: 2, start: 1, end: 2 }, peerSigner(1, 0));
  const copy = new Uint8Array(other);
  assert.is(envelopeKind(copy), null, 'a fresh copy is unknown until verified');
  const r = codecFor().decode(copy);
  assert.ok(r.ok);
  assert.is(envelopeKind(copy), 'stateReq');
  const counted: string[] = [];
  const t = countingTransport({ send: () => true, publish: () => true } as unknown as Transport, (k) => counted.push(k));
  t.send('x', sealed);
  t.publish('y', copy);
  t.send('x', new Uint8Array([0xa1, 0x61, 0x74, 0x64, 0x64, 0x61, 0x74, 0x61])); // CBOR {t: 'data'}, never sealed here
  assert.equal(counted, ['stateReq', 'stateReq', 'unknown']);
});

test.run();
