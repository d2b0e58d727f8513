// The ordering service's configuration (`murmur orderer start --config orderer.yaml`), with Fabric's names:
//   BatchTimeout                  2s      ORDERER_BATCHTIMEOUT
//   BatchSize.MaxMessageCount     500     ORDERER_BATCHSIZE_MAXMESSAGECOUNT
//   BatchSize.AbsoluteMaxBytes    10 MB   ORDERER_BATCHSIZE_ABSOLUTEMAXBYTES  (clamped below the server's max_payload)
//   BatchSize.PreferredMaxBytes   2 MB    ORDERER_BATCHSIZE_PREFERREDMAXBYTES
//   General.LocalMSPDir / LocalMSPID / Channels / MaxPendingBatches, NATS.* (murmur's transport)
//   Operations.ListenAddress      127.0.0.1:8443  ORDERER_OPERATIONS_LISTENADDRESS  (/metrics, /healthz; '' disables)
// In Fabric the batch keys live in configtx.yaml's Orderer section (channel config); murmur has one orderer
// process and reads them from its own file. Keys match case-insensitively, as viper does. Durations take
// 2s / 500ms / 1m30s or milliseconds; sizes take Fabric's "10 MB" / "512 KB" (base 1024) or bytes.
// Unknown keys under BatchSize and NATS are errors (typos); other unknown keys (the rest of Fabric's
// orderer.yaml) get one warning. Environment variables: ORDERER_ + path upper-cased, dots → underscores.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import convict from 'convict';
import { parse as parseYaml } from 'yaml';
import { checkFormat, normalize, registerFormats, type ChannelEntry, type FormatName, type Parsed } from './formats.ts';
import { ConfigError } from './load.ts';

export interface OrdererConfig {
  BatchTimeout: number;
  BatchSize: {
    MaxMessageCount: number;
    AbsoluteMaxBytes: number;
    PreferredMaxBytes: number;
  };
  General: {
    LocalMSPDir: string;
    LocalMSPID: string;
    Channels: ChannelEntry[];
    MaxPendingBatches: number;
  };
  NATS: {
    Servers: string[];
    Prefix: string;
    User: string;
    Pass: string;
    Token: string;
    CredsFile: string;
    StreamReplicas: number;
  };
  Operations: {
    ListenAddress: string;
  };
}

// --- sizes -------------------------------------------------------------------------------------------------

const SIZE_UNITS: Record<string, number> = { '': 1, B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 };

/** Fabric's byte sizes: "10 MB", "512 KB", "2MB", or a plain number of bytes. */
export function parseByteSize(input: unknown): Parsed<number> {
  if (typeof input === 'number') return Number.isInteger(input) && input > 0 ? { ok: true, value: input } : { ok: false, error: 'must be a positive whole number of bytes' };
  if (typeof input !== 'string') return { ok: false, error: 'must be a size such as 10 MB, 512 KB or 1048576' };
  const m = /^\s*(\d+)\s*(B|KB|MB|GB)?\s*$/i.exec(input);
  if (!m) return { ok: false, error: 'is not a size (use e.g. 10 MB, 512 KB or a number of bytes)' };
  const value = Number(m[1]) * SIZE_UNITS[(m[2] ?? '').toUpperCase()]!;
  return value > 0 ? { ok: true, value } : { ok: false, error: 'must be greater than zero' };
}

type Format = FormatName | 'byte-size';
interface Leaf {
  format: Format;
  default: unknown;
  doc: string;
  env: string;
  sensitive?: boolean;
}

const envOf = (path: string) => `ORDERER_${path.toUpperCase().replace(/\./g, '_')}`;
const leaf = (path: string, format: Format, def: unknown, doc: string, sensitive = false): [string, Leaf] => [path, { format, default: def, doc, env: envOf(path), sensitive }];

export const ORDERER_KEYS: ReadonlyMap<string, Leaf> = new Map([
  leaf('BatchTimeout', 'period', 2000, 'cut a non-empty batch this long after its first transaction; duration; default 2s'),
  leaf('BatchSize.MaxMessageCount', 'positive-count', 500, 'transactions per block at most; count; default 500'),
  leaf('BatchSize.AbsoluteMaxBytes', 'byte-size', 10 * 1024 ** 2, "largest transaction and block data; bytes; default 10 MB (clamped below the NATS server's max_payload)"),
  leaf('BatchSize.PreferredMaxBytes', 'byte-size', 2 * 1024 ** 2, 'a batch is cut before it would exceed this; bytes; default 2 MB'),
  leaf('General.LocalMSPDir', 'non-empty-text', 'msp', "the orderer's identity (cert and key files); path (relative to the config file); default msp"),
  leaf('General.LocalMSPID', 'non-empty-text', 'OrdererMSP', "the orderer's MSP id; string; default OrdererMSP"),
  leaf('General.Channels', 'channel-list', [], 'channels served: list of {name, genesisBlock}, env name=path,name=path; default none'),
  leaf('General.MaxPendingBatches', 'positive-count', 64, 'cut batches waiting to be appended before transactions are refused; count; default 64'),
  leaf('NATS.Servers', 'string-list', ['nats://127.0.0.1:4222'], 'NATS server URLs; list; default nats://127.0.0.1:4222'),
  leaf('NATS.Prefix', 'endpoint', 'murmur', 'subject prefix; token; default murmur'),
  leaf('NATS.User', 'text', '', "NATS user; string; default ''"),
  leaf('NATS.Pass', 'text', '', "NATS password; string; default ''", true),
  leaf('NATS.Token', 'text', '', "NATS token; string; default ''", true),
  leaf('NATS.CredsFile', 'text', '', "NATS credentials file; path; default ''"),
  leaf('NATS.StreamReplicas', 'positive-count', 1, 'replicas of each channel block stream (3 on a 3-server cluster); count; default 1'),
  leaf('Operations.ListenAddress', 'listen-address', '127.0.0.1:8443', "operations service (/metrics, /healthz); host:port, port 0 = any free port, '' disables; default 127.0.0.1:8443 (Fabric's)"),
]);

