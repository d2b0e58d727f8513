// `murmur peer start`: load config (defaults < core.yaml < environment), start the peer, stop cleanly on
// SIGTERM/SIGINT (actors stopped, NATS drained). Logs are JSON lines (runtime/log.ts) with per-module levels
// from MURMUR_LOGGING_SPEC or FABRIC_LOGGING_SPEC.
// `launchPeer` is the part shared with `murmur up --in-process` (in-process.ts), which runs many peers in one
// process: everything a peer needs is built from its own config file, nothing from process-wide state.
import { defaultConfigPath, loadPeerConfig } from '../../config/load.ts';
import { startPeerProcess, type RunningPeer } from '../peer.ts';
import type { Logs } from '../log.ts';
import type { Lru } from '../util/lru.ts';
import { processLogs, stopOnSignals } from './lifecycle.ts';

export interface LaunchedPeer {
  running: RunningPeer;
  /** ws:// URL of the peer's inspector relay, or null without --inspect. */
  inspectorUrl: string | null;
  /** Stops the peer (actors, NATS drained, ops server) and its relay; idempotent. */
  stop(): Promise<void>;
}

/** One peer from its core.yaml (null: defaults and environment only): config warnings go to the `config`
 * module's log, an inspector relay on loopback when asked (port 0 or true: any free port). */
export async function launchPeer(o: {
  file: string | null;
  env: NodeJS.ProcessEnv;
  logs: Logs;
  log: (line: string) => void;
  inspect?: boolean | number;
  /** Verified-envelope cache shared by the peers of one process (WireCodec). */
  verifiedCache?: Lru<string, true>;
}): Promise<LaunchedPeer> {
  const { config, warnings } = loadPeerConfig({ file: o.file ?? undefined, env: o.env });
  for (const w of warnings) o.logs.module('config').warn(w);
  // The inspector (ws, @statelyai/inspect) loads only when asked for: an idle peer does not carry it.
  const relay =
    o.inspect !== undefined && o.inspect !== false
      ? await (await import('../inspect.ts')).startInspectorRelay({ port: typeof o.inspect === 'number' ? o.inspect : 0 })
      : null;
  if (relay) o.log(`inspector: ${relay.url} (Stately inspector: https://stately.ai/inspect?server=${relay.url})`);
  let running: RunningPeer;
  try {
    running = await startPeerProcess(config, o.file, o.log, { inspect: relay?.inspect, logs: o.logs, verifiedCache: o.verifiedCache });
  } catch (e) {
    await relay?.close();
    throw e;
  }
  let stopping: Promise<void> | null = null;
  return {
    running,
    inspectorUrl: relay?.url ?? null,
    stop: () =>
      (stopping ??= (async () => {
        await running.stop();
        await relay?.close();
      })()),
  };
}

export async function runPeerStart(configArg?: string, opts: { inspect?: boolean | number } = {}): Promise<void> {
  const file = configArg ?? defaultConfigPath(process.env);
  const { logs, log } = processLogs('peer');
  const peer = await launchPeer({ file, env: process.env, logs, log, inspect: opts.inspect });
  stopOnSignals(log, () => peer.stop());
}
