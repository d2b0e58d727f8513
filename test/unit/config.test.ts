import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError, defaultConfigPath, loadPeerConfig, type LoadOptions } from '../../config/load.ts';
import { envNameFor, peerSchema, schemaLeaves, type PeerConfig } from '../../config/schema.ts';
import { PRESETS } from '../../config/presets.ts';
import { FABRIC_GOSSIP_KEYS, isFabricGossipEnv, isFabricGossipKey } from '../../config/fabric-keys.ts';

const FABRIC_FIXTURE = resolve('test/fixtures/fabric-core.yaml');
const SAMPLE = resolve('config/core.yaml');

const dir = mkdtempSync(join(tmpdir(), 'murmur-config-'));
let fileNo = 0;
const yamlFile = (text: string): string => {
  const f = join(dir, `core-${fileNo++}.yaml`);
  writeFileSync(f, text);
  return f;
};
test.after(() => rmSync(dir, { recursive: true, force: true }));

// Hermetic by default: never read the test process's own environment.
const load = (opts: LoadOptions = {}) => loadPeerConfig({ env: {}, ...opts });

const get = (obj: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), obj);

/** Asserts a ConfigError whose message contains every needle. */
function refuses(fn: () => unknown, ...needles: string[]): ConfigError {
  try {
    fn();
  } catch (e) {
    assert.instance(e, ConfigError);
    assert.is((e as Error).name, 'ConfigError');
    for (const n of needles) assert.ok((e as Error).message.includes(n), `message should contain ${JSON.stringify(n)}:\n${(e as Error).message}`);
    return e as ConfigError;
  }
  assert.unreachable(`expected a ConfigError mentioning ${needles.join(', ')}`);
  throw new Error('unreachable');
}

// --- defaults ----------------------------------------------------------------------------------------------

const FABRIC_TIMINGS: Record<string, number> = {
  'peer.gossip.membershipTrackerInterval': 5000,
  'peer.gossip.maxPropagationBurstLatency': 10,
  'peer.gossip.pullInterval': 4000,
  'peer.gossip.requestStateInfoInterval': 4000,
  'peer.gossip.publishStateInfoInterval': 4000,
  'peer.gossip.publishCertPeriod': 10000,
  'peer.gossip.dialTimeout': 3000,
  'peer.gossip.connTimeout': 2000,
  'peer.gossip.digestWaitTime': 1000,
  'peer.gossip.requestWaitTime': 1500,
  'peer.gossip.responseWaitTime': 2000,
  'peer.gossip.aliveTimeInterval': 5000,
  'peer.gossip.aliveExpirationTimeout': 25000,
  'peer.gossip.reconnectInterval': 25000,
  'peer.gossip.election.startupGracePeriod': 15000,
  'peer.gossip.election.membershipSampleInterval': 1000,
  'peer.gossip.election.leaderAliveThreshold': 10000,
  'peer.gossip.election.leaderElectionDuration': 5000,
  'peer.gossip.state.checkInterval': 10000,
  'peer.gossip.state.responseTimeout': 3000,
  'peer.deliveryclient.reconnectTotalTimeThreshold': 3_600_000,
  'peer.deliveryclient.reConnectBackoffThreshold': 3_600_000,
  'peer.deliveryclient.connTimeout': 3000,
  'peer.deliveryclient.minimalReconnectInterval': 100,
};

const FABRIC_COUNTS: Record<string, number> = {
  'peer.gossip.maxBlockCountToStore': 10,
  'peer.gossip.maxPropagationBurstSize': 10,
  'peer.gossip.propagateIterations': 1,
  'peer.gossip.propagatePeerNum': 3,
  'peer.gossip.pullPeerNum': 3,
  'peer.gossip.recvBuffSize': 20,
  'peer.gossip.sendBuffSize': 200,
  'peer.gossip.maxConnectionAttempts': 120,
  'peer.gossip.msgExpirationFactor': 20,
  'peer.gossip.state.batchSize': 10,
  'peer.gossip.state.blockBufferSize': 20,
  'peer.gossip.state.maxRetries': 3,
  'peer.gossip.state.channelSize': 100,
  'peer.maxRecvMsgSize': 104_857_600,
};

