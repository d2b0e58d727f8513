// `murmur peer start`: load config (defaults < core.yaml < environment), start the peer, stop cleanly on
// SIGTERM/SIGINT (actors stopped, NATS drained). Logs are JSON lines (runtime/log.ts) with per-module levels
// from MURMUR_LOGGING_SPEC or FABRIC_LOGGING_SPEC.
import { defaultConfigPath, loadPeerConfig } from '../../config/load.ts';
import { startPeerProcess } from '../peer.ts';
import { startInspectorRelay } from '../inspect.ts';
import { processLogs, stopOnSignals } from './lifecycle.ts';

export async function runPeerStart(configArg?: string, opts: { inspect?: boolean | number } = {}): Promise<void> {
  const file = configArg ?? defaultConfigPath(process.env);
  const { logs, log } = processLogs('peer');
  const { config, warnings } = loadPeerConfig({ file: file ?? undefined, env: process.env });
  for (const w of warnings) logs.module('config').warn(w);
  const relay = opts.inspect !== undefined && opts.inspect !== false ? await startInspectorRelay({ port: typeof opts.inspect === 'number' ? opts.inspect : 0 }) : null;
  if (relay) log(`inspector: ${relay.url} (Stately inspector: https://stately.ai/inspect?server=${relay.url})`);
  const running = await startPeerProcess(config, file ?? null, log, { inspect: relay?.inspect, logs });
  stopOnSignals(log, async () => {
    await running.stop();
    await relay?.close();
  });
}
