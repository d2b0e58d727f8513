// The network writer (runtime/cli/network-writer.ts) that `murmur up`, the failover benchmark and the
// integration tests share: what each peer's core.yaml and the orderer.yaml say, and that a config holding a
// password is readable by its owner only. The files load through the real config loaders.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childEnv, ordererYaml, peerCore, writeYaml, type NetworkLayout } from '../../runtime/cli/network-writer.ts';
import type { Manifest } from '../../runtime/crypto/material.ts';
import { loadPeerConfig } from '../../config/load.ts';
import { loadOrdererConfig } from '../../config/orderer-schema.ts';

const manifest: Manifest = {
  orgs: [
    { name: 'Org1', mspId: 'Org1MSP', ca: 'ca1', peers: ['peer0.org1', 'peer1.org1', 'peer2.org1'].map((id) => ({ id, mspDir: `/m/${id}` })) },
    { name: 'Org2', mspId: 'Org2MSP', ca: 'ca2', peers: [{ id: 'peer0.org2', mspDir: '/m/peer0.org2' }] },
  ],
  orderer: { mspId: 'OrdererMSP', mspDir: '/m/orderer', ca: 'ca0' },
  channels: [{ name: 'channel1', genesisBlock: '/g/channel1.block' }],
};

test('peers: the org\'s first peer is its anchor and bootstraps with the second, the others with the first; a lone peer bootstraps with nobody', () => {
  const dir = mkdtempSync(join(tmpdir(), 'murmur-writer-'));
  try {
    const net: NetworkLayout = { manifest, dir, natsUrls: ['nats://a:1', 'nats://b:2'], prefix: 'px' };
    const load = (org: number, i: number, extra = {}) => {
      const file = writeYaml(join(dir, `${org}-${i}.yaml`), peerCore(net, manifest.orgs[org]!, i, { opsListen: '127.0.0.1:0', settings: { 'peer.gossip.pullInterval': '5s', 'peer.id': 'overridden' }, ...extra }));
      return loadPeerConfig({ file, env: {} }).config.peer;
    };
    const anchor = load(0, 0);
    assert.equal([anchor.id, anchor.gossip.externalEndpoint, anchor.gossip.bootstrap], ['peer0.org1', 'peer0.org1', ['peer1.org1']]);
    assert.is(anchor.gossip.pullInterval, 5000, 'settings apply under the peer\'s own keys');
    assert.equal(anchor.nats.servers, ['nats://a:1', 'nats://b:2']);
    assert.is(anchor.nats.prefix, 'px');
    assert.is(anchor.fileSystemPath, join(dir, 'peers', 'peer0.org1', 'ledger'));
    const other = load(0, 2);
    assert.equal([other.id, other.gossip.externalEndpoint, other.gossip.bootstrap], ['peer2.org1', '', ['peer0.org1']]);
    const lone = load(1, 0);
    assert.equal([lone.gossip.bootstrap, lone.localMspId], [[], 'Org2MSP']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('orderer: the manifest\'s channels and MSP, the bus, replicas and login; a file with a password is 0600', () => {
  const dir = mkdtempSync(join(tmpdir(), 'murmur-writer-'));
  try {
    const net: NetworkLayout = { manifest, dir, natsUrls: ['nats://a:1'], prefix: 'px' };
    const file = writeYaml(join(dir, 'orderer.yaml'), ordererYaml(net, { opsListen: '', replicas: 3, login: { user: 'o', pass: 'secret' }, extra: { BatchTimeout: '1s' } }), { header: 'test', secret: true });
    assert.is(statSync(file).mode & 0o777, 0o600);
    const c = loadOrdererConfig({ file, env: {} }).config;
    assert.equal(JSON.parse(JSON.stringify(c.General.Channels)), [{ name: 'channel1', genesisBlock: '/g/channel1.block' }]);
    assert.equal([c.NATS.Prefix, c.NATS.StreamReplicas, c.NATS.User, c.NATS.Pass, c.BatchTimeout], ['px', 3, 'o', 'secret', 1000]);
    assert.is(statSync(writeYaml(join(dir, 'open.yaml'), {})).mode & 0o777 & 0o044, 0o044 & ~process.umask(), 'without a password: the umask decides');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("up's children get two malloc arenas unless the operator chose a number", () => {
  assert.is(childEnv({ PATH: '/bin' }).MALLOC_ARENA_MAX, '2');
  assert.is(childEnv({ PATH: '/bin' }).PATH, '/bin');
  assert.is(childEnv({ MALLOC_ARENA_MAX: '8' }).MALLOC_ARENA_MAX, '8');
});

test.run();
