// Every NATS subject murmur uses, in one place. All live under one network prefix (default `murmur`), so
// several networks can share a server. The subject names the traffic class; who may read it is decided by
// NATS permissions where deployed, and always by signatures and protocol rules on receipt.
//
//   <p>.inbox.<endpoint>       point-to-point to one peer (any org may send)
//   <p>.org.<msp>.<channel>    org-only traffic of a channel: blocks, leadership, pull
//   <p>.chan.<channel>         channel-wide cross-org traffic: StateInfo and alive messages of externally
//                              visible peers (also on their org's subjects: own-org peers drop this copy)
//   <p>.disc.org.<msp>         discovery inside an org: alive messages, membership (internal endpoints)
//   <p>.disc.ext               discovery across orgs: subscribed and permitted, unused by this version
//   <p>.status                 status request/reply (CLI), outside the gossip wire
//   <p>.orderer.<channel>.tx   transactions to the orderer
//   <p>.orderer.<channel>.height  the orderer's chain height (request/reply)
//   <p>.deliver.<channel>.<t>  a deliver request of the party whose inbox token is t: the orderer opens a
//                              consumer of the channel's stream delivering into `_INBOX.<t>.deliver.<channel>.…`
//   <p>.blocks.<channel>       the orderer's blocks, captured by JetStream stream <P>_BLOCKS_<channel>
//
// Tokens (prefix parts, MSP ids, channels) are [A-Za-z0-9_-]+. Fabric allows dots in channel names; murmur
// does not, because a dot would split the subject token and is illegal in a JetStream stream name.

export const DEFAULT_PREFIX = 'murmur';
export const MAX_ENDPOINT_LENGTH = 128;

const TOKEN = /^[A-Za-z0-9_-]+$/;
const ENDPOINT_TOKEN = /^[A-Za-z0-9_\-:]+$/;
// Whole dot-separated names in one match (every send checks its subject: split() made an array per message).
const TOKENS = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;
const ENDPOINT_TOKENS = /^[A-Za-z0-9_\-:]+(?:\.[A-Za-z0-9_\-:]+)*$/;

export function isSafeToken(s: unknown): s is string {
  return typeof s === 'string' && TOKEN.test(s);
}

/** Dot-separated tokens of [A-Za-z0-9_-:]; no wildcards, whitespace or empty tokens; at most 128 chars. */
export function isSafeEndpoint(s: unknown): s is string {
  return typeof s === 'string' && s.length <= MAX_ENDPOINT_LENGTH && ENDPOINT_TOKENS.test(s);
}

/** A network prefix: one or more dot-separated safe tokens. */
export function isSafePrefix(s: unknown): s is string {
  return typeof s === 'string' && TOKENS.test(s);
}

/** A concrete subject one may publish to: dot-separated tokens of [A-Za-z0-9_-:], no wildcards. */
export function isPublishSubject(s: unknown): s is string {
  return typeof s === 'string' && ENDPOINT_TOKENS.test(s);
}

/** A subject one may subscribe to: like a publish subject, but `*` may stand for a token and `>` may end it. */
export function isSubscribeSubject(s: unknown): s is string {
  if (typeof s !== 'string' || s.length === 0) return false;
  const tokens = s.split('.');
  return tokens.every((t, i) => ENDPOINT_TOKEN.test(t) || t === '*' || (t === '>' && i === tokens.length - 1));
}

