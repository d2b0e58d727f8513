// NATS credentials on the command line's side (the server side is runtime/crypto/nats-auth.ts).
//
// CLI clients log in as one of two users of the generated authorization: `client` (tx, load: status and
// transactions) or `monitor` (status, dashboard: status only). Where the login comes from, first match:
//   1. --credentials FILE (or $MURMUR_NATS_CREDENTIALS): a users.json from `crypto generate` (the role's entry),
//      a copy of one entry ({"user", "pass"}), or a NATS .creds file (JWT + NKey seed);
//   2. without --nats: the users.json that --data's network.json names (`natsUsers`, written by `up`);
//   3. none: the server must accept anonymous clients.
//
// `murmur up` turns the generated authorization on for the server it starts (prepareUpAuth): the users of
// <data>/crypto/nats are (re)written when missing or from an older format, the server (or each server of a
// local cluster) reads them through <data>/nats/auth-server.conf, and every process it starts gets its own
// user: each peer in its core.yaml, the orderer in orderer.yaml (both then mode 0600), up's load and LAG
// column as `client`, its status table and dashboard as `monitor`. With --nats the server is not up's to
// configure: --auth makes up use the generated users on the assumption that the operator included auth.conf
// in that server's configuration; without it, no credentials.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { connect } from 'nats';
import { NATS_AUTH_FORMAT, writeNatsAuth, type Manifest, type NatsCredentials } from '../crypto/material.ts';
import type { NatsLogin } from '../transport/nats-login.ts';
import type { NetworkFile } from './network-file.ts';

export type ClientRole = 'client' | 'monitor';

type Entry = { user: string; pass: string };
const isEntry = (v: unknown): v is Entry => typeof (v as Entry)?.user === 'string' && typeof (v as Entry)?.pass === 'string';

/** The role's entry of a users.json (a monitor falls back to `client` in files from before the monitor user). */
function entryOf(c: NatsCredentials, role: ClientRole, file: string): Entry {
  const e = role === 'monitor' ? (c.monitor ?? c.client) : c.client;
  if (!isEntry(e)) throw new Error(`${file} has no "${role}" user`);
  return e;
}

