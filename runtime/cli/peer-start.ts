// `murmur peer start`: load config (defaults < core.yaml < environment), start the peer, stop cleanly on
// SIGTERM/SIGINT (actors stopped, NATS drained).
import { defaultConfigPath, loadPeerConfig } from '../../config/load.ts';
import { startPeerProcess } from '../peer.ts';
import { startInspectorRelay } from '../inspect.ts';

export async function runPeerStart(configArg?: string, opts: { inspect?: boolean | number } = {}): Promise<void> {
  const file = configArg ?? defaultConfigPath(process.env);
  const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);
  const { config, warnings } = loadPeerConfig({ file: file ?? undefined, env: process.env });
  for (const w of warnings) log(`config warning: ${w}`);
  const relay = opts.inspect !== undefined && opts.inspect !== false ? await startInspectorRelay({ port: typeof opts.inspect === 'number' ? opts.inspect : 0 }) : null;
  if (relay) log(`inspector: ${relay.url} (Stately inspector: https://stately.ai/inspect?server=${relay.url})`);
  const running = await startPeerProcess(config, file ?? null, log, { inspect: relay?.inspect });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping`);
    const force = setTimeout(() => {
      log('stop took too long; exiting');
      process.exit(1);
    }, 10_000);
    force.unref();
    await running.stop();
    await relay?.close();
    log('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  // Started by `murmur up` with an IPC channel: when it goes away, so does this peer.
  if (process.send) process.once('disconnect', () => void stop('parent gone'));
}
