// The operations service, like Fabric's: GET /metrics (Prometheus text) and GET /healthz (JSON; 200 when
// every check passes, 503 with the failed checks otherwise) on operations.listenAddress (host:port; port 0 =
// any free port). Bound to what the address says; murmur up uses loopback. A check may be asynchronous (the
// orderer asks JetStream whether its streams answer); one that does not settle within CHECK_TIMEOUT_MS fails.
import { createServer, type Server } from 'node:http';

export interface HealthCheck {
  name: string;
  ok(): boolean | Promise<boolean>;
}

const CHECK_TIMEOUT_MS = 2000;

export interface OpsServer {
  url: string;
  close(): Promise<void>;
}

export async function startOpsServer(o: { listenAddress: string; metrics: () => Promise<string>; checks: HealthCheck[]; now?: () => number }): Promise<OpsServer> {
  const m = /^(.*):(\d+)$/.exec(o.listenAddress);
  if (!m) throw new Error(`operations.listenAddress must be host:port, got ${JSON.stringify(o.listenAddress)}`);
  const host = m[1] || '127.0.0.1';
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    if (path === '/metrics') {
      o.metrics().then(
        (text) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(text),
        (e) => res.writeHead(500).end(String(e)),
      );
      return;
    }
    if (path === '/healthz') {
      void Promise.all(o.checks.map(safe)).then((oks) => {
        const failed = o.checks.filter((_, i) => !oks[i]).map((c) => ({ component: c.name, reason: 'check failed' }));
        const body = { status: failed.length ? 'Service Unavailable' : 'OK', time: new Date(o.now?.() ?? Date.now()).toISOString(), ...(failed.length ? { failed_checks: failed } : {}) };
        res.writeHead(failed.length ? 503 : 200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      });
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(m[2]), host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function safe(c: HealthCheck): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), CHECK_TIMEOUT_MS)));
    return (await Promise.race([Promise.resolve(c.ok()), late])) === true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