/** The login in a credentials file: users.json (the role's entry), one {user, pass} entry, or a NATS .creds file. */
export function readCredentials(file: string, role: ClientRole): NatsLogin {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read NATS credentials ${file}: ${(e as Error).message}`);
  }
  if (text.includes('-----BEGIN NATS USER JWT-----')) return { credsFile: file };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new Error(`${file} is neither JSON ({"user", "pass"} or a users.json of murmur crypto generate) nor a NATS .creds file`);
  }
  if (isEntry(v)) return { user: v.user, pass: v.pass };
  if (v && typeof v === 'object' && 'client' in v) return entryOf(v as NatsCredentials, role, file);
  throw new Error(`${file} holds no NATS user: expected {"user", "pass"} or a users.json of murmur crypto generate`);
}

/** The login of a CLI client (see the top of this file); undefined: anonymous. */
export function clientLogin(o: { credentials?: string; network?: NetworkFile | null }, role: ClientRole): NatsLogin | undefined {
  if (o.credentials) return readCredentials(o.credentials, role);
  const users = o.network?.natsUsers;
  return users ? readCredentials(users, role) : undefined;
}

/** A clearer error for a refused login (a wrong or missing --credentials); other errors as they are. */
export function explainLoginError(e: unknown, natsUrl: string, login: NatsLogin | undefined): Error {
  if (!/AUTH/.test(String((e as { code?: unknown }).code))) return e as Error;
  return new Error(login ? `NATS at ${natsUrl} refused the credentials: ${(e as Error).message}` : `NATS at ${natsUrl} wants credentials (--credentials FILE)`);
}

export interface UpAuth {
  /** users.json and auth.conf in use. */
  users: string;
  authConf: string;
  /** nats-server arguments that turn the authorization on ([] for a server up does not start). */
  serverArgs: string[];
  peer(id: string): Entry;
  orderer: Entry;
  client: NatsLogin;
  monitor: NatsLogin;
}

function current(users: string, m: Manifest): NatsCredentials | null {
  if (!existsSync(users)) return null;
  let c: NatsCredentials;
  try {
    c = JSON.parse(readFileSync(users, 'utf8')) as NatsCredentials;
  } catch {
    return null;
  }
  const ok = (c.format ?? 1) >= NATS_AUTH_FORMAT && isEntry(c.orderer) && isEntry(c.client) && isEntry(c.monitor) && m.orgs.every((g) => g.peers.every((p) => isEntry(c.peers?.[p.id])));
  return ok ? c : null;
}

/**
 * The authorization `up` runs with, or null when off. On by default for the server(s) up starts; with --nats
 * only with --auth. Files older than the current format are rewritten for up's own server; for a server up
 * does not configure (--nats) rewriting them is an error telling the operator what to include and reload.
 */
export async function prepareUpAuth(o: {
  auth?: boolean;
  nats?: string;
  data: string;
  cryptoDir: string;
  manifest: Manifest;
  prefix: string;
  say: (line: string) => void;
}): Promise<UpAuth | null> {
  const external = !!o.nats;
  if (!(o.auth ?? !external)) {
    o.say(external ? 'nats auth: none (the server at --nats is not configured by up; --auth uses the generated users)' : 'nats auth: off (--no-auth): any client of the server may publish anywhere');
    return null;
  }
  const dir = join(o.cryptoDir, 'nats');
  const users = join(dir, 'users.json');
  const authConf = join(dir, 'auth.conf');
  let creds = current(users, o.manifest);
  if (!creds) {
    writeNatsAuth({ orgs: o.manifest.orgs, channels: o.manifest.channels }, dir, o.prefix);
    // Material generated before the authorization existed: record where it is.
    if (!o.manifest.nats) {
      o.manifest.nats = { authConf, users };
      writeFileSync(join(o.cryptoDir, 'crypto.json'), JSON.stringify(o.manifest, null, 2) + '\n');
    }
    if (external)
      throw new Error(
        `wrote new NATS users to ${authConf} (the previous ones were missing or from an older murmur): add "include ${authConf}" to the configuration of the server at ${o.nats}, reload it (nats-server --signal reload), then run up again`,
      );
    o.say(`nats auth: wrote a user per peer, the orderer, client and monitor to ${dir}`);
    creds = current(users, o.manifest)!;
  }
  let serverArgs: string[] = [];
  if (external) {
    // The server must know these users (first run: they were just generated), and should refuse strangers.
    const include = `add "include ${authConf}" to its configuration and reload it (nats-server --signal reload)`;
    if ((await probe(o.nats!, creds.monitor)) === 'refused') throw new Error(`the server at ${o.nats} does not know the users of ${users}: ${include}, then run up again`);
    if ((await probe(o.nats!)) === 'ok') o.say(`warning: the server at ${o.nats} accepts clients without credentials, so it does not enforce ${authConf}: ${include}`);
  } else {
    // nats-server resolves an include relative to the including file.
    mkdirSync(join(o.data, 'nats'), { recursive: true });
    const serverConf = join(o.data, 'nats', 'auth-server.conf');
    writeFileSync(serverConf, `# Written by murmur up: the generated authorization (--no-auth turns it off).\ninclude ${JSON.stringify(relative(join(o.data, 'nats'), authConf))}\n`);
    serverArgs = ['-c', serverConf];
  }
  o.say(`nats auth: on, a user per peer, the orderer, client and monitor (${users}; --no-auth turns it off)`);
  const c = creds;
  return {
    users,
    authConf,
    serverArgs,
    peer: (id) => c.peers[id]!,
    orderer: c.orderer,
    client: { ...c.client },
    monitor: { ...c.monitor! },
  };
}

/** Whether the server lets `login` (or an anonymous client) in; 'unreachable' when it cannot be reached. */
async function probe(servers: string, login?: Entry): Promise<'ok' | 'refused' | 'unreachable'> {
  try {
    const nc = await connect({ servers: servers.split(','), timeout: 2000, maxReconnectAttempts: 0, name: 'murmur up auth probe', ...(login ?? {}) });
    await nc.close();
    return 'ok';
  } catch (e) {
    return /AUTH/.test(String((e as { code?: unknown }).code)) ? 'refused' : 'unreachable';
  }
}
