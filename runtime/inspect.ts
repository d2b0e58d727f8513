// The XState inspector relay: every actor's inspection events (@statelyai/inspect's format) go to WebSocket
// clients on a loopback-only port, e.g. the Stately inspector page opened with ?server=ws://127.0.0.1:PORT,
// or any tool that reads the JSON messages. Actor registrations and the latest snapshot of each actor are
// replayed to a client that connects late, so it sees the whole tree. Everything is bounded; closing the
// relay closes its clients and the server, so the process can exit (unlike the library's own client, which
// retries forever).
import { WebSocketServer, type WebSocket } from 'ws';
import { createInspector, type StatelyInspectionEvent } from '@statelyai/inspect';
import type { InspectionEvent } from 'xstate';

export interface InspectorRelay {
  url: string;
  port: number;
  /** Pass as `createActor(..., { inspect })`. */
  inspect: (e: InspectionEvent) => void;
  clients(): number;
  close(): Promise<void>;
}

const MAX_ACTORS = 2000;

export async function startInspectorRelay(opts: { port?: number; host?: string } = {}): Promise<InspectorRelay> {
  const host = opts.host ?? '127.0.0.1';
  const wss = new WebSocketServer({ host, port: opts.port ?? 0 });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  const port = (wss.address() as { port: number }).port;
  // Replay state for late clients: registration and latest snapshot per actor (bounded).
  const actors = new Map<string, { actor: string; snapshot?: string }>();
  const broadcast = (data: string) => {
    for (const c of wss.clients) if (c.readyState === c.OPEN && c.bufferedAmount < 8 * 1024 * 1024) c.send(data);
  };
  const inspector = createInspector(
    {
      send(ev: StatelyInspectionEvent) {
        let data: string;
        try {
          data = JSON.stringify(ev);
        } catch {
          return;
        }
        const id = (ev as { sessionId: string }).sessionId;
        if (ev.type === '@xstate.actor') {
          if (actors.size >= MAX_ACTORS && !actors.has(id)) actors.delete(actors.keys().next().value as string);
          actors.set(id, { actor: data });
        } else if (ev.type === '@xstate.snapshot') {
          const a = actors.get(id);
          if (a) a.snapshot = data;
        }
        broadcast(data);
      },
    },
    { autoStart: true },
  );
  wss.on('connection', (ws: WebSocket) => {
    for (const a of actors.values()) {
      ws.send(a.actor);
      if (a.snapshot) ws.send(a.snapshot);
    }
  });
  return {
    url: `ws://${host}:${port}`,
    port,
    inspect: (e) => inspector.inspect.next?.(e),
    clients: () => wss.clients.size,
    close: () =>
      new Promise<void>((resolve) => {
        inspector.stop();
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  };
}