/** NATS subject matching: `*` matches one token, a trailing `>` one or more. */
export function subjectMatches(pattern: string, subject: string): boolean {
  if (pattern === subject) return true;
  // Without a wildcard only equality matches (the simulator asks this for every receiver of every message).
  if (!pattern.includes('*') && !pattern.includes('>')) return false;
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== '*' && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

function token(what: string, v: string): string {
  if (!isSafeToken(v)) throw new Error(`unsafe ${what} for a NATS subject: ${JSON.stringify(v)} (allowed: [A-Za-z0-9_-]+)`);
  return v;
}

function endpoint(v: string): string {
  if (!isSafeEndpoint(v)) {
    throw new Error(
      `unsafe endpoint for a NATS subject: ${JSON.stringify(v)} (allowed: dot-separated tokens of [A-Za-z0-9_-:], at most ${MAX_ENDPOINT_LENGTH} chars)`,
    );
  }
  return v;
}

export interface Subjects {
  readonly prefix: string;
  inbox(endpoint: string): string;
  org(mspId: string, channel: string): string;
  channel(channel: string): string;
  discoveryOrg(mspId: string): string;
  discoveryExternal(): string;
  status(): string;
  ordererTx(channel: string): string;
  ordererHeight(channel: string): string;
  /** Deliver requests of the party whose inbox token (inboxTokenFor) is `token` (deliver.service.ts). */
  deliver(channel: string, token: string): string;
  blocks(channel: string): string;
  /** JetStream stream name (no dots): `MURMUR_BLOCKS_channel1`. */
  blockStream(channel: string): string;
}

export function subjects(prefix: string = DEFAULT_PREFIX): Subjects {
  if (!isSafePrefix(prefix)) throw new Error(`unsafe NATS subject prefix: ${JSON.stringify(prefix)} (allowed: dot-separated tokens of [A-Za-z0-9_-])`);
  const p = prefix;
  const streamPrefix = p.replace(/\./g, '_').toUpperCase();
  return {
    prefix: p,
    inbox: (e) => `${p}.inbox.${endpoint(e)}`,
    org: (msp, ch) => `${p}.org.${token('MSP id', msp)}.${token('channel', ch)}`,
    channel: (ch) => `${p}.chan.${token('channel', ch)}`,
    discoveryOrg: (msp) => `${p}.disc.org.${token('MSP id', msp)}`,
    discoveryExternal: () => `${p}.disc.ext`,
    status: () => `${p}.status`,
    ordererTx: (ch) => `${p}.orderer.${token('channel', ch)}.tx`,
    ordererHeight: (ch) => `${p}.orderer.${token('channel', ch)}.height`,
    deliver: (ch, t) => `${p}.deliver.${token('channel', ch)}.${token('inbox token', t)}`,
    blocks: (ch) => `${p}.blocks.${token('channel', ch)}`,
    blockStream: (ch) => `${streamPrefix}_BLOCKS_${token('channel', ch)}`,
  };
}

export type SubjectClass =
  | { kind: 'inbox'; endpoint: string }
  | { kind: 'org'; mspId: string; channel: string }
  | { kind: 'channel'; channel: string }
  | { kind: 'discoveryOrg'; mspId: string }
  | { kind: 'discoveryExternal' }
  | { kind: 'status' }
  | { kind: 'ordererTx'; channel: string }
  | { kind: 'ordererHeight'; channel: string }
  | { kind: 'deliver'; channel: string; token: string }
  | { kind: 'blocks'; channel: string };

/** Whether `subject` is a channel-wide cross-org subject (`<prefix>.chan.<channel>`). */
export function isChannelWide(subject: string, prefix: string = DEFAULT_PREFIX): boolean {
  return subject.startsWith(`${prefix}.chan.`);
}

/** Which class a concrete subject belongs to under `prefix`, or null if it is none of murmur's. */
export function parseSubject(subject: string, prefix: string = DEFAULT_PREFIX): SubjectClass | null {
  if (!subject.startsWith(`${prefix}.`)) return null;
  const rest = subject.slice(prefix.length + 1);
  const t = rest.split('.');
  switch (t[0]) {
    case 'inbox': {
      const e = t.slice(1).join('.');
      return isSafeEndpoint(e) ? { kind: 'inbox', endpoint: e } : null;
    }
    case 'org':
      return t.length === 3 && isSafeToken(t[1]) && isSafeToken(t[2]) ? { kind: 'org', mspId: t[1], channel: t[2] } : null;
    case 'chan':
      return t.length === 2 && isSafeToken(t[1]) ? { kind: 'channel', channel: t[1] } : null;
    case 'disc':
      if (t.length === 2 && t[1] === 'ext') return { kind: 'discoveryExternal' };
      return t.length === 3 && t[1] === 'org' && isSafeToken(t[2]) ? { kind: 'discoveryOrg', mspId: t[2] } : null;
    case 'status':
      return t.length === 1 ? { kind: 'status' } : null;
    case 'orderer':
      if (t.length !== 3 || !isSafeToken(t[1])) return null;
      return t[2] === 'tx' ? { kind: 'ordererTx', channel: t[1] } : t[2] === 'height' ? { kind: 'ordererHeight', channel: t[1] } : null;
    case 'deliver':
      return t.length === 3 && isSafeToken(t[1]) && isSafeToken(t[2]) ? { kind: 'deliver', channel: t[1], token: t[2] } : null;
    case 'blocks':
      return t.length === 2 && isSafeToken(t[1]) ? { kind: 'blocks', channel: t[1] } : null;
    default:
      return null;
  }
}

/**
 * The reply-inbox prefix of a client that connects as NATS user `user`: `_INBOX.<user>` with every character
 * outside [A-Za-z0-9_-] (dots included) replaced by `_`, one token. The generated authorization lets each user
 * subscribe only under its own prefix, so no party reads another's replies (status answers, JetStream
 * deliveries). Without a user name: nats.js's default `_INBOX`.
 */
export function inboxPrefixFor(user: string | undefined): string {
  return user ? `_INBOX.${inboxTokenFor(user)}` : '_INBOX';
}

/** The one-token form of a user name (or, without authorization, of a peer id): the token of its inbox prefix
 * and of its deliver requests. */
export function inboxTokenFor(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** Where the orderer's consumer for a deliver session of `token` delivers: inside that party's own inbox, which
 * only it may read, whatever the request says (deliver.service.ts). */
export function deliverInbox(token: string, channel: string, session: string): string {
  return `_INBOX.${token}.deliver.${channel}.${session}`;
}

/** The name of the one consumer a party may have on a channel's stream (a new session replaces it). */
export function deliverConsumerName(token: string): string {
  return `deliver_${token}`;
}

/** What a client's replies are for: each purpose has its own inbox, so a responder may publish only into the
 * inboxes of its own purpose (peers answer status, the orderer answers transactions; nats-auth.ts). */
export type ReplyPurpose = 'status' | 'tx';

/** `<inbox prefix of user>.<purpose>`: the inbox prefix of a client connection made for one purpose. */
export function replyInboxFor(user: string | undefined, purpose: ReplyPurpose): string {
  return `${inboxPrefixFor(user)}.${purpose}`;
}

/**
 * Whether a request's reply subject is an inbox. Responders answer only into inboxes: a reply subject naming
 * anything else (a channel's block stream, another org's subject) would make the responder publish there on
 * the requester's behalf, so such requests are dropped and counted (`reply-not-inbox`), never answered.
 */
export function isReplyInbox(reply: string): boolean {
  return reply.startsWith('_INBOX.') && reply.length > '_INBOX.'.length;
}

export interface SubjectDescription {
  subject: string;
  kind: 'subject' | 'stream';
  purpose: string;
}

/** The table the README prints: every subject pattern under `prefix` and what travels on it. */
export function describeSubjects(prefix: string = DEFAULT_PREFIX): SubjectDescription[] {
  const s = subjects(prefix);
  const streamPrefix = s.blockStream('x').slice(0, -'x'.length);
  return [
    { subject: `${s.prefix}.inbox.<endpoint>`, kind: 'subject', purpose: 'point-to-point messages to one peer (any org may send; signatures and rules decide)' },
    { subject: `${s.prefix}.org.<mspId>.<channel>`, kind: 'subject', purpose: 'org-only traffic of a channel: blocks, leadership, pull' },
    { subject: `${s.prefix}.chan.<channel>`, kind: 'subject', purpose: "channel-wide cross-org traffic: StateInfo and alive messages of externally visible peers (own-org peers drop this copy of their org's)" },
    { subject: `${s.prefix}.disc.org.<mspId>`, kind: 'subject', purpose: 'discovery inside an org: alive messages and membership' },
    { subject: s.discoveryExternal(), kind: 'subject', purpose: 'discovery across orgs: subscribed and permitted, unused by this version (external alive messages go on the channel subjects)' },
    { subject: s.status(), kind: 'subject', purpose: 'status request/reply (murmur status), not signed gossip' },
    { subject: `${s.prefix}.orderer.<channel>.tx`, kind: 'subject', purpose: "transactions to the orderer (reply: validated and queued, with the tx id; with header Murmur-Wait: once in a block)" },
    { subject: `${s.prefix}.orderer.<channel>.height`, kind: 'subject', purpose: "the orderer's chain height of the channel (request/reply)" },
    { subject: `${s.prefix}.deliver.<channel>.<inbox token>`, kind: 'subject', purpose: 'deliver requests: the orderer opens the requester\'s one consumer of the stream, delivering into its own inbox' },
    { subject: `${s.prefix}.blocks.<channel>`, kind: 'subject', purpose: "the orderer's blocks, captured by the channel's JetStream stream" },
    { subject: `${streamPrefix}<channel>`, kind: 'stream', purpose: 'JetStream stream per channel holding its blocks' },
  ];
}
