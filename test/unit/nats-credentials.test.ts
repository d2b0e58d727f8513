// Where CLI clients and `murmur up` find NATS credentials (runtime/cli/nats-credentials.ts), and the reply-inbox
// prefix every login implies (runtime/transport/nats-login.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateMaterial, writeMaterial, NATS_AUTH_FORMAT, type Manifest, type NatsCredentials } from '../../runtime/crypto/material.ts';
import { clientLogin, prepareUpAuth, readCredentials } from '../../runtime/cli/nats-credentials.ts';
import { loginOptions } from '../../runtime/transport/nats-login.ts';
import { inboxPrefixFor, isReplyInbox } from '../../runtime/transport/subjects.ts';
import { permissionsFor } from '../../runtime/crypto/nats-auth.ts';

let dir = '';
let manifest: Manifest;
const users = () => join(dir, 'crypto', 'nats', 'users.json');
const read = (): NatsCredentials => JSON.parse(readFileSync(users(), 'utf8'));

test.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-creds-'));
  manifest = writeMaterial(generateMaterial({ orgs: ['Org1', 'Org2'], peers: 2, channels: ['channel1'] }), join(dir, 'crypto'));
});
test.after.each(() => rmSync(dir, { recursive: true, force: true }));

test('users.json: a user per peer, the orderer, client and monitor; owner-only files', () => {
  const c = read();
  assert.is(c.format, NATS_AUTH_FORMAT);
  assert.equal(Object.keys(c.peers), ['peer0.org1', 'peer1.org1', 'peer0.org2', 'peer1.org2']);
  assert.equal([c.orderer.user, c.client.user, c.monitor!.user], ['orderer', 'client', 'monitor']);
  assert.is(statSync(users()).mode & 0o777, 0o600);
  assert.is(statSync(manifest.nats!.authConf).mode & 0o777, 0o600);
  const conf = readFileSync(manifest.nats!.authConf, 'utf8');
  assert.match(conf, /user: "monitor"/);
  // allow_responses would let a responder publish to any reply subject a requester names (issue 18).
  assert.not.match(conf, /allow_responses/);
});

test('reply inboxes: one token per user under _INBOX; nats.js default without a user', () => {
  assert.is(inboxPrefixFor('peer0.org1'), '_INBOX.peer0_org1');
  assert.is(inboxPrefixFor('a b*c>'), '_INBOX.a_b_c_');
  assert.is(inboxPrefixFor(undefined), '_INBOX');
  assert.equal(loginOptions({ user: 'client', pass: 'p' }), { user: 'client', pass: 'p', inboxPrefix: '_INBOX.client' });
  assert.equal(loginOptions({ user: '', pass: '', token: '' }), {});
  // The generated permissions let each user subscribe to its own replies and no others.
  const perms = permissionsFor('peer0.org1', 'peer', 'murmur', { mspId: 'Org1MSP', endpoints: ['peer0.org1'], channels: ['channel1'] });
  assert.ok(perms.subscribe.allow.includes('_INBOX.peer0_org1.>'));
  assert.not.ok(perms.subscribe.allow.some((s) => s === '_INBOX.>'));
  // Replies only into inboxes of the purpose served: peers answer status inboxes, the orderer transaction inboxes.
  assert.equal(perms.publish.allow.filter((s) => s.startsWith('_INBOX')), ['_INBOX.*.status.>']);
  const orderer = permissionsFor('orderer', 'orderer', 'murmur', { channels: ['channel1'] });
  assert.equal(orderer.publish.allow.filter((s) => s.startsWith('_INBOX')), ['_INBOX.*.tx.>', '_INBOX.*.deliver.>']);
  // Only the orderer uses the JetStream API; a peer asks it for deliveries in its own name and acks only its
  // own consumer; a client asks the orderer for heights and waits.
  assert.ok(orderer.publish.allow.includes('$JS.API.CONSUMER.CREATE.MURMUR_BLOCKS_channel1.>'));
  assert.not.ok(perms.publish.allow.some((s) => s.startsWith('$JS.API')));
  assert.ok(perms.publish.deny.includes('$JS.API.>'));
  assert.equal(perms.publish.allow.filter((s) => s.startsWith('$JS') || s.startsWith('murmur.deliver')), ['murmur.deliver.channel1.peer0_org1', '$JS.ACK.MURMUR_BLOCKS_channel1.deliver_peer0_org1.>']);
  const client = permissionsFor('client', 'client', 'murmur', { channels: ['channel1'] });
  assert.equal(client.publish.allow, ['murmur.status', 'murmur.orderer.*.tx', 'murmur.orderer.*.height']);
  assert.equal(loginOptions({ user: 'monitor', pass: 'p' }, 'status').inboxPrefix, '_INBOX.monitor.status');
  assert.equal(loginOptions({}, 'tx').inboxPrefix, '_INBOX.tx');
  assert.ok(isReplyInbox('_INBOX.monitor.status.abc.1'));
  assert.not.ok(isReplyInbox('murmur.blocks.channel1'));
  assert.not.ok(isReplyInbox('_INBOX.'));
  assert.equal(permissionsFor('monitor', 'monitor', 'murmur', { channels: ['channel1'] }).publish.allow, ['murmur.status']);
});