test('defaults: every Fabric timing (in ms) and count', () => {
  const { config, warnings, file } = load();
  assert.equal(warnings, []);
  assert.is(file, null);
  for (const [path, ms] of Object.entries({ ...FABRIC_TIMINGS, ...FABRIC_COUNTS })) assert.is(get(config, path), ms, path);
});

test("defaults: murmur's differences and its own keys", () => {
  const { config } = load();
  const g = config.peer.gossip;
  assert.is(g.useLeaderElection, true);
  assert.is(g.orgLeader, false);
  assert.is(g.state.enabled, true);
  assert.is(config.peer.deliveryclient.blockGossipEnabled, true);
  assert.equal(g.bootstrap, []);
  assert.is(g.externalEndpoint, '');
  assert.is(g.nonBlockingCommitMode, false);
  assert.equal(g.murmur, { profile: 'murmur', election: { maxLeaderLag: 10 }, dissemination: 'tree', pull: 'when-behind', membership: 'swim', tree: { fanout: 3, maxLinks: 12, graftTimeout: 50, skipAfter: 3, skipFor: 30_000 }, signer: 'node', verifyCacheSize: 4096, state: { inFlight: 4, batchSize: 50, minResponseTimeout: 200, retryBackoff: 1000 }, limits: { stateRequestsPerSecond: 200, graftsPerSecond: 100 } });
  assert.is(config.peer.id, 'peer0.org1');
  assert.is(config.peer.localMspId, 'Org1MSP');
  assert.is(config.peer.fileSystemPath, './.murmur/peer');
  assert.is(config.peer.mspConfigPath, 'msp');
  assert.equal(config.peer.channels, []);
  assert.equal(config.peer.nats, { servers: ['nats://127.0.0.1:4222'], user: '', pass: '', token: '', credsFile: '', prefix: 'murmur' });
  assert.is(config.operations.listenAddress, '127.0.0.1:9443');
});

test('endpoint: empty means peer.id; an explicit one is kept', () => {
  assert.is(load().config.peer.gossip.endpoint, 'peer0.org1');
  assert.is(load({ env: { CORE_PEER_ID: 'p7.orgX' } }).config.peer.gossip.endpoint, 'p7.orgX');
  assert.is(load({ env: { CORE_PEER_ID: 'p7.orgX', CORE_PEER_GOSSIP_ENDPOINT: 'inbox7' } }).config.peer.gossip.endpoint, 'inbox7');
});

test('the loaded config is frozen', () => {
  const { config } = load();
  assert.ok(Object.isFrozen(config) && Object.isFrozen(config.peer.gossip.election) && Object.isFrozen(config.peer.nats.servers));
  assert.throws(() => {
    (config.peer.gossip as { pullInterval: number }).pullInterval = 1;
  });
});

// --- yaml --------------------------------------------------------------------------------------------------

test('YAML values: durations, counts, booleans, lists, channels, murmur keys', () => {
  const f = yamlFile(`
peer:
  id: peer1.org2
  localMspId: Org2MSP
  channels:
    - name: ch1
      genesisBlock: blocks/ch1.block
    - name: ch_2
      genesisBlock: /abs/ch2.block
  nats:
    servers: [nats://a:4222, nats://b:4222]
    prefix: test-run
  gossip:
    bootstrap: [peer0.org2, peer2.org2]
    aliveTimeInterval: 1m30s
    requestWaitTime: 1.5s
    maxPropagationBurstLatency: 250
    propagateIterations: 0
    orgLeader: "0"
    state:
      enabled: f
      batchSize: 7
    election:
      leaderAliveThreshold: 2s
    murmur:
      profile: murmur
      dissemination: push
      election:
        maxLeaderLag: 0
operations:
  listenAddress: ''
`);
  const { config, warnings, file } = load({ file: f });
  assert.equal(warnings, []);
  assert.is(file, f);
  const g = config.peer.gossip;
  assert.is(config.peer.id, 'peer1.org2');
  assert.is(config.peer.localMspId, 'Org2MSP');
  assert.equal(config.peer.channels, [
    { name: 'ch1', genesisBlock: 'blocks/ch1.block' },
    { name: 'ch_2', genesisBlock: '/abs/ch2.block' },
  ]);
  assert.equal(config.peer.nats.servers, ['nats://a:4222', 'nats://b:4222']);
  assert.is(config.peer.nats.prefix, 'test-run');
  assert.equal(g.bootstrap, ['peer0.org2', 'peer2.org2']);
  assert.is(g.aliveTimeInterval, 90_000);
  assert.is(g.requestWaitTime, 1500);
  assert.is(g.maxPropagationBurstLatency, 250, 'a yaml number is milliseconds');
  assert.is(g.propagateIterations, 0, 'an explicit 0 is honoured (no Fabric zero-means-default)');
  assert.is(g.orgLeader, false);
  assert.is(g.state.enabled, false);
  assert.is(g.state.batchSize, 7);
  assert.is(g.election.leaderAliveThreshold, 2000);
  assert.is(g.murmur.dissemination, 'push');
  assert.is(g.murmur.election.maxLeaderLag, 0);
  assert.is(g.endpoint, 'peer1.org2');
  assert.is(config.operations.listenAddress, '');
  assert.is(g.pullInterval, 4000, 'untouched keys keep their defaults');
});

