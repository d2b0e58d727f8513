// Structural validation of decoded payloads. Input is whatever CBOR produced (untrusted); output is a fresh
// object of the exact payload type, or a description of the first problem. Bounds on every string and list
// keep a hostile message from costing more than its size.
import { plain as view } from '../util/bytes.ts';
import type { Member, Payload, PeerTime, PullKind, StateBlock } from './messages.ts';

export const LIMITS = {
  endpoint: 256,
  channel: 64,
  digest: 128,
  metadata: 4096,
  listItems: 10_000,
  stateBlocks: 1_000,
  /** Blocks per announcement or graft: more than a burst never needs to travel at once. */
  treeItems: 256,
} as const;

class Invalid extends Error {}
const fail = (msg: string): never => {
  throw new Invalid(msg);
};

type Obj = Record<string, unknown>;
const own = (o: Obj, k: string): unknown => (Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined);

function obj(x: unknown, what: string): Obj {
  if (typeof x !== 'object' || x === null || Array.isArray(x) || x instanceof Uint8Array) fail(`${what}: not a map`);
  return x as Obj;
}
function uint(o: Obj, k: string): number {
  const v = own(o, k);
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(`${k}: not a non-negative integer`);
  return v as number;
}
function nonce(o: Obj): number {
  const v = uint(o, 'nonce');
  if (v === 0) fail('nonce: zero');
  return v;
}
function bool(o: Obj, k: string): boolean {
  const v = own(o, k);
  if (typeof v !== 'boolean') fail(`${k}: not a boolean`);
  return v as boolean;
}
function bytes(o: Obj, k: string, max: number, exact?: number): Uint8Array {
  const v = own(o, k);
  if (!(v instanceof Uint8Array)) fail(`${k}: not bytes`);
  const b = v as Uint8Array;
  if (exact !== undefined && b.byteLength !== exact) fail(`${k}: expected ${exact} bytes`);
  if (b.byteLength > max) fail(`${k}: too long`);
  return view(b);
}
const pki = (o: Obj, k = 'pkiId'): Uint8Array => bytes(o, k, 32, 32);
function str(o: Obj, k: string, max: number, re?: RegExp): string {
  const v = own(o, k);
  if (typeof v !== 'string' || v.length > max) fail(`${k}: not a string of at most ${max} characters`);
  if (re && !re.test(v as string)) fail(`${k}: invalid characters`);
  return v as string;
}
const CHANNEL = /^[A-Za-z0-9_-]{1,64}$/;
/** An optional 32-byte view digest (absent: no `view` key at all). */
const optionalView = (o: Obj): { view?: Uint8Array } => (own(o, 'view') === undefined ? {} : { view: bytes(o, 'view', 32, 32) });
const ENDPOINT = /^(?:[A-Za-z0-9_\-:]+(?:\.[A-Za-z0-9_\-:]+)*)?$/;
const ch = (o: Obj): string => str(o, 'ch', LIMITS.channel, CHANNEL);
function list<T>(o: Obj, k: string, max: number, item: (x: unknown, i: number) => T): T[] {
  const v = own(o, k);
  if (!Array.isArray(v)) fail(`${k}: not a list`);
  const a = v as unknown[];
  if (a.length > max) fail(`${k}: more than ${max} items`);
  return a.map(item);
}
const bytesItem = (k: string) => (x: unknown): Uint8Array => {
  if (!(x instanceof Uint8Array)) fail(`${k}: item not bytes`);
  return view(x as Uint8Array);
};

const digestItem = (x: unknown): string => {
  if (typeof x !== 'string' || x.length === 0 || x.length > LIMITS.digest) fail('digests: bad item');
  return x as string;
};
function peerTime(o: Obj): PeerTime {
  const t = obj(own(o, 'ts'), 'ts');
  return { incNum: uint(t, 'incNum'), seqNum: uint(t, 'seqNum') };
}
function pullKind(o: Obj): PullKind {
  const v = own(o, 'kind');
  if (v !== 'block' && v !== 'identity') fail('kind: not a pull kind');
  return v as PullKind;
}
function member(o: Obj): Member {
  const m = obj(own(o, 'member'), 'member');
  return {
    endpoint: str(m, 'endpoint', LIMITS.endpoint, ENDPOINT),
    pkiId: pki(m),
    metadata: bytes(m, 'metadata', LIMITS.metadata),
  };
}

