// Value formats of murmur's config keys, registered with convict.
// Each format is one parser that never throws: convict calls `coerce` on every string it meets (env or yaml),
// where a throw would lose the key and its source. Unparseable text is left as it is, so validation (in
// load.ts, and convict's own as a backstop) sees the original value and can name it with the reason.
import convict from 'convict';

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(error: string): Parsed<T> => ({ ok: false, error });

// A number is refused rather than stringified: YAML reads `pass: 0123` as 123, silently losing the 0.
const NOT_STRING = 'must be a string (quote it in YAML)';

// --- duration ----------------------------------------------------------------------------------------------

const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 1e-3, µs: 1e-3, μs: 1e-3, ns: 1e-6 };
// `ms` before `m`, or `500ms` would read as 500 minutes followed by garbage.
// Micro written as escapes (µ U+00B5, μ U+03BC): one non-ASCII character in the CLI bundle makes Node decode
// all of it as UTF-8 into a two-byte string at every start (scripts/build.mjs refuses one).
const DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(ms|us|\u00b5s|\u03bcs|ns|h|m|s)/y;

/**
 * Go-style duration (`10s`, `500ms`, `1m30s`, `2h`, `1.5s`) or a plain number of milliseconds, to milliseconds.
 * A bare numeric string counts as milliseconds too: the environment cannot carry numbers any other way.
 * (Fabric's viper would read a bare "4000" as nanoseconds; murmur documents milliseconds instead.)
 */
export function parseDuration(input: unknown): Parsed<number> {
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) return fail('is not a finite number of milliseconds');
    if (input < 0) return fail('must not be negative');
    return bounded(input);
  }
  if (typeof input !== 'string') return fail('must be a duration such as 10s, 500ms or 1m30s');
  const s = input.trim();
  if (s === '') return fail('is empty; expected a duration such as 10s, 500ms or 1m30s');
  if (/^\d+(\.\d+)?$/.test(s)) return ok(Number(s));
  if (s.startsWith('-')) return fail('must not be negative');
  let total = 0;
  DURATION_PART.lastIndex = 0;
  while (DURATION_PART.lastIndex < s.length) {
    const at = DURATION_PART.lastIndex;
    const m = DURATION_PART.exec(s);
    if (!m) return fail(`is not a duration (unexpected "${s.slice(at)}"); use e.g. 10s, 500ms, 1m30s, 2h`);
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  // 1.1s is 1100.0000000000002 in floating point; nanosecond precision is plenty.
  return bounded(Math.round(total * 1e6) / 1e6);
}

/** Node's longest timer: a longer delay fires after 1 ms instead (with a warning), so `600h` would spin. */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/** Every duration becomes a timer somewhere: 0 (off, where a key allows it) or 1 ms .. MAX_DURATION_MS. */
function bounded(ms: number): Parsed<number> {
  if (ms > MAX_DURATION_MS) return fail(`is longer than ${MAX_DURATION_MS} ms (24.8 days), the longest timer Node.js keeps`);
  if (ms > 0 && ms < 1) return fail('is shorter than 1 ms, the resolution of Node.js timers');
  return ok(ms);
}

// --- boolean -----------------------------------------------------------------------------------------------

const TRUE_WORDS = new Set(['true', 't', '1']);
const FALSE_WORDS = new Set(['false', 'f', '0']);

/** true/false/t/f/1/0, case-insensitive, nothing else (convict alone would make "0" true). */
export function parseBoolean(input: unknown): Parsed<boolean> {
  if (typeof input === 'boolean') return ok(input);
  if (input === 1 || input === 0) return ok(input === 1);
  if (typeof input === 'string') {
    const w = input.trim().toLowerCase();
    if (TRUE_WORDS.has(w)) return ok(true);
    if (FALSE_WORDS.has(w)) return ok(false);
  }
  return fail('must be a boolean: true/false, t/f or 1/0');
}

// --- counts ------------------------------------------------------------------------------------------------

/** The largest count any key accepts (bytes, factors); peers and entries have lower maxima below. */
export const MAX_COUNT = 2 ** 31 - 1;
/** Peers a fan-out or a link table may name: more than a channel could sensibly hold. */
export const MAX_PEERS = 10_000;
/** Entries of one buffer, window, cache or batch, attempts, and requests per second: beyond is a typo that
 * would let one key reserve gigabytes or retry for ever. */