test('YAML: an empty value means "not set"; a space-separated bootstrap string is a list; keys match case-insensitively', () => {
  const f = yamlFile(`
peer:
  Gossip:
    endpoint:
    externalEndpoint:
    bootstrap: peer0.org1 peer1.org1
    UseLeaderElection: false
    ORGLEADER: 1
`);
  const { config, warnings } = load({ file: f });
  assert.equal(warnings, []);
  assert.is(config.peer.gossip.endpoint, 'peer0.org1');
  assert.is(config.peer.gossip.externalEndpoint, '');
  assert.equal(config.peer.gossip.bootstrap, ['peer0.org1', 'peer1.org1']);
  assert.is(config.peer.gossip.useLeaderElection, false);
  assert.is(config.peer.gossip.orgLeader, true);
});

test('an empty core.yaml is all defaults', () => {
  assert.equal(load({ file: yamlFile('') }).config, load().config);
});

// --- environment -------------------------------------------------------------------------------------------

test('env: a duration', () => {
  const { config } = load({ env: { CORE_PEER_GOSSIP_ELECTION_LEADERALIVETHRESHOLD: '2s', CORE_PEER_GOSSIP_PULLINTERVAL: '1m30s' } });
  assert.is(config.peer.gossip.election.leaderAliveThreshold, 2000);
  assert.is(config.peer.gossip.pullInterval, 90_000);
});

test('env: booleans 0, f and TRUE', () => {
  const { config } = load({
    env: { CORE_PEER_GOSSIP_STATE_ENABLED: '0', CORE_PEER_GOSSIP_USELEADERELECTION: 'f', CORE_PEER_GOSSIP_ORGLEADER: 'TRUE' },
  });
  assert.is(config.peer.gossip.state.enabled, false, '"0" is false (convict alone would say true)');
  assert.is(config.peer.gossip.useLeaderElection, false);
  assert.is(config.peer.gossip.orgLeader, true);
});

test('env: lists, space or comma separated', () => {
  assert.equal(load({ env: { CORE_PEER_GOSSIP_BOOTSTRAP: 'peer0.org1 peer1.org1' } }).config.peer.gossip.bootstrap, ['peer0.org1', 'peer1.org1']);
  assert.equal(load({ env: { CORE_PEER_GOSSIP_BOOTSTRAP: 'peer0.org1,peer1.org1, peer2.org1' } }).config.peer.gossip.bootstrap, [
    'peer0.org1',
    'peer1.org1',
    'peer2.org1',
  ]);
  assert.equal(load({ env: { CORE_PEER_NATS_SERVERS: 'nats://a:1,nats://b:2' } }).config.peer.nats.servers, ['nats://a:1', 'nats://b:2']);
  assert.equal(load({ env: { CORE_PEER_GOSSIP_BOOTSTRAP: '' } }).config.peer.gossip.bootstrap, [], 'an empty variable counts as set');
});

