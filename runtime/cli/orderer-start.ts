// `murmur orderer start [--config FILE]`: load orderer.yaml (defaults < file < ORDERER_* environment), run
// the ordering service, stop cleanly on SIGTERM/SIGINT (pending batch cut and appended, NATS drained).
import { loadOrdererConfig } from '../../config/orderer.ts';
import { startOrdererProcess } from '../orderer/process.ts';

export async function runOrdererStart(configFile?: string): Promise<void> {
  const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);
  const { config, warnings } = loadOrdererConfig({ file: configFile, env: process.env });
  for (const w of warnings) log(`config warning: ${w}`);
  const running = await startOrdererProcess(config, log);
  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    log(`${why}: stopping`);
    const force = setTimeout(() => {
      log('stop took too long; exiting');
      process.exit(1);
    }, 10_000);
    force.unref();
    await running.stop();
    const s = running.orderer.stats;
    log(`stopped (${s.blocks} blocks, ${s.txs} transactions appended; ${s.accepted} accepted)`);
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  if (process.send) process.once('disconnect', () => void stop('parent gone'));
}
