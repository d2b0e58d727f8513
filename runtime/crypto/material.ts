// Network crypto material: org CAs, peer and orderer identities, and each channel's genesis block.
// `generateMaterial` builds it in memory (tests and the simulator use it directly, with a seeded source of
// key bytes); `writeMaterial` lays it out on disk for `murmur crypto generate`:
//   <out>/crypto.json                                   manifest (orgs, peers, channels, paths)
//   <out>/ordererOrganizations/OrdererMSP/ca/{cert,key}
//   <out>/ordererOrganizations/OrdererMSP/orderer/msp/{cert,key}
//   <out>/peerOrganizations/<Org>MSP/ca/{cert,key}
//   <out>/peerOrganizations/<Org>MSP/peers/<peer id>/msp/{cert,key}
//   <out>/channels/<channel>.genesis.block
//   <out>/nats/auth.conf                                nats-server authorization: a user per peer, orderer, client, monitor
//   <out>/nats/users.json                               {format, peers: {id: {user, pass}}, orderer, client, monitor} (0600)
// `cert` is the binary certificate, `key` the hex ed25519 secret (mode 0600).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { issueCertificate, type Certificate } from './certificate.ts';
import { nobleEd25519, type Ed25519 } from './ed25519.ts';
import { localSigner, type LocalSigner } from './signer.ts';
import { encodeBlock } from '../ledger/block.ts';
import { makeGenesisBlock, type ChannelConfig } from '../ledger/channel-config.ts';
import { fromHex, toHex } from '../util/bytes.ts';
import { makeUser, renderAuthConfig } from './nats-auth.ts';

export const ORDERER_MSP = 'OrdererMSP';
const YEAR_MS = 365 * 24 * 3600 * 1000;

export interface KeyedCert {
  cert: Certificate;
  secret: Uint8Array;
}
export interface PeerMaterial extends KeyedCert {
  id: string;
  mspId: string;
  org: string;
}
export interface OrgMaterial {
  name: string;
  mspId: string;
  ca: KeyedCert;
  peers: PeerMaterial[];
}
export interface ChannelMaterial {
  name: string;
  config: ChannelConfig;
  genesis: Uint8Array;
}
export interface NetworkMaterial {
  orgs: OrgMaterial[];
  ordererCa: KeyedCert;
  orderer: KeyedCert;
  channels: ChannelMaterial[];
}

/** `--orgs 3` → Org1..Org3; `--orgs Acme,Beta` → those names. */
export function parseOrgs(spec: string | number): string[] {
  const s = String(spec).trim();
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n < 1 || n > 64) throw new Error(`--orgs must be 1..64, got ${n}`);
    return Array.from({ length: n }, (_, i) => `Org${i + 1}`);
  }
  const names = s.split(',').map((x) => x.trim()).filter(Boolean);
  if (!names.length || names.some((n) => !/^[A-Za-z][A-Za-z0-9_-]{0,31}$/.test(n))) throw new Error(`bad --orgs list: ${s}`);
  if (new Set(names).size !== names.length) throw new Error(`duplicate org in --orgs: ${s}`);
  return names;
}

export const mspIdOf = (org: string): string => `${org}MSP`;
export const peerIdOf = (org: string, i: number): string => `peer${i}.${org.toLowerCase()}`;
export const channelNames = (n: number): string[] => Array.from({ length: n }, (_, i) => `channel${i + 1}`);

export interface GenerateOptions {
  orgs: string[];
  peers: number;
  channels: string[];
  /** The orgs (names) each channel's config lists; a channel not named here lists every org. */
  channelOrgs?: Record<string, string[]>;
  now?: number;
  validityMs?: number;
  /** Source of secret key bytes (default: the OS CSPRNG). The simulator passes a seeded one. */
  random?: (n: number) => Uint8Array;
  ed?: Ed25519;
}