test('env: channels as name=path pairs', () => {
  const { config } = load({ env: { CORE_PEER_CHANNELS: 'channel1=/path/a.block,channel2=/path/b.block' } });
  assert.equal(config.peer.channels, [
    { name: 'channel1', genesisBlock: '/path/a.block' },
    { name: 'channel2', genesisBlock: '/path/b.block' },
  ]);
});

test('env beats yaml; yaml beats defaults', () => {
  const f = yamlFile('peer:\n  gossip:\n    aliveTimeInterval: 7s\n    pullPeerNum: 5\n    bootstrap: [a, b]\n');
  const { config } = load({ file: f, env: { CORE_PEER_GOSSIP_ALIVETIMEINTERVAL: '3s', CORE_PEER_GOSSIP_BOOTSTRAP: 'c' } });
  assert.is(config.peer.gossip.aliveTimeInterval, 3000);
  assert.equal(config.peer.gossip.bootstrap, ['c']);
  assert.is(config.peer.gossip.pullPeerNum, 5);
});

test('overrides sit between yaml and env; an unknown override key is refused', () => {
  const f = yamlFile('peer:\n  gossip:\n    pullPeerNum: 5\n    propagatePeerNum: 6\n');
  const { config } = load({
    file: f,
    overrides: { 'peer.gossip.pullPeerNum': 9, 'peer.gossip.propagatePeerNum': 8 },
    env: { CORE_PEER_GOSSIP_PROPAGATEPEERNUM: '2' },
  });
  assert.is(config.peer.gossip.pullPeerNum, 9);
  assert.is(config.peer.gossip.propagatePeerNum, 2);
  refuses(() => load({ overrides: { 'peer.gossip.nope': 1 } }), 'peer.gossip.nope');
});

test('counts beyond their kind\'s maximum are refused with the key and its source', () => {
  const f = yamlFile('peer:\n  gossip:\n    state:\n      blockBufferSize: 5000000\n');
  refuses(() => load({ file: f }), 'peer.gossip.state.blockBufferSize', 'at most 1000000', f);
  refuses(() => load({ env: { CORE_PEER_GOSSIP_PROPAGATEPEERNUM: '20000' } }), 'peer.gossip.propagatePeerNum', 'at most 10000', 'CORE_PEER_GOSSIP_PROPAGATEPEERNUM');
  assert.is(load({ env: { CORE_PEER_GOSSIP_PROPAGATEPEERNUM: '10000' } }).config.peer.gossip.propagatePeerNum, 10_000);
});

// --- presets -----------------------------------------------------------------------------------------------

test('preset local: applied over the defaults', () => {
  const { config } = load({ preset: 'local' });
  const g = config.peer.gossip;
  assert.equal(
    [g.aliveTimeInterval, g.aliveExpirationTimeout, g.reconnectInterval, g.membershipTrackerInterval, g.publishCertPeriod],
    [1000, 5000, 5000, 1000, 3000],
  );
  assert.equal(
    [g.election.startupGracePeriod, g.election.membershipSampleInterval, g.election.leaderAliveThreshold, g.election.leaderElectionDuration],
    [3000, 200, 2000, 1000],
  );
  assert.equal([g.pullInterval, g.digestWaitTime, g.requestWaitTime, g.responseWaitTime], [1000, 200, 300, 400]);
  assert.equal([g.requestStateInfoInterval, g.publishStateInfoInterval, g.state.checkInterval, g.state.responseTimeout], [1000, 1000, 1000, 1000]);
  assert.is(g.sendBuffSize, 200, 'keys outside the preset keep their defaults');
  assert.is(Object.keys(PRESETS.local).length, 17);
});

test('preset local: yaml and env override it', () => {
  const f = yamlFile('peer:\n  gossip:\n    aliveTimeInterval: 2s\n    election:\n      leaderAliveThreshold: 4s\n');
  const { config } = load({ preset: 'local', file: f, env: { CORE_PEER_GOSSIP_ELECTION_LEADERALIVETHRESHOLD: '3s' } });
  assert.is(config.peer.gossip.aliveTimeInterval, 2000);
  assert.is(config.peer.gossip.election.leaderAliveThreshold, 3000);
  assert.is(config.peer.gossip.pullInterval, 1000, 'the preset still applies elsewhere');
});