export const MAX_ENTRIES = 1_000_000;
/** Requests one peer keeps outstanding at once (state transfer's window): each holds a batch of blocks. */
export const MAX_IN_FLIGHT = 64;

function parseCount(input: unknown, min: number, max = MAX_COUNT): Parsed<number> {
  const n = typeof input === 'string' && /^\s*-?\d+\s*$/.test(input) ? Number(input) : input;
  if (typeof n !== 'number' || !Number.isInteger(n)) return fail('must be a whole number');
  if (n < min) return fail(min === 0 ? 'must not be negative' : `must be at least ${min}`);
  // Every count fits a 32-bit signed integer, and each kind has its own sane maximum; more is a typo or an attack.
  if (n > max) return fail(`must be at most ${max}`);
  return ok(n);
}

// --- endpoints and lists -----------------------------------------------------------------------------------

// On NATS an endpoint is (part of) a subject: dot-separated tokens, no wildcards (* >) or whitespace.
const ENDPOINT = /^[A-Za-z0-9_\-:]+(\.[A-Za-z0-9_\-:]+)*$/;

export function checkEndpoint(input: unknown, allowEmpty: boolean): Parsed<string> {
  if (typeof input !== 'string') return fail(NOT_STRING);
  if (input === '') return allowEmpty ? ok('') : fail('must not be empty');
  if (!ENDPOINT.test(input))
    return fail('must be a NATS-subject-safe token: letters, digits, _ - : and dots between non-empty parts');
  return ok(input);
}

/** A yaml list, or one string separated by spaces and/or commas (how Fabric reads CORE_PEER_GOSSIP_BOOTSTRAP). */
export function parseStringList(input: unknown): Parsed<string[]> {
  if (typeof input === 'string') return ok(input.split(/[\s,]+/).filter((x) => x !== ''));
  if (!Array.isArray(input)) return fail('must be a list or a space/comma-separated string');
  for (const [i, item] of input.entries()) {
    if (typeof item !== 'string' || item === '' || /[\s,]/.test(item))
      return fail(`item ${i} must be a non-empty string without spaces or commas`);
  }
  return ok(input as string[]);
}

function parseEndpointList(input: unknown): Parsed<string[]> {
  const list = parseStringList(input);
  if (!list.ok) return list;
  for (const [i, item] of list.value.entries()) {
    const e = checkEndpoint(item, false);
    if (!e.ok) return fail(`item ${i} ("${item}") ${e.error}`);
  }
  return list;
}

// --- channels ----------------------------------------------------------------------------------------------

export interface ChannelEntry {
  name: string;
  genesisBlock: string;
}

const CHANNEL_NAME = /^[A-Za-z0-9_-]+$/;

/** yaml `[{name, genesisBlock}]` or env `ch1=/path/a.block,ch2=/path/b.block` (commas or spaces). */
export function parseChannelList(input: unknown): Parsed<ChannelEntry[]> {
  let items: unknown[];
  if (typeof input === 'string') {
    items = [];
    for (const part of input.split(/[\s,]+/).filter((x) => x !== '')) {
      const eq = part.indexOf('=');
      if (eq <= 0) return fail(`entry "${part}" must look like name=/path/to/genesis.block`);
      items.push({ name: part.slice(0, eq), genesisBlock: part.slice(eq + 1) });
    }
  } else if (Array.isArray(input)) {
    items = input;
  } else {
    return fail('must be a list of {name, genesisBlock} or a string name=path[,name=path]');
  }
  const seen = new Set<string>();
  const out: ChannelEntry[] = [];
  for (const [i, item] of items.entries()) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return fail(`item ${i} must be a mapping {name, genesisBlock}`);
    const extra = Object.keys(item).filter((k) => k !== 'name' && k !== 'genesisBlock');
    if (extra.length) return fail(`item ${i} has unknown key(s) ${extra.join(', ')} (only name and genesisBlock)`);
    const { name, genesisBlock } = item as Record<string, unknown>;
    if (typeof name !== 'string' || !CHANNEL_NAME.test(name)) return fail(`item ${i}: channel name ${JSON.stringify(name)} must match [A-Za-z0-9_-]+`);
    if (typeof genesisBlock !== 'string' || genesisBlock === '') return fail(`channel ${name}: genesisBlock must be a non-empty path`);
    if (seen.has(name)) return fail(`channel ${name} is listed twice`);
    seen.add(name);
    out.push({ name, genesisBlock });
  }
  return ok(out);
}

