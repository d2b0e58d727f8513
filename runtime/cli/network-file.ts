// network.json under `murmur up`'s data folder: how `murmur status` (and users) find a running network.
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';

export interface NetworkFile {
  natsUrl: string;
  /** Extension: pid of the embedded nats-server (null with --nats). */
  natsPid: number | null;
  /** Extension: pids of a local cluster's servers (`up --nats-cluster`). */
  natsPids?: number[];
  /** Extension: the users.json whose `client` / `monitor` entries the CLI logs in with; null or absent: no auth. */
  natsUsers?: string | null;
  /** Extension: NATS subject prefix. */
  prefix: string;
  orderer: { pid: number; opsUrl: string | null } | null;
  /** `channels` (extension): the channels the peer joined (`up --join`; absent in files of older murmurs). */
  peers: { id: string; org: string; pid: number | null; opsUrl: string | null; channels?: string[] }[];
}

export const networkFilePath = (dataDir: string): string => join(dataDir, 'network.json');

export function readNetworkFile(dataDir: string): NetworkFile {
  const p = networkFilePath(dataDir);
  let text: string;
  try {
    text = readFileSync(p, 'utf8');
  } catch {
    throw new Error(`no network found: ${p} does not exist (start one with "murmur up", or pass --nats URL)`);
  }
  const v = JSON.parse(text) as NetworkFile;
  if (typeof v?.natsUrl !== 'string') throw new Error(`${p} has no natsUrl`);
  return v;
}

/** Written atomically so a reader never sees half a file. */
export function writeNetworkFile(dataDir: string, n: NetworkFile): void {
  const p = networkFilePath(dataDir);
  writeFileSync(`${p}.tmp`, JSON.stringify(n, null, 2) + '\n');
  renameSync(`${p}.tmp`, p);
}
