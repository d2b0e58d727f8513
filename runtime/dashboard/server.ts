// `murmur dashboard` / `murmur up --dashboard`: a loopback-only HTTP server with a static page (files under
// ./public, no CDN, no build step) fed live by server-sent events. A poller asks every peer for its status over
// NATS once a second (queryStatus, the same request as `murmur status`) and feeds the DashboardModel; each
// sample goes to every open page as one `sample` event, and a page that connects gets a `snapshot` first.
//
// Routes: /  /app.js  /style.css  (the page) · /events (text/event-stream) · /api/state (the snapshot as JSON)
// · /healthz. Requests whose Host is not the loopback address and port are refused (DNS rebinding).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { DashboardModel, type ExpectedPeer, type SampleUpdate } from './model.ts';
import { queryStatus } from '../cli/status.ts';
import type { StatusRow } from '../../actors/status-row.ts';
import type { NatsLogin } from '../transport/nats-login.ts';

export interface DashboardOptions {
  natsUrl: string;
  prefix?: string;
  /** TCP port on 127.0.0.1; 0 or absent: a free one. */
  port?: number;
  /** Poll period (default 1000 ms). */
  intervalMs?: number;
  /** How long each poll collects answers (default 700 ms, below the period). */
  pollTimeoutMs?: number;
  /** Samples kept per peer (default 300: five minutes at one a second). */
  historyLimit?: number;
  /** Peers the network lists (network.json), read before every poll; they show even when not answering. */
  expected?: () => ExpectedPeer[];
  /** NATS credentials of the poller (the `monitor` user of the generated authorization); absent: anonymous. */
  login?: NatsLogin;
  /** Replaces queryStatus (tests). */
  query?: () => Promise<StatusRow[]>;
}

export interface Dashboard {
  url: string;
  port: number;
  model: DashboardModel;
  /** Number of open event streams. */
  clients(): number;
  close(): Promise<void>;
}

const HOST = '127.0.0.1';
const PUBLIC = new URL('./public/', import.meta.url);
const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
  // Browsers ask for an icon on every load; without one the console shows a 404 each time.
  '/favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
  '/favicon.ico': { file: 'favicon.svg', type: 'image/svg+xml' },
};
const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  // Everything from this origin only: the page works offline and loads nothing from elsewhere.
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
};

export async function startDashboard(o: DashboardOptions): Promise<Dashboard> {
  const prefix = o.prefix ?? 'murmur';
  const intervalMs = o.intervalMs ?? 1000;
  const pollTimeoutMs = o.pollTimeoutMs ?? Math.min(700, Math.max(100, intervalMs - 200));
  const files = new Map(Object.entries(FILES).map(([route, f]) => [route, { body: readFileSync(new URL(f.file, PUBLIC)), type: f.type }]));
  const model = new DashboardModel({ natsUrl: o.natsUrl, prefix, intervalMs, historyLimit: o.historyLimit });
  const query = o.query ?? (() => queryStatus({ natsUrl: o.natsUrl, prefix, timeoutMs: pollTimeoutMs, login: o.login }));
  const streams = new Set<ServerResponse>();
  let port = 0;

  const send = (res: ServerResponse, event: string, data: unknown) => {
    // A stuck client (its buffer over 4 MB) is dropped rather than buffered without bound.
    if (res.writableLength > 4 * 1024 * 1024) return void res.destroy();
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  const broadcast = (u: SampleUpdate) => {
    for (const res of streams) send(res, 'sample', u);
  };

  const allowedHost = (h: string | undefined) => h === `${HOST}:${port}` || h === `localhost:${port}` || h === `[::1]:${port}`;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (!allowedHost(req.headers.host)) {
      res.writeHead(421, { 'content-type': 'text/plain' }).end('wrong host\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    const path = (req.url ?? '/').split('?')[0]!;
    const f = files.get(path);
    if (f) {
      res.writeHead(200, { 'content-type': f.type, 'content-length': f.body.length, ...SECURITY_HEADERS });
      res.end(req.method === 'HEAD' ? undefined : f.body);
    } else if (path === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', connection: 'keep-alive', ...SECURITY_HEADERS });
      res.write(`retry: 2000\n\n`);
      send(res, 'snapshot', model.snapshot());
      streams.add(res);
      req.on('close', () => streams.delete(res));
    } else if (path === '/api/state') {
      res.writeHead(200, { 'content-type': 'application/json', ...SECURITY_HEADERS }).end(JSON.stringify(model.snapshot()));
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json', ...SECURITY_HEADERS }).end(JSON.stringify({ status: 'OK' }));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain', ...SECURITY_HEADERS }).end('not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;

  // The poller: one query at a time, started every intervalMs (or right after a slower one).
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  const keepalive = setInterval(() => {
    for (const res of streams) res.write(': keepalive\n\n');
  }, 15_000);
  const poll = async () => {
    const started = Date.now();
    try {
      if (o.expected) model.setExpected(o.expected());
    } catch {
      // network.json being rewritten or gone: keep the last list.
    }
    let update: SampleUpdate;
    try {
      const rows = await query();
      update = model.ingest(Date.now(), rows);
    } catch (e) {
      update = model.fail(Date.now(), (e as Error).message ?? String(e));
    }
    if (stopped) return;
    broadcast(update);
    timer = setTimeout(tick, Math.max(0, intervalMs - (Date.now() - started)));
  };
  const tick = () => {
    if (!stopped) inFlight = poll();
  };
  tick();

  return {
    url: `http://${HOST}:${port}/`,
    port,
    model,
    clients: () => streams.size,
    async close() {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      clearInterval(keepalive);
      for (const res of streams) res.end();
      streams.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await inFlight.catch(() => {});
    },
  };
}
