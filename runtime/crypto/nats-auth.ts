// Least privilege on the bus: a nats-server authorization config with one user per peer, one for the orderer,
// one for operator clients that submit transactions (tx, load) and one for read-only monitors (status,
// dashboard), each allowed to publish and subscribe only where the protocol routes its messages. Signatures
// remain the real defence; permissions cut the blast radius. Every user:
//   - subscribes to replies only under its own inbox prefix `_INBOX.<user>` (subjects.ts inboxPrefixFor), so
//     nobody reads another party's replies (status answers, deliveries of blocks);
//   - answers requests only into inboxes of the requests it serves: peers into status inboxes
//     (`_INBOX.*.status.>`), the orderer into transaction inboxes (`_INBOX.*.tx.>`) and deliver inboxes
//     (`_INBOX.*.deliver.>`); clients open one connection per purpose with that inbox prefix (nats-login.ts).
//     No user has `allow_responses`: in nats-server it lets a responder publish to whatever reply subject the
//     requester names, overriding the deny list, so a status request with reply `<prefix>.blocks.<channel>`
//     made every peer write JSON into the block stream. The responders also check the reply subject themselves
//     (subjects.ts isReplyInbox) for servers without auth.
//   - except the orderer, uses no JetStream API at all: every API request names its reply subject and a push
//     consumer names its deliver subject, and nats-server 2.9 cannot restrict either per user, so a peer could
//     have the server replay the chain onto another org's subject. The orderer creates each party's one
//     consumer for it, delivering into that party's own inbox (orderer/deliver.service.ts).
//   peer of org O:  pub  inboxes of any peer, O's org-only channel subjects, its channels' cross-org subjects,
//                        O's discovery subject and the external discovery subject, its own deliver requests
//                        (`<p>.deliver.<channel>.<its token>`) and acknowledgements of its own consumers
//                        (`$JS.ACK.<stream>.deliver_<its token>.>`); never another org's org-only subjects,
//                        never the block stream subjects, never the JetStream API
//                   sub  its own inbox(es), O's org-only subjects, its channels' subjects, discovery, status
//   orderer:        pub  its channels' block subjects; create, info and read of its channels' streams; create
//                        and delete of their consumers; replies to transaction and deliver inboxes
//                   sub  transaction, height and deliver requests
//   client:         pub  status, transactions and height requests to the orderer
//   monitor:        pub  status
import { randomBytes } from 'node:crypto';
import { deliverConsumerName, inboxPrefixFor, inboxTokenFor, subjects as subjectsOf } from '../transport/subjects.ts';

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
const DELIVER_REPLIES = '_INBOX.*.deliver.>';

export function permissionsFor(user: string, role: NatsRole, prefix: string, scope: UserScope): Permissions {
  const s = subjectsOf(prefix);
  const replies = `${inboxPrefixFor(user)}.>`;
  const allBlocks = `${prefix}.blocks.>`;
  // NATS wildcards are whole tokens, so the JetStream API subjects are listed per channel stream.
  const streams = scope.channels.map((c) => s.blockStream(c));
  const p = (allow: string[], deny: string[] = []) => ({ allow, deny });
  const toOrderer = [`${prefix}.orderer.*.tx`, `${prefix}.orderer.*.height`];
  if (role === 'orderer')
    return {
      publish: p([
        ...scope.channels.map((c) => s.blocks(c)),
        '$JS.API.INFO',
        ...streams.flatMap((st) => [
          `$JS.API.STREAM.INFO.${st}`,
          `$JS.API.STREAM.CREATE.${st}`,
          `$JS.API.STREAM.MSG.GET.${st}`,
          `$JS.API.CONSUMER.CREATE.${st}.>`,
          `$JS.API.CONSUMER.DELETE.${st}.*`,
        ]),
        TX_REPLIES,
        DELIVER_REPLIES,
      ]),
      subscribe: p([...toOrderer, `${prefix}.deliver.*.*`, replies]),
    };
  if (role === 'monitor') return { publish: p([s.status()]), subscribe: p([replies]) };
  if (role === 'client') return { publish: p([s.status(), ...toOrderer], [allBlocks, '$JS.API.>']), subscribe: p([replies]) };
  if (!scope.mspId || !scope.endpoints?.length) throw new Error('a peer user needs its org and endpoints');
  const orgOnly = `${prefix}.org.${scope.mspId}.*`;
  const token = inboxTokenFor(user);
  return {
    publish: p(
      [
        `${prefix}.inbox.>`,
        orgOnly,
        ...scope.channels.map((c) => s.channel(c)),
        s.discoveryOrg(scope.mspId),
        s.discoveryExternal(),
        ...scope.channels.map((c) => s.deliver(c, token)),
        ...streams.map((st) => `$JS.ACK.${st}.${deliverConsumerName(token)}.>`),
        STATUS_REPLIES,
      ],
      [allBlocks, '$JS.API.>'],
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
