// The benchmark's split of message verifications by what was signed (bench/lib/nats-network.ts signedKind):
// read from the canonical payload's first keys, never by decoding it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { signedKind } from '../../bench/lib/nats-network.ts';
import { encodeCbor } from '../../runtime/wire/cbor.ts';
import { PAYLOAD_KINDS } from '../../runtime/wire/messages.ts';
import { samplePayload } from '../helpers/payloads.ts';

test('every payload kind is named, a relayed data message (originator key first) too; secrets and others apart', () => {
  for (const kind of PAYLOAD_KINDS) assert.is(signedKind(encodeCbor(samplePayload(kind, new Uint8Array(32).fill(3)))), kind, kind);
  assert.is(signedKind(encodeCbor({ t: 'data', ch: 'channel1', seq: 1, block: new Uint8Array(9), o: new Uint8Array(32) })), 'data');
  assert.is(signedKind(encodeCbor({ internalEndpoint: '127.0.0.1:7051' })), 'secret');
  assert.is(signedKind(new Uint8Array([1, 2, 3])), 'other');
  assert.is(signedKind(encodeCbor({ x: 1 })), 'other');
});

test.run();