test('preset fabric is the schema defaults', () => {
  assert.equal(PRESETS.fabric, {});
  assert.equal(load({ preset: 'fabric' }).config, load().config);
});

// --- refusals ----------------------------------------------------------------------------------------------

test('refused: useLeaderElection and orgLeader both true, from yaml or env', () => {
  const f = yamlFile('peer:\n  gossip:\n    useLeaderElection: true\n    orgLeader: true\n');
  refuses(() => load({ file: f }), 'peer.gossip.useLeaderElection', 'peer.gossip.orgLeader', f);
  refuses(() => load({ env: { CORE_PEER_GOSSIP_ORGLEADER: 't' } }), 'peer.gossip.useLeaderElection', 'peer.gossip.orgLeader', 'CORE_PEER_GOSSIP_ORGLEADER');
  // Fabric's static-leader sample plus election switched on by env.
  refuses(
    () => load({ file: FABRIC_FIXTURE, env: { CORE_PEER_GOSSIP_USELEADERELECTION: 'true' } }),
    'peer.gossip.useLeaderElection',
    'peer.gossip.orgLeader',
  );
});

test('refused: a peer.gossip key neither murmur nor Fabric knows, naming key and file', () => {
  const f = yamlFile('peer:\n  gossip:\n    pullIntervall: 4s\n');
  refuses(() => load({ file: f }), 'peer.gossip.pullIntervall', f);
  const g = yamlFile('peer:\n  gossip:\n    election:\n      leaderAliveTreshold: 4s\n    murmur:\n      profil: fabric\n');
  const e = refuses(() => load({ file: g }), 'peer.gossip.election.leaderAliveTreshold', 'peer.gossip.murmur.profil', g);
  assert.is(e.problems.length, 2, 'all problems are reported at once');
  refuses(() => load({ file: yamlFile('peer:\n  nats:\n    server: nats://x:1\n') }), 'peer.nats.server');
});

test('refused: pullInterval not greater than digestWaitTime + responseWaitTime', () => {
  const f = yamlFile('peer:\n  gossip:\n    pullInterval: 3s\n');
  refuses(() => load({ file: f }), 'peer.gossip.pullInterval', 'peer.gossip.digestWaitTime', 'peer.gossip.responseWaitTime');
  refuses(() => load({ preset: 'local', env: { CORE_PEER_GOSSIP_RESPONSEWAITTIME: '900ms' } }), 'peer.gossip.pullInterval');
  assert.is(load({ env: { CORE_PEER_GOSSIP_PULLINTERVAL: '3001ms' } }).config.peer.gossip.pullInterval, 3001);
});