export function generateMaterial(o: GenerateOptions): NetworkMaterial {
  const ed = o.ed ?? nobleEd25519;
  const now = o.now ?? Date.now();
  const notBefore = now - 60_000;
  const notAfter = now + (o.validityMs ?? 10 * YEAR_MS);
  const rand = o.random ?? ((n: number) => new Uint8Array(randomBytes(n)));
  if (!(o.peers >= 1 && o.peers <= 1000)) throw new Error(`--peers must be 1..1000, got ${o.peers}`);
  const keyed = (role: Certificate['role'], mspId: string, subject: string, issuer?: KeyedCert): KeyedCert => {
    const secret = rand(32);
    const cert = issueCertificate(
      { role, mspId, subject, publicKey: ed.publicKey(secret), notBefore, notAfter },
      issuer ? issuer.secret : secret,
      ed,
    );
    return { cert, secret };
  };
  const ordererCa = keyed('ca', ORDERER_MSP, 'ca.orderer');
  const orderer = keyed('orderer', ORDERER_MSP, 'orderer0', ordererCa);
  const orgs: OrgMaterial[] = o.orgs.map((name) => {
    const mspId = mspIdOf(name);
    const ca = keyed('ca', mspId, `ca.${name.toLowerCase()}`);
    const peers = Array.from({ length: o.peers }, (_, i) => {
      const id = peerIdOf(name, i);
      return { id, mspId, org: name, ...keyed('peer', mspId, id, ca) };
    });
    return { name, mspId, ca, peers };
  });
  for (const [ch, names] of Object.entries(o.channelOrgs ?? {})) {
    if (!o.channels.includes(ch)) throw new Error(`channelOrgs names ${ch}, which is not one of the channels (${o.channels.join(', ')})`);
    const unknown = names.filter((n) => !o.orgs.includes(n));
    if (unknown.length || !names.length) throw new Error(`channel ${ch}: orgs ${unknown.join(', ') || '(none)'} are not among ${o.orgs.join(', ')}`);
  }
  const channels = o.channels.map((name) => {
    const members = orgs.filter((g) => o.channelOrgs?.[name]?.includes(g.name) ?? true);
    const config: ChannelConfig = {
      channel: name,
      orgs: members.map((g) => ({ mspId: g.mspId, caCert: g.ca.cert.bytes })),
      // The first peer of each org is its anchor peer, reachable by its external endpoint (its id).
      anchorPeers: members.map((g) => ({ mspId: g.mspId, endpoint: g.peers[0]!.id })),
      orderer: { mspId: ORDERER_MSP, caCert: ordererCa.cert.bytes, cert: orderer.cert.bytes },
    };
    const block = makeGenesisBlock(config, (m) => ed.sign(orderer.secret, m));
    return { name, config, genesis: encodeBlock(block) };
  });
  return { orgs, ordererCa, orderer, channels };
}

export interface Manifest {
  orgs: { name: string; mspId: string; ca: string; peers: { id: string; mspDir: string }[] }[];
  orderer: { mspId: string; mspDir: string; ca: string };
  channels: { name: string; genesisBlock: string }[];
  /** NATS authorization files (absent in material written before they existed). */
  nats?: { authConf: string; users: string };
}

function writeKeyed(dir: string, k: KeyedCert): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'cert'), k.cert.bytes);
  writeFileSync(join(dir, 'key'), toHex(k.secret) + '\n', { mode: 0o600 });
}

/** Version of the generated NATS authorization; 2: per-user reply inboxes, a monitor user; 3: no
 * allow_responses, responders publish only into status/transaction inboxes; 4: no JetStream API but the
 * orderer's, deliver requests and acknowledgements of the party's own consumer. */
export const NATS_AUTH_FORMAT = 4;

/** `nats/users.json`: every user's password (clients read theirs from here or from a copy of their entry). */
export interface NatsCredentials {
  /** NATS_AUTH_FORMAT when written; absent in files written before format 2. */
  format?: number;
  peers: Record<string, { user: string; pass: string }>;
  orderer: { user: string; pass: string };
  /** Operator clients: status, transactions (tx, load). */
  client: { user: string; pass: string };
  /** Read-only monitors: status (status, dashboard). Absent before format 2. */
  monitor?: { user: string; pass: string };
}

/** Who gets a user: the orgs' peers (their ids are their endpoints) and the channels they are scoped to. */
export interface NatsAuthScope {
  orgs: { mspId: string; peers: { id: string }[] }[];
  channels: { name: string }[];
}

