// `murmur orderer start [--config FILE]`: load orderer.yaml (defaults < file < ORDERER_* environment), run
// the ordering service, stop cleanly on SIGTERM/SIGINT (pending batch cut and appended, NATS drained).
import { loadOrdererConfig } from '../../config/orderer-schema.ts';
import { startOrdererProcess } from '../orderer/process.ts';
import { processLogs, stopOnSignals } from './lifecycle.ts';

export async function runOrdererStart(configFile?: string): Promise<void> {
  const { log } = processLogs('orderer');
  const { config, warnings } = loadOrdererConfig({ file: configFile, env: process.env });
  for (const w of warnings) log(`config warning: ${w}`);
  const running = await startOrdererProcess(config, log);
  stopOnSignals(log, async () => {
    await running.stop();
    const s = running.orderer.stats;
    return `${s.blocks} blocks, ${s.txs} transactions appended; ${s.accepted} accepted`;
  });
}
