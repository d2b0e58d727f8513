// Writes a network's configuration to disk and starts its processes: one orderer.yaml and one core.yaml per
// peer over generated crypto material (runtime/crypto/material.ts), and the `murmur` children that read them.
// One place for what `murmur up`, the failover benchmark and the integration tests all need:
//   ordererYaml(net, o)        the orderer's config: the manifest's channels, the bus, operations, batching
//   peerCore(net, org, i, o)   a peer's core.yaml: identity, ledger dir, channels, the bus, operations; the org's
//                              first peer is its anchor (external endpoint) and bootstraps with the second,
//                              every other peer bootstraps with the first
//   writeYaml(file, obj)       with a header comment, owner-only when it holds a password
//   spawnMurmur(args, log)     a `murmur` child writing to a log file, stopping when this process dies
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, createWriteStream, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import type { Manifest } from '../crypto/material.ts';
import { murmurCommand } from './self.ts';

/** Where the network lives and how its processes reach the bus. */
export interface NetworkLayout {
  manifest: Manifest;
  /** The network's directory (peers under `peers/<id>`, the orderer under `orderer`). */
  dir: string;
  natsUrls: string[];
  prefix: string;
}

export interface Login {
  user: string;
  pass: string;
}

export interface OrdererYamlOptions {
  /** Operations listener host:port ('' disables it). */
  opsListen: string;
  login?: Login;
  /** JetStream replicas of the channels' streams (a NATS cluster). */
  replicas?: number;
  /** Top-level orderer.yaml keys (BatchTimeout, BatchSize, …). */
  extra?: Record<string, unknown>;
}

export function ordererYaml(net: NetworkLayout, o: OrdererYamlOptions): Record<string, unknown> {
  const m = net.manifest;
  return {
    ...o.extra,
    General: { LocalMSPDir: m.orderer.mspDir, LocalMSPID: m.orderer.mspId, Channels: channelsOf(m) },
    NATS: { Servers: net.natsUrls, Prefix: net.prefix, ...(o.replicas ? { StreamReplicas: o.replicas } : {}), ...(o.login ? { User: o.login.user, Pass: o.login.pass } : {}) },
    Operations: { ListenAddress: o.opsListen },
  };
}

export interface PeerCoreOptions {
  /** Operations listener host:port ('' disables it). */
  opsListen: string;
  login?: Login;
  /** Dotted core.yaml keys applied first (a timing preset, a profile); the peer's own keys win. */
  settings?: Record<string, unknown>;
  /** The channels this peer joins (default: every channel of the manifest). */
  channels?: string[];
}

/** Directory of a peer of the network. */
export const peerDir = (net: NetworkLayout, id: string): string => join(net.dir, 'peers', id);
export const ordererDir = (net: NetworkLayout): string => join(net.dir, 'orderer');

export function peerCore(net: NetworkLayout, org: Manifest['orgs'][number], index: number, o: PeerCoreOptions): Record<string, unknown> {
  const p = org.peers[index]!;
  const anchor = index === 0;
  const bootstrapWith = org.peers[anchor ? 1 : 0];
  return merge(nest(o.settings ?? {}), {
    peer: {
      id: p.id,
      localMspId: org.mspId,
      fileSystemPath: join(peerDir(net, p.id), 'ledger'),
      mspConfigPath: p.mspDir,
      channels: channelsOf(net.manifest).filter((c) => !o.channels || o.channels.includes(c.name)),
      nats: { servers: net.natsUrls, prefix: net.prefix, ...(o.login ? { user: o.login.user, pass: o.login.pass } : {}) },
      gossip: { bootstrap: bootstrapWith ? [bootstrapWith.id] : [], externalEndpoint: anchor ? p.id : '' },
    },
    operations: { listenAddress: o.opsListen },
  });
}

/** Writes `obj` as YAML under a `# header` line; owner-only (0600) when it holds a password. */
export function writeYaml(file: string, obj: Record<string, unknown>, opts: { header?: string; secret?: boolean } = {}): string {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${opts.header ? `# ${opts.header}\n` : ''}${toYaml(obj)}`, opts.secret ? { mode: 0o600 } : {});
  return file;
}

/**
 * The environment of up's children: glibc's malloc keeps up to 8 arenas per core, one per thread that allocates
 * (V8's compiler and GC helpers, libuv's pool), and an idle peer's freed memory stays in them: its RSS grew
 * ~15 MB over its first ten minutes. Two arenas (the usual setting for Node services) hold 4-5 MB less at
 * ten minutes (README, "As a package"). An operator's own MALLOC_ARENA_MAX wins; no effect off glibc.
 */
export function childEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return env.MALLOC_ARENA_MAX === undefined ? { ...env, MALLOC_ARENA_MAX: '2' } : env;
}

/**
 * A `murmur` child (this package's CLI) appending its output to `logFile`. The IPC channel makes it stop when
 * this process dies, even by SIGKILL; `detached` gives it its own process group (a terminal's Ctrl-C reaches
 * only the parent, which stops its children in order).
 */
export function spawnMurmur(args: string[], logFile: string, opts: { detached?: boolean; env?: NodeJS.ProcessEnv; /** Also readable by the caller (child.stdout). */ pipe?: boolean } = {}): ChildProcess {
  mkdirSync(dirname(logFile), { recursive: true });
  const cmd = murmurCommand(args);
  const common = { env: childEnv(opts.env ?? process.env), detached: opts.detached ?? false };
  if (opts.pipe) {
    const child = spawn(cmd.command, cmd.args, { ...common, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    const log = createWriteStream(logFile, { flags: 'a' });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    return child;
  }
  const fd = openSync(logFile, 'a');
  try {
    return spawn(cmd.command, cmd.args, { ...common, stdio: ['ignore', fd, fd, 'ipc'] });
  } finally {
    closeSync(fd);
  }
}

/** Dotted keys (`peer.gossip.pullInterval`) → nested object for YAML. */
export function nest(flat: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(flat)) {
    const parts = k.split('.');
    let o = out;
    for (const p of parts.slice(0, -1)) o = (o[p] ??= {}) as Record<string, unknown>;
    o[parts.at(-1)!] = v;
  }
  return out;
}

/** Deep merge of plain objects (arrays and values of `b` replace those of `a`). */
export function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] = isPlain(cur) && isPlain(v) ? merge(cur, v) : v;
  }
  return out;
}

const isPlain = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
const channelsOf = (m: Manifest) => m.channels.map((c) => ({ name: c.name, genesisBlock: c.genesisBlock }));