const validators: { [K in Payload['t']]: (o: Obj) => Extract<Payload, { t: K }> } = {
  alive: (o) => ({ t: 'alive', member: member(o), ts: peerTime(o) }),
  memReq: (o) => ({ t: 'memReq', nonce: nonce(o), alive: bytes(o, 'alive', Infinity), ...optionalView(o) }),
  memRes: (o) => ({
    t: 'memRes',
    nonce: nonce(o),
    alive: list(o, 'alive', LIMITS.listItems, bytesItem('alive')),
    dead: list(o, 'dead', LIMITS.listItems, bytesItem('dead')),
  }),
  ping: (o) => ({ t: 'ping', nonce: nonce(o) }),
  ack: (o) => ({ t: 'ack', nonce: nonce(o) }),
  pingReq: (o) => ({ t: 'pingReq', nonce: nonce(o), target: pki(o, 'target') }),
  suspect: (o) => ({ t: 'suspect', pkiId: pki(o), ts: peerTime(o) }),
  leadership: (o) => ({ t: 'leadership', ch: ch(o), pkiId: pki(o), ts: peerTime(o), declaration: bool(o, 'declaration') }),
  data: (o) => ({ t: 'data', ch: ch(o), seq: uint(o, 'seq'), block: bytes(o, 'block', Infinity), ...(own(o, 'o') === undefined ? {} : { o: pki(o, 'o') }) }),
  ihave: (o) => ({
    t: 'ihave',
    ch: ch(o),
    blocks: list(o, 'blocks', LIMITS.treeItems, (x) => {
      const b = obj(x, 'blocks item');
      return { seq: uint(b, 'seq'), hash: bytes(b, 'hash', 32, 32) };
    }),
  }),
  graft: (o) => ({
    t: 'graft',
    ch: ch(o),
    seqs: list(o, 'seqs', LIMITS.treeItems, (x) => {
      if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) fail('seqs: bad item');
      return x as number;
    }),
    eager: bool(o, 'eager'),
  }),
  prune: (o) => ({ t: 'prune', ch: ch(o) }),
  hello: (o) => ({ t: 'hello', ch: ch(o), nonce: nonce(o), kind: pullKind(o) }),
  digest: (o) => ({ t: 'digest', ch: ch(o), nonce: nonce(o), kind: pullKind(o), digests: list(o, 'digests', LIMITS.listItems, digestItem) }),
  request: (o) => ({ t: 'request', ch: ch(o), nonce: nonce(o), kind: pullKind(o), digests: list(o, 'digests', LIMITS.listItems, digestItem) }),
  update: (o) => ({ t: 'update', ch: ch(o), nonce: nonce(o), kind: pullKind(o), items: list(o, 'items', LIMITS.listItems, bytesItem('items')) }),
  stateInfo: (o) => {
    const p = obj(own(o, 'props'), 'props');
    return { t: 'stateInfo', ch: ch(o), pkiId: pki(o), ts: peerTime(o), props: { height: uint(p, 'height'), leftChannel: bool(p, 'leftChannel') } };
  },
  stateInfoPullReq: (o) => ({ t: 'stateInfoPullReq', ch: ch(o), nonce: nonce(o), ...optionalView(o) }),
  stateInfoSnapshot: (o) => ({ t: 'stateInfoSnapshot', ch: ch(o), nonce: nonce(o), elements: list(o, 'elements', LIMITS.listItems, bytesItem('elements')) }),
  stateReq: (o) => {
    const start = uint(o, 'start');
    const end = uint(o, 'end');
    return { t: 'stateReq', ch: ch(o), nonce: nonce(o), start, end };
  },
  stateRes: (o) => ({
    t: 'stateRes',
    ch: ch(o),
    nonce: nonce(o),
    blocks: list(o, 'blocks', LIMITS.stateBlocks, (x): StateBlock => {
      const b = obj(x, 'blocks item');
      return { seq: uint(b, 'seq'), block: bytes(b, 'block', Infinity) };
    }),
  }),
  identity: (o) => ({ t: 'identity', pkiId: pki(o) }),
  session: (o) => {
    const to = own(o, 'to');
    return {
      t: 'session',
      pkiId: pki(o),
      inbox: str(o, 'inbox', LIMITS.endpoint, ENDPOINT),
      incNum: uint(o, 'incNum'),
      nonce: nonce(o),
      to: to === null ? null : pki(o, 'to'),
      probe: bool(o, 'probe'),
      dh: bytes(o, 'dh', 32, 32),
    };
  },
};

export type PayloadCheck = { ok: true; payload: Payload } | { ok: false; unknownKind: boolean; detail: string };

export function validatePayload(x: unknown): PayloadCheck {
  try {
    const o = obj(x, 'payload');
    const t = own(o, 't');
    const v = typeof t === 'string' && Object.prototype.hasOwnProperty.call(validators, t) ? validators[t as Payload['t']] : undefined;
    if (!v) return { ok: false, unknownKind: true, detail: `unknown kind ${String(t).slice(0, 32)}` };
    return { ok: true, payload: v(o) };
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, unknownKind: false, detail: e.message };
    return { ok: false, unknownKind: false, detail: 'invalid payload' };
  }
}

/** The PKI-ID a payload claims as its originator, which must be the signer's. */
export function claimedOriginator(p: Payload): Uint8Array | null {
  switch (p.t) {
    case 'alive':
      return p.member.pkiId;
    case 'leadership':
    case 'stateInfo':
    case 'identity':
    case 'session':
      return p.pkiId;
    default:
      return null;
  }
}