/** Writes `auth.conf` and `users.json` (both mode 0600) with fresh passwords into `dir`. */
export function writeNatsAuth(m: NatsAuthScope, dir: string, prefix = 'murmur'): { authConf: string; users: string } {
  mkdirSync(dir, { recursive: true });
  const channels = m.channels.map((c) => c.name);
  const peers = m.orgs.flatMap((g) => g.peers.map((p) => makeUser(p.id, 'peer', prefix, { mspId: g.mspId, endpoints: [p.id], channels })));
  const orderer = makeUser('orderer', 'orderer', prefix, { channels });
  const client = makeUser('client', 'client', prefix, { channels });
  const monitor = makeUser('monitor', 'monitor', prefix, { channels });
  const authConf = join(dir, 'auth.conf');
  const users = join(dir, 'users.json');
  writeFileSync(authConf, renderAuthConfig([...peers, orderer, client, monitor]), { mode: 0o600 });
  const pick = (u: { user: string; pass: string }) => ({ user: u.user, pass: u.pass });
  const creds: NatsCredentials = {
    format: NATS_AUTH_FORMAT,
    peers: Object.fromEntries(peers.map((u) => [u.user, pick(u)])),
    orderer: pick(orderer),
    client: pick(client),
    monitor: pick(monitor),
  };
  writeFileSync(users, JSON.stringify(creds, null, 2) + '\n', { mode: 0o600 });
  return { authConf, users };
}

export function writeMaterial(m: NetworkMaterial, out: string, prefix = 'murmur'): Manifest {
  const ordDir = join(out, 'ordererOrganizations', ORDERER_MSP);
  writeKeyed(join(ordDir, 'ca'), m.ordererCa);
  writeKeyed(join(ordDir, 'orderer', 'msp'), m.orderer);
  const manifest: Manifest = {
    orgs: [],
    orderer: { mspId: ORDERER_MSP, mspDir: join(ordDir, 'orderer', 'msp'), ca: join(ordDir, 'ca', 'cert') },
    channels: [],
  };
  for (const g of m.orgs) {
    const orgDir = join(out, 'peerOrganizations', g.mspId);
    writeKeyed(join(orgDir, 'ca'), g.ca);
    const peers = g.peers.map((p) => {
      const mspDir = join(orgDir, 'peers', p.id, 'msp');
      writeKeyed(mspDir, p);
      return { id: p.id, mspDir };
    });
    manifest.orgs.push({ name: g.name, mspId: g.mspId, ca: join(orgDir, 'ca', 'cert'), peers });
  }
  mkdirSync(join(out, 'channels'), { recursive: true });
  for (const c of m.channels) {
    const p = join(out, 'channels', `${c.name}.genesis.block`);
    writeFileSync(p, c.genesis);
    manifest.channels.push({ name: c.name, genesisBlock: p });
  }
  manifest.nats = writeNatsAuth(m, join(out, 'nats'), prefix);
  writeFileSync(join(out, 'crypto.json'), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

/** Loads a signing identity from an msp directory (`cert` + hex `key`). Clear errors for operators. */
export function readSigner(mspDir: string, ed: Ed25519): LocalSigner {
  let cert: Uint8Array;
  let keyHex: string;
  try {
    cert = new Uint8Array(readFileSync(join(mspDir, 'cert')));
    keyHex = readFileSync(join(mspDir, 'key'), 'utf8').trim();
  } catch (e) {
    throw new Error(`cannot read the identity in ${mspDir} (expects files cert and key): ${(e as Error).message}`);
  }
  let secret: Uint8Array;
  try {
    secret = fromHex(keyHex);
  } catch {
    throw new Error(`${join(mspDir, 'key')} is not a hex ed25519 key`);
  }
  if (secret.byteLength !== 32) throw new Error(`${join(mspDir, 'key')} must hold 32 bytes`);
  try {
    return localSigner(cert, secret, ed);
  } catch (e) {
    throw new Error(`${mspDir}: ${(e as Error).message}`);
  }
}

/** Signer for an in-memory peer or orderer (tests, simulator). */
export function signerOf(k: KeyedCert, ed: Ed25519): LocalSigner {
  return localSigner(k.cert.bytes, k.secret, ed);
}
