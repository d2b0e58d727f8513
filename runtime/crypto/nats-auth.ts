// Least privilege on the bus: a nats-server authorization config with one user per peer, one for the
// orderer and one for operator clients (status, tx, load), each allowed to publish and subscribe only where
// the protocol routes its messages. Signatures remain the real defence; permissions cut the blast radius.
//   peer of org O:  pub  inboxes of any peer, O's org-only channel subjects, its channels' cross-org subjects,
//                        O's discovery subject and the external discovery subject, replies, and the JetStream
//                        API calls an ordered consumer needs (create/delete/info of consumers, stream info, flow
//                        control); never another org's org-only subjects, never the block stream subjects
//                   sub  its own inbox(es), O's org-only subjects, its channels' subjects, discovery, status, replies
//   orderer:        pub  block stream subjects, JetStream API, replies; sub transaction subjects, replies
//   client:         pub  status and transaction subjects; sub replies
import { randomBytes } from 'node:crypto';
import { subjects as subjectsOf } from '../transport/subjects.ts';

export type NatsRole = 'peer' | 'orderer' | 'client';

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

export interface PeerScope {
  mspId: string;
  endpoints: string[];
  channels: string[];
}

export function permissionsFor(role: NatsRole, prefix: string, scope?: PeerScope): Permissions {
  const s = subjectsOf(prefix);
  const blockSubjects = `${prefix}.blocks.>`;
  if (role === 'orderer')
    return {
      publish: { allow: [blockSubjects, '$JS.API.>', '_INBOX.>'], deny: [] },
      subscribe: { allow: [`${prefix}.orderer.*.tx`, '_INBOX.>'], deny: [] },
    };
  if (role === 'client')
    return {
      publish: { allow: [s.status(), `${prefix}.orderer.*.tx`, '$JS.API.STREAM.INFO.*', '$JS.API.INFO'], deny: [blockSubjects] },
      subscribe: { allow: ['_INBOX.>'], deny: [] },
    };
  if (!scope) throw new Error('a peer user needs its org, endpoints and channels');
  const orgOnly = `${prefix}.org.${scope.mspId}.*`;
  // NATS wildcards are whole tokens, so the consumer API subjects are listed per channel stream.
  const jsApi = scope.channels.flatMap((c) => {
    const st = s.blockStream(c);
    return [`$JS.API.CONSUMER.CREATE.${st}`, `$JS.API.CONSUMER.CREATE.${st}.>`, `$JS.API.CONSUMER.DELETE.${st}.*`, `$JS.API.CONSUMER.INFO.${st}.*`, `$JS.API.STREAM.INFO.${st}`];
  });
  return {
    publish: {
      allow: [
        `${prefix}.inbox.>`,
        orgOnly,
        ...scope.channels.map((c) => s.channel(c)),
        s.discoveryOrg(scope.mspId),
        s.discoveryExternal(),
        '_INBOX.>',
        ...jsApi,
        '$JS.API.INFO',
        '$JS.FC.>',
      ],
      deny: [blockSubjects, `$JS.API.STREAM.CREATE.>`, `$JS.API.STREAM.UPDATE.>`, `$JS.API.STREAM.DELETE.>`, `$JS.API.STREAM.PURGE.>`, `$JS.API.STREAM.MSG.DELETE.>`],
    },
    subscribe: {
      allow: [...scope.endpoints.map((e) => s.inbox(e)), orgOnly, ...scope.channels.map((c) => s.channel(c)), s.discoveryOrg(scope.mspId), s.discoveryExternal(), s.status(), '_INBOX.>'],
      deny: [],
    },
  };
}

const password = (): string => randomBytes(18).toString('base64url');

export function makeUser(user: string, role: NatsRole, prefix: string, scope?: PeerScope): NatsUser {
  return { user, pass: password(), role, permissions: permissionsFor(role, prefix, scope) };
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
  return `# Written by murmur crypto generate: one user per peer, the orderer and operator clients.\nauthorization {\n  users: [\n${body}\n  ]\n}\n`;
}