// --- small string formats ----------------------------------------------------------------------------------

function checkText(input: unknown, nonEmpty: boolean): Parsed<string> {
  if (typeof input !== 'string') return fail(NOT_STRING);
  if (nonEmpty && input.trim() === '') return fail('must not be empty');
  return ok(input);
}

/** host:port to listen on, or '' to switch the listener off. */
function checkListenAddress(input: unknown): Parsed<string> {
  if (input === '') return ok('');
  if (typeof input !== 'string') return fail(NOT_STRING);
  const m = /^(\S*):(\d{1,5})$/.exec(input);
  if (!m || Number(m[2]) > 65535) return fail("must be host:port (port 0-65535), or '' to disable");
  return ok(input);
}

// --- registry ----------------------------------------------------------------------------------------------

export interface FormatDef {
  /** Parses any value (string from env/yaml, or an already typed value) to the key's type. */
  parse: (value: unknown) => Parsed<unknown>;
  /** Whether strings should be turned into another type (durations, lists, booleans, counts). */
  coerces: boolean;
}

const def = (parse: (v: unknown) => Parsed<unknown>, coerces = true): FormatDef => ({ parse, coerces });

const positive = (parse: (v: unknown) => Parsed<number>) => (v: unknown): Parsed<number> => {
  const r = parse(v);
  // A zero period would make a timer spin.
  return r.ok && r.value === 0 ? fail('must be greater than zero') : r;
};

export const FORMATS = {
  duration: def(parseDuration),
  period: def(positive(parseDuration)),
  'strict-boolean': def(parseBoolean),
  count: def((v) => parseCount(v, 0)),
  'positive-count': def((v) => parseCount(v, 1)),
  'peer-count': def((v) => parseCount(v, 0, MAX_PEERS)),
  'positive-peer-count': def((v) => parseCount(v, 1, MAX_PEERS)),
  'entry-count': def((v) => parseCount(v, 0, MAX_ENTRIES)),
  'positive-entry-count': def((v) => parseCount(v, 1, MAX_ENTRIES)),
  'positive-request-count': def((v) => parseCount(v, 1, MAX_IN_FLIGHT)),
  'string-list': def(parseStringList),
  'endpoint-list': def(parseEndpointList),
  endpoint: def((v) => checkEndpoint(v, false), false),
  'optional-endpoint': def((v) => checkEndpoint(v, true), false),
  'channel-list': def(parseChannelList),
  'listen-address': def(checkListenAddress, false),
  text: def((v) => checkText(v, false), false),
  'non-empty-text': def((v) => checkText(v, true), false),
} satisfies Record<string, FormatDef>;

export type FormatName = keyof typeof FORMATS;

/** An error sentence (without key or value) when the value does not fit the format or enum, else null. */
export function checkFormat(format: FormatName | readonly string[], value: unknown): string | null {
  if (typeof format !== 'string') return format.includes(value as string) ? null : `must be one of ${format.join(', ')}`;
  const r = FORMATS[format].parse(value);
  return r.ok ? null : r.error;
}

/** The typed value when the format can parse it (yaml `1` for a boolean, `4s` for a duration), else the input. */
export function normalize(format: FormatName | readonly string[], value: unknown): unknown {
  if (typeof format !== 'string') return value;
  const r = FORMATS[format].parse(value);
  return r.ok ? r.value : value;
}

let registered = false;

/** Registers the formats with convict (its registry is module-global, so once per process). */
export function registerFormats(): void {
  if (registered) return;
  registered = true;
  for (const [name, f] of Object.entries(FORMATS) as [string, FormatDef][]) {
    convict.addFormat({
      name,
      validate: (v: unknown) => {
        const r = f.parse(v);
        if (!r.ok) throw new Error(r.error);
      },
      // convict coerces every string it meets; leaving unparseable text alone lets validation name it.
      ...(f.coerces ? { coerce: (v: string) => normalize(name as FormatName, v) } : {}),
    });
  }
}
