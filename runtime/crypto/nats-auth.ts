// Least privilege on the bus: a nats-server authorization config with one user per peer, one for the orderer,
// one for operator clients that submit transactions (tx, load) and one for read-only monitors (status,
// dashboard), each allowed to publish and subscribe only where the protocol routes its messages. Signatures
// remain the real defence; permissions cut the blast radius. Every user:
//   - subscribes to replies only under its own inbox prefix `_INBOX.<user>` (subjects.ts inboxPrefixFor), so
//     nobody reads another party's replies (status answers, JetStream deliveries of blocks);
//   - answers requests only into inboxes of the requests it serves: peers into status inboxes
//     (`_INBOX.*.status.>`), the orderer into transaction inboxes (`_INBOX.*.tx.>`); clients open one connection
//     per purpose with that inbox prefix (nats-login.ts). No user has `allow_responses`: in nats-server it lets
//     a responder publish to whatever reply subject the requester names, overriding the deny list, so a status
//     request with reply `<prefix>.blocks.<channel>` made every peer write JSON into the block stream. The
//     responders also check the reply subject themselves (subjects.ts isReplyInbox) for servers without auth.
//   peer of org O:  pub  inboxes of any peer, O's org-only channel subjects, its channels' cross-org subjects,
//                        O's discovery subject and the external discovery subject, and the JetStream API calls an
//                        ordered pull consumer of its channels' block streams needs (create, info, next, delete,
//                        stream info); never another org's org-only subjects, never the block stream subjects
//                   sub  its own inbox(es), O's org-only subjects, its channels' subjects, discovery, status
//   orderer:        pub  its channels' block subjects; create, info and read of its channels' streams
//                   sub  transaction subjects
//   client:         pub  status, transaction subjects, read-only JetStream calls on its channels' streams (height,
//                        `tx --wait`)
//   monitor:        pub  status
import { randomBytes } from 'node:crypto';
import { inboxPrefixFor, subjects as subjectsOf } from '../transport/subjects.ts';

export type NatsRole = 'peer' | 'orderer' | 'client' | 'monitor';

export interface Permissions {
  publish: { allow: string[]; deny: string[] };
  subscribe: { allow: string[]; deny: string[] };
}

export interface NatsUser {
  user: string;
  pass: string;
  role: NatsRole;
  permissions: Permissions;
}

/** What a user's permissions are scoped to: every user the channels; a peer also its org and endpoints. */
export interface UserScope {
  channels: string[];
  mspId?: string;
  endpoints?: string[];
}

/** Where responders may publish: the status inboxes (peers) and transaction inboxes (orderer) of any user. */
const STATUS_REPLIES = '_INBOX.*.status.>';
const TX_REPLIES = '_INBOX.*.tx.>';

export function permissionsFor(user: string, role: NatsRole, prefix: string, scope: UserScope): Permissions {
  const s = subjectsOf(prefix);
  const replies = `${inboxPrefixFor(user)}.>`;
  const allBlocks = `${prefix}.blocks.>`;
  // NATS wildcards are whole tokens, so the JetStream API subjects are listed per channel stream.
  const streams = scope.channels.map((c) => s.blockStream(c));
  const readStream = (st: string) => [
    `$JS.API.STREAM.INFO.${st}`,
    `$JS.API.CONSUMER.CREATE.${st}`,
    `$JS.API.CONSUMER.CREATE.${st}.>`,
    `$JS.API.CONSUMER.INFO.${st}.*`,
    `$JS.API.CONSUMER.MSG.NEXT.${st}.*`,
    `$JS.API.CONSUMER.DELETE.${st}.*`,
  ];
  const streamAdmin = [`$JS.API.STREAM.CREATE.>`, `$JS.API.STREAM.UPDATE.>`, `$JS.API.STREAM.DELETE.>`, `$JS.API.STREAM.PURGE.>`, `$JS.API.STREAM.MSG.DELETE.>`];
  const p = (allow: string[], deny: string[] = []) => ({ allow, deny });
  if (role === 'orderer')
    return {
      publish: p([...scope.channels.map((c) => s.blocks(c)), '$JS.API.INFO', ...streams.flatMap((st) => [`$JS.API.STREAM.INFO.${st}`, `$JS.API.STREAM.CREATE.${st}`, `$JS.API.STREAM.MSG.GET.${st}`]), TX_REPLIES]),
      subscribe: p([`${prefix}.orderer.*.tx`, replies]),
    };
  if (role === 'monitor') return { publish: p([s.status()]), subscribe: p([replies]) };
  if (role === 'client')
    return {
      // MSG.GET: `height` reads the stream's last block (client.ts), skipping foreign entries after it.
      publish: p([s.status(), `${prefix}.orderer.*.tx`, '$JS.API.INFO', ...streams.flatMap(readStream), ...streams.map((st) => `$JS.API.STREAM.MSG.GET.${st}`)], [allBlocks, ...streamAdmin]),
      subscribe: p([replies]),
    };
  if (!scope.mspId || !scope.endpoints?.length) throw new Error('a peer user needs its org and endpoints');
  const orgOnly = `${prefix}.org.${scope.mspId}.*`;
  return {
    publish: p(
      [`${prefix}.inbox.>`, orgOnly, ...scope.channels.map((c) => s.channel(c)), s.discoveryOrg(scope.mspId), s.discoveryExternal(), '$JS.API.INFO', ...streams.flatMap(readStream), STATUS_REPLIES],
      [allBlocks, ...streamAdmin],
    ),
    subscribe: p([...scope.endpoints.map((e) => s.inbox(e)), orgOnly, ...scope.channels.map((c) => s.channel(c)), s.discoveryOrg(scope.mspId), s.discoveryExternal(), s.status(), replies]),
  };
}

const password = (): string => randomBytes(18).toString('base64url');

export function makeUser(user: string, role: NatsRole, prefix: string, scope: UserScope): NatsUser {
  return { user, pass: password(), role, permissions: permissionsFor(user, role, prefix, scope) };
}

const q = (x: string): string => JSON.stringify(x);
const list = (xs: string[]): string => `[${xs.map(q).join(', ')}]`;

/** nats-server configuration text (an `authorization` block) for these users. */
export function renderAuthConfig(users: NatsUser[]): string {
  const body = users
    .map(
      (u) => `    {
      user: ${q(u.user)}
      password: ${q(u.pass)}
      permissions: {
        publish: { allow: ${list(u.permissions.publish.allow)}, deny: ${list(u.permissions.publish.deny)} }
        subscribe: { allow: ${list(u.permissions.subscribe.allow)}, deny: ${list(u.permissions.subscribe.deny)} }
      }
    }`,
    )
    .join('\n');
  return `# Written by murmur crypto generate: one user per peer, the orderer, operator clients and monitors.\nauthorization {\n  users: [\n${body}\n  ]\n}\n`;
}