test('refused: invalid values name the key, the value and where it came from', () => {
  const f = yamlFile('peer:\n  gossip:\n    aliveTimeInterval: 5 seconds\n    state:\n      maxRetries: -1\n');
  const e = refuses(
    () => load({ file: f, env: { CORE_PEER_GOSSIP_ORGLEADER: 'maybe', CORE_PEER_GOSSIP_MURMUR_PROFILE: 'stock' } }),
    'peer.gossip.aliveTimeInterval',
    '"5 seconds"',
    'peer.gossip.state.maxRetries',
    '-1',
    f,
    'peer.gossip.orgLeader',
    '"maybe"',
    'CORE_PEER_GOSSIP_ORGLEADER',
    'peer.gossip.murmur.profile',
    '"stock"',
    'CORE_PEER_GOSSIP_MURMUR_PROFILE',
  );
  assert.is(e.problems.length, 4);
  refuses(() => load({ env: { CORE_PEER_GOSSIP_PULLPEERNUM: '-3' } }), 'peer.gossip.pullPeerNum', '"-3"', 'negative');
  refuses(() => load({ env: { CORE_PEER_GOSSIP_ALIVETIMEINTERVAL: '0s' } }), 'peer.gossip.aliveTimeInterval', 'greater than zero');
  refuses(() => load({ env: { CORE_PEER_GOSSIP_ALIVETIMEINTERVAL: '600h' } }), 'peer.gossip.aliveTimeInterval', 'CORE_PEER_GOSSIP_ALIVETIMEINTERVAL', 'longest timer');
  refuses(() => load({ env: { CORE_PEER_GOSSIP_PULLINTERVAL: '1ns' } }), 'peer.gossip.pullInterval', 'shorter than 1 ms');
  refuses(() => load({ env: { CORE_PEER_MAXRECVMSGSIZE: '3000000000' } }), 'peer.maxRecvMsgSize', 'CORE_PEER_MAXRECVMSGSIZE', 'at most 2147483647');
  refuses(() => load({ env: { CORE_PEER_GOSSIP_MURMUR_LIMITS_STATEREQUESTSPERSECOND: '0' } }), 'peer.gossip.murmur.limits.stateRequestsPerSecond', 'at least 1');
  assert.is(load({ env: { CORE_PEER_GOSSIP_MURMUR_LIMITS_GRAFTSPERSECOND: '7' } }).config.peer.gossip.murmur.limits.graftsPerSecond, 7);
  // State transfer's window: bounded counts and durations, and a bound on the blocks it may have in flight.
  refuses(() => load({ env: { CORE_PEER_GOSSIP_MURMUR_STATE_INFLIGHT: '0' } }), 'peer.gossip.murmur.state.inFlight', 'CORE_PEER_GOSSIP_MURMUR_STATE_INFLIGHT', 'at least 1');
  refuses(() => load({ env: { CORE_PEER_GOSSIP_MURMUR_STATE_INFLIGHT: '65' } }), 'peer.gossip.murmur.state.inFlight', 'at most 64');
  refuses(() => load({ env: { CORE_PEER_GOSSIP_MURMUR_STATE_BATCHSIZE: '0' } }), 'peer.gossip.murmur.state.batchSize', 'at least 1');
  refuses(() => load({ env: { CORE_PEER_GOSSIP_MURMUR_STATE_MINRESPONSETIMEOUT: '0s' } }), 'peer.gossip.murmur.state.minResponseTimeout', 'greater than zero');
  refuses(() => load({ file: yamlFile('peer:\n  gossip:\n    murmur:\n      state:\n        retryBackoff: soon\n') }), 'peer.gossip.murmur.state.retryBackoff', '"soon"', 'not a duration');
  refuses(() => load({ env: { CORE_PEER_GOSSIP_MURMUR_STATE_INFLIGHT: '64', CORE_PEER_GOSSIP_MURMUR_STATE_BATCHSIZE: '20000' } }), 'peer.gossip.murmur.state.inFlight', 'environment CORE_PEER_GOSSIP_MURMUR_STATE_BATCHSIZE', 'at most 1000000 blocks');
  assert.equal(load({ env: { CORE_PEER_GOSSIP_MURMUR_STATE_INFLIGHT: '8', CORE_PEER_GOSSIP_MURMUR_STATE_RETRYBACKOFF: '500ms' } }).config.peer.gossip.murmur.state, { inFlight: 8, batchSize: 50, minResponseTimeout: 200, retryBackoff: 500 });
  refuses(() => load({ env: { CORE_PEER_GOSSIP_BOOTSTRAP: 'ok bad*one' } }), 'peer.gossip.bootstrap', 'bad*one');
  refuses(() => load({ env: { CORE_PEER_CHANNELS: 'bad name=/x' } }), 'peer.channels');
  refuses(() => load({ overrides: { 'peer.gossip.murmur.signer': 'openssl' } }), 'peer.gossip.murmur.signer', 'node, noble', 'overrides');
  refuses(() => load({ file: yamlFile('peer:\n  gossip: 5\n') }), 'peer.gossip', 'mapping');
});

test('refused values of secrets are not echoed', () => {
  const e = refuses(() => load({ file: yamlFile('peer:\n  nats:\n    pass: 123456\n') }), 'peer.nats.pass', '(hidden)');
  assert.not.ok(e.message.includes('123456'));
});

test('refused: profile fabric with an explicit tree dissemination; fabric alone means push', () => {
  assert.is(load({ env: { CORE_PEER_GOSSIP_MURMUR_PROFILE: 'fabric' } }).config.peer.gossip.murmur.dissemination, 'push');
  refuses(
    () => load({ env: { CORE_PEER_GOSSIP_MURMUR_PROFILE: 'fabric', CORE_PEER_GOSSIP_MURMUR_DISSEMINATION: 'tree' } }),
    'peer.gossip.murmur.dissemination',
    'peer.gossip.murmur.profile',
  );
});

