// Public entry `murmur/peer`: run a murmur peer inside another program, as `murmur peer start` runs one.
import { loadPeerConfig } from '../../config/load.ts';
import { startPeerProcess, type RunningPeer } from '../peer.ts';
import type { Logs } from '../log.ts';

export { startPeerProcess, type RunningPeer } from '../peer.ts';
export { createPeer, type Peer, type PeerOptions } from '../../actors/peer.actor.ts';
export { gossipTimings } from '../peer-options.ts';
export type { StatusRow, Role } from '../../actors/status-row.ts';
export { createLogs, type Logs } from '../log.ts';

export interface StartPeerOptions {
  /** core.yaml to read (relative paths in it are relative to its folder); without it: defaults, `overrides`, env. */
  file?: string;
  /** Values by dotted path (e.g. `{ 'peer.id': 'peer0.org1' }`), above the file and below the environment. */
  overrides?: Record<string, unknown>;
  /** Environment for CORE_* overrides; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** One line per lifecycle event and config warning; default: none. */
  log?: (line: string) => void;
  /** Per-module JSON logs of the protocol (membership, elections, commits); default: none. */
  logs?: Logs;
}

/** Loads the config (a bad value throws a ConfigError naming the key and its source), connects to NATS,
 * opens the ledgers and starts the peer's actors; `stop()` stops them and drains NATS. */
export async function startPeer(o: StartPeerOptions = {}): Promise<RunningPeer> {
  const log = o.log ?? (() => {});
  const { config, warnings } = loadPeerConfig({ file: o.file, overrides: o.overrides, env: o.env ?? process.env });
  for (const w of warnings) log(`config: ${w}`);
  return startPeerProcess(config, o.file ?? null, log, { logs: o.logs });
}
