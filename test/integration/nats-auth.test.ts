// The generated authorization config on a real nats-server: a peer's credentials are refused when publishing
// to another org's org-only subjects or to the block stream, and allowed where the protocol routes messages;
// replies stay private to their user; monitors, clients and the orderer get no more than their job needs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { generateMaterial, writeMaterial, type NatsCredentials } from '../../runtime/crypto/material.ts';
import { startNatsServer, type NatsServer } from '../../runtime/nats-server.ts';
import { withDeadline } from '../helpers/deadline.ts';

let dir = '';
let server: NatsServer | undefined;
let creds: NatsCredentials;
const conns: NatsConnection[] = [];

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-auth-'));
  const manifest = writeMaterial(generateMaterial({ orgs: ['Org1', 'Org2'], peers: 1, channels: ['channel1'] }), dir);
  creds = JSON.parse(readFileSync(manifest.nats!.users, 'utf8'));
  const conf = join(dir, 'server.conf');
  // nats-server resolves include paths relative to the including file.
  writeFileSync(conf, `include ${JSON.stringify(relative(dir, manifest.nats!.authConf))}\n`);
  server = await startNatsServer({ port: 0, extraArgs: ['-c', conf] });
});
test.after(async () => {
  for (const c of conns) await c.close().catch(() => {});
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function as(who: { user: string; pass: string }): Promise<{ nc: NatsConnection; errors: string[] }> {
  const nc = await connect({ servers: server!.url, user: who.user, pass: who.pass });
  conns.push(nc);
  const errors: string[] = [];
  void (async () => {
    // The server's "Permissions Violation" arrives as a PERMISSIONS_VIOLATION error status on this connection.
    for await (const s of nc.status()) if (s.type === 'error') errors.push(String(s.data));
  })();
  return { nc, errors };
}

async function publishRefused(who: { user: string; pass: string }, subject: string): Promise<boolean> {
  const { nc, errors } = await as(who);
  nc.publish(subject, new Uint8Array([1]));
  await nc.flush();
  await withDeadline(
    (async () => {
      while (!errors.length) await new Promise((r) => setTimeout(r, 20));
    })(),
    3000,
    `permission error for ${subject}`,
  ).catch(() => {});
  return errors.some((e) => /PERMISSIONS_VIOLATION/i.test(e));
}

async function subscribeRefused(who: { user: string; pass: string }, subject: string): Promise<boolean> {
  const { nc, errors } = await as(who);
  nc.subscribe(subject);
  await nc.flush();
  await withDeadline(
    (async () => {
      while (!errors.length) await new Promise((r) => setTimeout(r, 20));
    })(),
    3000,
    `permission error for a subscription to ${subject}`,
  ).catch(() => {});
  return errors.some((e) => /PERMISSIONS_VIOLATION/i.test(e));
}

test('wrong credentials are refused', async () => {
  try {
    await connect({ servers: server!.url, user: 'peer0.org1', pass: 'nope' });
    assert.unreachable('connected with a wrong password');
  } catch (e) {
    assert.match(String(e), /Authorization/i);
  }
});

test("a peer cannot publish to another org's org-only subjects or to the block stream", async () => {
  const p = creds.peers['peer0.org1']!;
  assert.ok(await publishRefused(p, 'murmur.org.Org2MSP.channel1'), 'other org refused');
  assert.ok(await publishRefused(p, 'murmur.blocks.channel1'), 'block stream refused');
  assert.ok(await publishRefused(p, 'murmur.disc.org.Org2MSP'), "other org's discovery refused");
});

test('a peer reaches every subject the protocol routes it to; the orderer writes blocks', async () => {
  const sender = await as(creds.peers['peer0.org1']!);
  const receiver = await as(creds.peers['peer0.org2']!);
  const got: string[] = [];
  for (const subj of ['murmur.inbox.peer0.org2', 'murmur.chan.channel1', 'murmur.disc.ext']) {
    const sub = receiver.nc.subscribe(subj);
    void (async () => {
      for await (const m of sub) got.push(m.subject);
    })();
  }
  await receiver.nc.flush();
  for (const subj of ['murmur.inbox.peer0.org2', 'murmur.chan.channel1', 'murmur.disc.ext', 'murmur.org.Org1MSP.channel1', 'murmur.disc.org.Org1MSP']) sender.nc.publish(subj, new Uint8Array([1]));
  await sender.nc.flush();
  await withDeadline(
    (async () => {
      while (got.length < 3) await new Promise((r) => setTimeout(r, 20));
    })(),
    3000,
    'cross-org delivery',
  );
  assert.equal(got.sort(), ['murmur.chan.channel1', 'murmur.disc.ext', 'murmur.inbox.peer0.org2']);
  assert.equal(sender.errors, [], 'own-org and cross-org subjects allowed');
  // A peer cannot even listen to another org's org-only traffic.
  const spy = await as(creds.peers['peer0.org2']!);
  spy.nc.subscribe('murmur.org.Org1MSP.channel1');
  await spy.nc.flush();
  await withDeadline(
    (async () => {
      while (!spy.errors.some((e) => /PERMISSIONS_VIOLATION/i.test(e))) await new Promise((r) => setTimeout(r, 20));
    })(),
    3000,
    'subscription refused',
  );
  const orderer = await as(creds.orderer);
  orderer.nc.publish('murmur.blocks.channel1', new Uint8Array([1]));
  await orderer.nc.flush();
  assert.equal(orderer.errors, []);
});

test("replies stay private: nobody reads or forges another party's replies", async () => {
  const peer = creds.peers['peer0.org2']!;
  // Each user subscribes to replies only under its own inbox prefix (_INBOX.<user>).
  assert.ok(await subscribeRefused(peer, '_INBOX.>'), 'all replies refused');
  assert.ok(await subscribeRefused(peer, '_INBOX.monitor.>'), "the monitor's replies refused");
  assert.ok(await subscribeRefused(peer, '_INBOX.peer0_org1.>'), "another peer's replies (its JetStream deliveries) refused");
  assert.ok(await subscribeRefused(creds.client, '_INBOX.orderer.>'), "the orderer's replies refused to a client");
  // Responders publish only into inboxes of the purpose they serve: a peer answers status inboxes, never a
  // client's transaction inbox (a forged `{"ok":true}`) nor anything outside _INBOX; the orderer the reverse.
  assert.ok(await publishRefused(peer, '_INBOX.monitor.x1'), 'a reply outside a status inbox refused');
  assert.ok(await publishRefused(peer, '_INBOX.client.tx.x1'), "a peer's forged transaction reply refused");
  assert.ok(await publishRefused(creds.orderer, '_INBOX.monitor.status.x1'), "the orderer's forged status reply refused");
  assert.ok(await publishRefused(creds.monitor!, '_INBOX.client.status.x1'), 'a monitor answers nothing');
  const own = await as(peer);
  own.nc.subscribe('_INBOX.peer0_org2.>');
  await own.nc.flush();
  assert.equal(own.errors, [], 'own replies allowed');
});

test('a monitor only asks for status; clients and peers neither write blocks nor administer streams', async () => {
  const m = creds.monitor!;
  assert.ok(await publishRefused(m, 'murmur.orderer.channel1.tx'), 'a monitor submits no transaction');
  assert.ok(await publishRefused(m, '$JS.API.STREAM.INFO.MURMUR_BLOCKS_channel1'), 'a monitor reads no stream');
  assert.ok(await publishRefused(creds.client, 'murmur.blocks.channel1'), 'a client writes no block');
  assert.ok(await publishRefused(creds.client, '$JS.API.STREAM.PURGE.MURMUR_BLOCKS_channel1'), 'a client purges no stream');
  assert.ok(await publishRefused(creds.peers['peer0.org1']!, '$JS.API.STREAM.DELETE.MURMUR_BLOCKS_channel1'), 'a peer deletes no stream');
  assert.ok(await publishRefused(creds.orderer, '$JS.API.STREAM.DELETE.MURMUR_BLOCKS_channel1'), 'the orderer deletes no stream either');
  const ok = await as(m);
  ok.nc.publish('murmur.status', new Uint8Array(0));
  await ok.nc.flush();
  assert.equal(ok.errors, [], 'status allowed');
});

test.run();