test('refused: a missing file names its path; broken YAML names the file', () => {
  const missing = join(dir, 'nope', 'core.yaml');
  refuses(() => load({ file: missing }), missing);
  const broken = yamlFile('peer:\n  gossip:\n    a: [1, 2\n');
  refuses(() => load({ file: broken }), broken, 'YAML');
  refuses(() => load({ file: yamlFile('- just\n- a list\n') }), 'mapping');
});

// --- warnings ----------------------------------------------------------------------------------------------

test('warning: a CORE_PEER_GOSSIP_ variable that maps to no key', () => {
  const { warnings } = load({ env: { CORE_PEER_GOSSIP_ALIVETIMEINTERVALL: '1s', CORE_PEER_GOSSIP_PULLINTERVAL: '5s', CORE_PEER_TLS_ENABLED: 'true', HOME: '/x' } });
  assert.is(warnings.length, 1);
  assert.ok(warnings[0]!.includes('CORE_PEER_GOSSIP_ALIVETIMEINTERVALL'));
  assert.not.ok(warnings[0]!.includes('CORE_PEER_GOSSIP_PULLINTERVAL'));
  assert.not.ok(warnings[0]!.includes('CORE_PEER_TLS_ENABLED'), 'other Fabric variables are none of our business');
});

test("warning: Fabric's own gossip variables murmur ignores are listed as unused, not unknown", () => {
  const { warnings } = load({ env: { CORE_PEER_GOSSIP_PVTDATA_PULLRETRYTHRESHOLD: '60s', CORE_PEER_GOSSIP_SKIPBLOCKVERIFICATION: 'false' } });
  assert.is(warnings.length, 1);
  assert.ok(warnings[0]!.includes('CORE_PEER_GOSSIP_PVTDATA_PULLRETRYTHRESHOLD') && warnings[0]!.includes('does not use'));
});

test("Fabric's sample core.yaml loads with exactly one warning listing what murmur ignores", () => {
  const { config, warnings, file } = load({ file: FABRIC_FIXTURE });
  assert.is(file, FABRIC_FIXTURE);
  assert.is(warnings.length, 1, warnings.join('\n'));
  const listed = warnings[0]!.slice(warnings[0]!.indexOf(`${FABRIC_FIXTURE}: `) + FABRIC_FIXTURE.length + 2).split(', ');
  for (const part of ['peer.gossip.pvtData', 'peer.gossip.stateInfoRetentionInterval', 'peer.gossip.skipBlockVerification', 'peer.tls', 'peer.authentication', 'peer.BCCSP', 'vm', 'chaincode', 'ledger', 'metrics', 'operations.tls', 'peer.deliveryclient.policy'])
    assert.ok(listed.includes(part), `warning lists ${part}`);
  // Nothing murmur uses is listed, not even through an ancestor (listing `operations` would hide listenAddress).
  for (const used of schemaLeaves.keys())
    assert.not.ok(listed.some((k) => used === k || used.startsWith(`${k}.`)), `warning does not cover used key ${used}`);
  const g = config.peer.gossip;
  assert.is(g.useLeaderElection, false);
  assert.is(g.orgLeader, true);
  assert.equal(g.bootstrap, ['127.0.0.1:7051']);
  assert.is(g.endpoint, 'jdoe', 'empty endpoint falls back to peer.id');
  assert.is(g.externalEndpoint, '');
  assert.is(g.requestWaitTime, 1500);
  assert.is(g.state.enabled, false);
  assert.is(config.peer.deliveryclient.blockGossipEnabled, false);
  assert.is(config.peer.localMspId, 'SampleOrg');
  assert.is(config.peer.fileSystemPath, '/var/hyperledger/production');
  for (const [path, ms] of Object.entries(FABRIC_TIMINGS)) assert.is(get(config, path), ms, `${path} matches Fabric's sample`);
});

// --- the sample and the schema -----------------------------------------------------------------------------

