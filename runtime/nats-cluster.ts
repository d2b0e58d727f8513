// A local NATS cluster on loopback (for `murmur up --nats-cluster 3` and tests): N nats-servers with routes to
// each other and clustered JetStream, each with its own store, on fixed ports chosen once so a killed server
// can be started again on the same ports and rejoin.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, startNatsServer, type NatsServer } from './nats-server.ts';

export interface NatsCluster {
  /** Client URLs, one per server. */
  urls: string[];
  /** The running server of each slot, or null while stopped. */
  servers: (NatsServer | null)[];
  /** Stops server i (SIGTERM, SIGKILL after the grace period). */
  stopServer(i: number): Promise<void>;
  /** Starts server i again on its ports and store; it rejoins the cluster. */
  startServer(i: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startNatsCluster(opts: { size?: number; dir: string; name?: string; host?: string; timeoutMs?: number; extraArgs?: string[] }): Promise<NatsCluster> {
  const size = opts.size ?? 3;
  if (size < 1 || size > 9) throw new Error(`cluster size must be 1..9, got ${size}`);
  const host = opts.host ?? '127.0.0.1';
  const name = opts.name ?? 'murmur';
  const ports = await Promise.all(Array.from({ length: size }, async () => ({ client: await freePort(host), route: await freePort(host), monitor: await freePort(host) })));
  const routes = ports.map((p) => `nats-route://${host}:${p.route}`);
  const servers: (NatsServer | null)[] = Array.from({ length: size }, () => null);

  const start = async (i: number) => {
    const store = join(opts.dir, `n${i + 1}`);
    mkdirSync(store, { recursive: true });
    servers[i] = await startNatsServer({
      host,
      port: ports[i]!.client,
      monitorPort: ports[i]!.monitor,
      jetstream: true,
      storeDir: store,
      logFile: join(opts.dir, `n${i + 1}.log`),
      timeoutMs: opts.timeoutMs ?? 15_000,
      // Extra arguments (e.g. `-c auth-server.conf`); command-line flags override a config file.
      extraArgs: [...(opts.extraArgs ?? []), '--server_name', `${name}-n${i + 1}`, '--cluster_name', name, '--cluster', `nats://${host}:${ports[i]!.route}`, '--routes', routes.filter((_, j) => j !== i).join(',')],
    });
  };
  try {
    await Promise.all(ports.map((_, i) => start(i)));
  } catch (e) {
    await Promise.all(servers.map((s) => s?.stop()));
    throw e;
  }
  return {
    urls: ports.map((p) => `nats://${host}:${p.client}`),
    servers,
    async stopServer(i) {
      await servers[i]?.stop();
      servers[i] = null;
    },
    async startServer(i) {
      if (!servers[i]) await start(i);
    },
    async stop() {
      await Promise.all(servers.map((s) => s?.stop()));
      servers.fill(null);
    },
  };
}