test('--credentials: a users.json (by role), one entry, or a .creds file', () => {
  const c = read();
  assert.equal(readCredentials(users(), 'client'), c.client);
  assert.equal(readCredentials(users(), 'monitor'), c.monitor);
  const one = join(dir, 'client.json');
  writeFileSync(one, JSON.stringify(c.client));
  assert.equal(readCredentials(one, 'monitor'), c.client);
  const creds = join(dir, 'x.creds');
  writeFileSync(creds, '-----BEGIN NATS USER JWT-----\neyJ0\n------END NATS USER JWT------\n');
  assert.equal(readCredentials(creds, 'client'), { credsFile: creds });
  // A users.json from before the monitor user: monitors fall back to the client user.
  const old = join(dir, 'old.json');
  writeFileSync(old, JSON.stringify({ peers: c.peers, orderer: c.orderer, client: c.client }));
  assert.equal(readCredentials(old, 'monitor'), c.client);
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{"x":1}');
  assert.throws(() => readCredentials(bad, 'client'), /holds no NATS user/);
  assert.throws(() => readCredentials(join(dir, 'missing'), 'client'), /cannot read NATS credentials/);
});

test('clientLogin: --credentials first, then the users network.json names, else anonymous', () => {
  const c = read();
  const net = { natsUrl: 'nats://x', natsPid: null, natsUsers: users(), prefix: 'murmur', orderer: null, peers: [] };
  assert.equal(clientLogin({ network: net }, 'monitor'), c.monitor);
  const one = join(dir, 'client.json');
  writeFileSync(one, JSON.stringify({ user: 'u', pass: 'p' }));
  assert.equal(clientLogin({ credentials: one, network: net }, 'monitor'), { user: 'u', pass: 'p' });
  assert.is(clientLogin({ network: { ...net, natsUsers: null } }, 'client'), undefined);
  assert.is(clientLogin({}, 'client'), undefined);
});

test('up: on by default for its own server, with a server config that includes auth.conf; --no-auth turns it off', async () => {
  const lines: string[] = [];
  const o = { data: dir, cryptoDir: join(dir, 'crypto'), manifest, prefix: 'murmur', say: (l: string) => lines.push(l) };
  const a = (await prepareUpAuth(o))!;
  assert.is(a.serverArgs[0], '-c');
  assert.match(readFileSync(a.serverArgs[1]!, 'utf8'), /include "\.\.\/crypto\/nats\/auth\.conf"/);
  assert.equal(a.peer('peer1.org2'), read().peers['peer1.org2']);
  assert.equal(a.monitor, read().monitor);
  assert.is(await prepareUpAuth({ ...o, auth: false }), null);
  assert.is(await prepareUpAuth({ ...o, nats: 'nats://127.0.0.1:1' }), null, 'off with --nats unless --auth');
});

test('up: users from an older format are rewritten for its own server, and refused for a server it does not configure', async () => {
  const c = read();
  writeFileSync(users(), JSON.stringify({ peers: c.peers, orderer: c.orderer, client: c.client }));
  const o = { data: dir, cryptoDir: join(dir, 'crypto'), manifest, prefix: 'murmur', say: () => {} };
  const refused = await prepareUpAuth({ ...o, nats: 'nats://127.0.0.1:1', auth: true }).then(
    () => null,
    (e: Error) => e.message,
  );
  assert.match(refused ?? '', /include .*auth\.conf/);
  writeFileSync(users(), JSON.stringify({ peers: c.peers, orderer: c.orderer, client: c.client }));
  const a = (await prepareUpAuth(o))!;
  assert.is(read().format, NATS_AUTH_FORMAT);
  assert.not.equal(a.client, c.client, 'fresh passwords');
});

test.run();