test('the sample config/core.yaml loads with no warning and equals the defaults', () => {
  const { config, warnings } = load({ file: SAMPLE });
  assert.equal(warnings, []);
  assert.equal(config, load().config);
});

test('the sample config/core.yaml names every key, each after a comment with unit and default', () => {
  const text = readFileSync(SAMPLE, 'utf8');
  const doc = parseYaml(text) as unknown;
  for (const path of schemaLeaves.keys()) assert.ok(get(doc, path) !== undefined, `${path} is in the sample`);
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    const m = /^\s*([A-Za-z]+):\s*\S/.exec(line);
    if (!m) return;
    assert.match(lines[i - 1] ?? '', /^\s*#.*; default /, `line ${i + 1} (${m[1]}) follows its comment`);
  });
});

test('schema: each key documents unit and default and uses Fabric\'s env rule', () => {
  const envs = new Set<string>();
  for (const [path, leaf] of schemaLeaves) {
    assert.is(leaf.env, envNameFor(path));
    assert.is(leaf.env, `CORE_${path.toUpperCase().replaceAll('.', '_')}`);
    assert.not.ok(envs.has(leaf.env), `${leaf.env} is unique`);
    envs.add(leaf.env);
    assert.match(leaf.doc, /; default /, path);
    assert.not.match(leaf.doc, /\n/, path);
  }
  assert.is(schemaLeaves.get('peer.gossip.election.leaderAliveThreshold')!.env, 'CORE_PEER_GOSSIP_ELECTION_LEADERALIVETHRESHOLD');
  // Fabric's ignored gossip keys stay out of the schema.
  for (const k of FABRIC_GOSSIP_KEYS) assert.not.ok(schemaLeaves.has(k), k);
  assert.not.ok([...schemaLeaves.keys()].some((k) => k.startsWith('peer.gossip.pvtData')));
  assert.ok(isFabricGossipKey('peer.gossip.pvtData.implicitCollectionDisseminationPolicy.maxPeerCount'));
  assert.ok(isFabricGossipEnv('CORE_PEER_GOSSIP_PVTDATA_BTLPULLMARGIN'));
  assert.not.ok(isFabricGossipKey('peer.gossip.pullInterval'));
});

// The schema and the hand-written PeerConfig type must describe the same keys: checked at compile time
// (tsc fails on `sameKeys` if they drift) and at run time on a loaded config.
type Join<P extends string, K extends string> = P extends '' ? K : `${P}.${K}`;
type SchemaPaths<T, P extends string = ''> = {
  [K in keyof T & string]: T[K] extends { default: unknown; format: unknown } ? Join<P, K> : SchemaPaths<T[K], Join<P, K>>;
}[keyof T & string];
type ConfigPaths<T, P extends string = ''> = {
  [K in keyof T & string]: T[K] extends string | number | boolean | readonly unknown[] ? Join<P, K> : ConfigPaths<T[K], Join<P, K>>;
}[keyof T & string];
type Equal<A, B> = (<G>() => G extends A ? 1 : 2) extends <G>() => G extends B ? 1 : 2 ? true : false;
const sameKeys: Equal<SchemaPaths<typeof peerSchema>, ConfigPaths<PeerConfig>> = true;

test('schema keys equal the PeerConfig keys', () => {
  assert.ok(sameKeys);
  const leaves: string[] = [];
  const walk = (o: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(o)) {
      const path = prefix ? `${prefix}.${k}` : k;
      if (v && typeof v === 'object' && !Array.isArray(v)) walk(v as Record<string, unknown>, path);
      else leaves.push(path);
    }
  };
  walk(load().config as unknown as Record<string, unknown>, '');
  assert.equal(leaves.sort(), [...schemaLeaves.keys()].sort());
});

test('defaultConfigPath: $FABRIC_CFG_PATH/core.yaml or null', () => {
  assert.is(defaultConfigPath({ FABRIC_CFG_PATH: '/etc/hyperledger/fabric' }), '/etc/hyperledger/fabric/core.yaml');
  assert.is(defaultConfigPath({}), null);
  assert.is(defaultConfigPath({ FABRIC_CFG_PATH: '' }), null);
});

test.run();
