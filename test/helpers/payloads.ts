// One sample payload of every wire kind, for round-trip and fuzz tests.
import type { Payload, PayloadKind } from '../../runtime/wire/messages.ts';

export function samplePayload(kind: PayloadKind, pkiId: Uint8Array): Payload {
  const ts = { incNum: 1_700_000_000_000, seqNum: 7 };
  const b = (n: number, v = 1) => new Uint8Array(n).fill(v);
  switch (kind) {
    case 'alive':
      return { t: 'alive', member: { endpoint: 'peer0.org1', pkiId, metadata: b(3) }, ts };
    case 'memReq':
      return { t: 'memReq', nonce: 42, alive: b(10) };
    case 'memRes':
      return { t: 'memRes', nonce: 42, alive: [b(5), b(6)], dead: [b(7)] };
    case 'ping':
      return { t: 'ping', nonce: 42 };
    case 'ack':
      return { t: 'ack', nonce: 42 };
    case 'pingReq':
      return { t: 'pingReq', nonce: 42, target: b(32, 5) };
    case 'suspect':
      return { t: 'suspect', pkiId: b(32, 5), ts };
    case 'leadership':
      return { t: 'leadership', ch: 'channel1', pkiId, ts, declaration: true };
    case 'data':
      return { t: 'data', ch: 'channel1', seq: 12, block: b(100, 9) };
    case 'ihave':
      return { t: 'ihave', ch: 'channel1', blocks: [{ seq: 12, hash: b(32, 4) }] };
    case 'graft':
      return { t: 'graft', ch: 'channel1', seqs: [12, 13], eager: false };
    case 'prune':
      return { t: 'prune', ch: 'channel1' };
    case 'hello':
      return { t: 'hello', ch: 'channel1', nonce: 5, kind: 'block' };
    case 'digest':
      return { t: 'digest', ch: 'channel1', nonce: 5, kind: 'block', digests: ['1', '2', '3'] };
    case 'request':
      return { t: 'request', ch: 'channel1', nonce: 5, kind: 'identity', digests: ['ab'] };
    case 'update':
      return { t: 'update', ch: 'channel1', nonce: 5, kind: 'block', items: [b(20)] };
    case 'stateInfo':
      return { t: 'stateInfo', ch: 'channel1', pkiId, ts, props: { height: 10, leftChannel: false } };
    case 'stateInfoPullReq':
      return { t: 'stateInfoPullReq', ch: 'channel1', nonce: 9 };
    case 'stateInfoSnapshot':
      return { t: 'stateInfoSnapshot', ch: 'channel1', nonce: 9, elements: [b(4)] };
    case 'stateReq':
      return { t: 'stateReq', ch: 'channel1', nonce: 11, start: 3, end: 13 };
    case 'stateRes':
      return { t: 'stateRes', ch: 'channel1', nonce: 11, blocks: [{ seq: 3, block: b(30) }] };
    case 'identity':
      return { t: 'identity', pkiId };
    case 'session':
      return { t: 'session', pkiId, inbox: 'peer0.org1', incNum: 3, nonce: 77, to: null, probe: false, dh: b(32) };
  }
}
