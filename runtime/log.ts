// Structured logs (pino, JSON lines) with per-module levels from a spec in the style of Fabric's
// FABRIC_LOGGING_SPEC, read from MURMUR_LOGGING_SPEC (or FABRIC_LOGGING_SPEC when that is unset):
//   "info"                               every module at info
//   "discovery,election=debug:warn"      discovery and election at debug, everything else at warn
//   "gossip.election=debug:info"         a module name may be dotted; the longest matching prefix wins
// Levels: trace, debug, info, warn, error, fatal (Fabric's "warning" and "panic" are accepted too).
import pino, { type Logger, type LevelWithSilent } from 'pino';

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);
const ALIASES: Record<string, string> = { warning: 'warn', panic: 'fatal', critical: 'fatal' };

export interface LoggingSpec {
  default: LevelWithSilent;
  modules: Map<string, LevelWithSilent>;
}

function level(word: string, spec: string): LevelWithSilent {
  const l = ALIASES[word.toLowerCase()] ?? word.toLowerCase();
  if (!LEVELS.has(l)) throw new Error(`logging spec ${JSON.stringify(spec)}: unknown level ${JSON.stringify(word)}`);
  return l as LevelWithSilent;
}

export function parseLoggingSpec(spec: string | undefined): LoggingSpec {
  const out: LoggingSpec = { default: 'info', modules: new Map() };
  if (!spec?.trim()) return out;
  for (const part of spec.split(':').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq < 0) {
      out.default = level(part, spec);
      continue;
    }
    const lvl = level(part.slice(eq + 1).trim(), spec);
    for (const m of part.slice(0, eq).split(',').map((x) => x.trim()).filter(Boolean)) out.modules.set(m, lvl);
  }
  return out;
}

export function levelFor(spec: LoggingSpec, module: string): LevelWithSilent {
  let best: string | null = null;
  for (const m of spec.modules.keys()) if ((module === m || module.startsWith(`${m}.`)) && (!best || m.length > best.length)) best = m;
  return best ? spec.modules.get(best)! : spec.default;
}

export interface Logs {
  /** A logger for one module (e.g. `discovery`, `election`), at the level the spec gives it. */
  module(name: string): Logger;
  root: Logger;
}

export function createLogs(opts: { env?: NodeJS.ProcessEnv; base?: Record<string, unknown>; destination?: pino.DestinationStream } = {}): Logs {
  const env = opts.env ?? process.env;
  const spec = parseLoggingSpec(env.MURMUR_LOGGING_SPEC ?? env.FABRIC_LOGGING_SPEC);
  // fd 1 by number: pino's default reads process.stdout.fd, and creating process.stdout (a pipe under `up`) costs
  // ~8 ms of a peer's start for a stream the logs never use (they are written to the fd synchronously).
  const root = pino({ level: 'trace', base: opts.base ?? {}, timestamp: pino.stdTimeFunctions.isoTime }, opts.destination ?? pino.destination({ dest: 1, sync: true }));
  const cache = new Map<string, Logger>();
  return {
    root,
    module(name) {
      let l = cache.get(name);
      if (!l) {
        l = root.child({ module: name });
        l.level = levelFor(spec, name);
        cache.set(name, l);
      }
      return l;
    },
  };
}