const STRICT_SECTIONS = ['batchsize', 'nats'];

function check(format: Format, v: unknown): string | null {
  if (format === 'byte-size') {
    const r = parseByteSize(v);
    return r.ok ? null : r.error;
  }
  return checkFormat(format, v);
}
function typed(format: Format, v: unknown): unknown {
  if (format === 'byte-size') {
    const r = parseByteSize(v);
    return r.ok ? r.value : v;
  }
  return normalize(format, v);
}

let sizeFormatAdded = false;
function schema(): convict.Schema<OrdererConfig> {
  registerFormats();
  if (!sizeFormatAdded) {
    sizeFormatAdded = true;
    convict.addFormat({
      name: 'byte-size',
      validate: (v: unknown) => {
        const err = check('byte-size', v);
        if (err) throw new Error(err);
      },
      coerce: (v: string) => typed('byte-size', v),
    });
  }
  const out: Record<string, unknown> = {};
  for (const [path, l] of ORDERER_KEYS) {
    const parts = path.split('.');
    let o = out;
    for (const p of parts.slice(0, -1)) o = (o[p] ??= {}) as Record<string, unknown>;
    o[parts.at(-1)!] = { format: l.format, default: l.default, doc: l.doc, env: l.env, sensitive: l.sensitive };
  }
  return out as unknown as convict.Schema<OrdererConfig>;
}

export interface LoadedOrdererConfig {
  config: OrdererConfig;
  warnings: string[];
  file: string | null;
}

/** defaults < orderer.yaml < environment (ORDERER_*). Relative paths resolve against the file's folder. */
export function loadOrdererConfig(opts: { file?: string; env?: NodeJS.ProcessEnv } = {}): LoadedOrdererConfig {
  const env = opts.env ?? process.env;
  const file = opts.file ? resolve(opts.file) : null;
  const problems: string[] = [];
  const unused: string[] = [];
  const values = new Map<string, unknown>();
  const byLower = new Map([...ORDERER_KEYS.keys()].map((k) => [k.toLowerCase(), k]));

  if (file) {
    let doc: unknown;
    try {
      doc = parseYaml(readFileSync(file, 'utf8')) ?? {};
    } catch (e) {
      throw new ConfigError(`cannot read orderer config ${file}: ${(e as Error).message}`, { cause: e });
    }
    const walk = (node: unknown, prefix: string) => {
      if (typeof node !== 'object' || node === null || Array.isArray(node)) return void problems.push(`${prefix || 'the top level'} in ${file} must be a mapping`);
      for (const [k, v] of Object.entries(node)) {
        const path = prefix ? `${prefix}.${k}` : k;
        const known = byLower.get(path.toLowerCase());
        if (known) {
          if (v !== null && v !== undefined) values.set(known, v);
        } else if ([...byLower.keys()].some((p) => p.startsWith(`${path.toLowerCase()}.`))) {
          if (v !== null && v !== undefined) walk(v, path);
        } else if (STRICT_SECTIONS.includes(path.split('.')[0]!.toLowerCase())) {
          problems.push(`unknown key ${path} in ${file}`);
        } else {
          unused.push(path);
        }
      }
    };
    walk(doc, '');
  }

  const conf = convict<OrdererConfig>(schema(), { env, args: [] });
  const nested: Record<string, unknown> = {};
  for (const [path, v] of values) {
    const parts = path.split('.');
    let o = nested;
    for (const p of parts.slice(0, -1)) o = (o[p] ??= {}) as Record<string, unknown>;
    o[parts.at(-1)!] = typed(ORDERER_KEYS.get(path)!.format, v);
  }
  conf.load(nested);
  const props = conf.getProperties();
  for (const [path, l] of ORDERER_KEYS) {
    const v = path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)?.[k], props);
    const err = check(l.format, v);
    const from = env[l.env] !== undefined ? `environment ${l.env}` : values.has(path) ? file : 'default';
    if (err) problems.push(`${path}: ${l.sensitive ? '(hidden)' : JSON.stringify(v)} (from ${from}) ${err}`);
  }
  if (problems.length) throw new ConfigError(problems);
  if (props.BatchSize.PreferredMaxBytes > props.BatchSize.AbsoluteMaxBytes)
    throw new ConfigError(`BatchSize.PreferredMaxBytes (${props.BatchSize.PreferredMaxBytes}) must not exceed BatchSize.AbsoluteMaxBytes (${props.BatchSize.AbsoluteMaxBytes})`);

  const base = file ? dirname(file) : process.cwd();
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  props.General.LocalMSPDir = abs(props.General.LocalMSPDir);
  props.General.Channels = props.General.Channels.map((c) => ({ name: c.name, genesisBlock: abs(c.genesisBlock) }));
  if (props.NATS.CredsFile) props.NATS.CredsFile = abs(props.NATS.CredsFile);
  const warnings = unused.length ? [`ignoring ${unused.length} key(s) murmur's orderer does not use: ${unused.join(', ')}`] : [];
  return { config: props, warnings, file };
}
