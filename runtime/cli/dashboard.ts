// `murmur dashboard`: serves the live network dashboard on loopback and prints its URL. The NATS URL comes from
// --nats, or from --data's network.json (whose peer list also shows peers that do not answer). SIGINT/SIGTERM/SIGHUP (or the launcher going away)
// close it and exit 0.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { startDashboard, type Dashboard } from '../dashboard/server.ts';
import type { ExpectedPeer } from '../dashboard/model.ts';
import { networkFilePath, readNetworkFile } from './network-file.ts';
import { clientLogin } from './nats-credentials.ts';
import { watchParent } from '../die-with-parent.ts';

export interface DashboardCliOptions {
  nats?: string;
  data: string;
  /** Whether --data was given on the command line. */
  dataExplicit: boolean;
  port?: number;
  /** --credentials (nats-credentials.ts); the dashboard logs in as `monitor`. */
  credentials?: string;
}

/** The peers network.json lists (read fresh each time: `up` rewrites it). */
export function expectedFrom(dataDir: string): () => ExpectedPeer[] {
  return () => readNetworkFile(dataDir).peers.map((p) => ({ id: p.id, org: p.org, pid: p.pid }));
}

export async function runDashboard(o: DashboardCliOptions): Promise<Dashboard> {
  const data = resolve(o.data);
  let natsUrl = o.nats;
  let prefix = 'murmur';
  let useFile = false;
  let login = o.credentials ? clientLogin({ credentials: o.credentials }, 'monitor') : undefined;
  if (!natsUrl) {
    // No --nats: the network under --data (an error naming the file when there is none).
    const n = readNetworkFile(data);
    natsUrl = n.natsUrl;
    prefix = n.prefix ?? 'murmur';
    useFile = true;
    login ??= clientLogin({ network: n }, 'monitor');
  } else if (o.dataExplicit) {
    // --nats and --data: the file's peer list and prefix only if it describes the same network.
    if (!existsSync(networkFilePath(data))) console.error(`murmur dashboard: ${networkFilePath(data)} does not exist; showing the peers that answer`);
    else {
      const n = readNetworkFile(data);
      if (n.natsUrl === natsUrl) {
        prefix = n.prefix ?? 'murmur';
        useFile = true;
        login ??= clientLogin({ network: n }, 'monitor');
      } else console.error(`murmur dashboard: ${networkFilePath(data)} is for ${n.natsUrl}, not ${natsUrl}; ignoring it`);
    }
  }
  const dash = await startDashboard({ natsUrl, prefix, port: o.port, expected: useFile ? expectedFrom(data) : undefined, login });
  console.log(`dashboard: ${dash.url}`);
  console.log(`reading status from NATS ${natsUrl} (prefix ${prefix}) every second; Ctrl-C stops`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void dash.close().then(() => process.exit(0));
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(sig, stop);
  watchParent(stop);
  return dash;
}
