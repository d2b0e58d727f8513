// Loads a peer's configuration: schema defaults < timing preset < core.yaml < overrides < environment.
//
//   read core.yaml -> walk it against the schema:
//       known key            -> value (by its canonical name; keys match case-insensitively, like viper)
//       peer.gossip.* / peer.nats.* key nobody knows -> error naming key and file (a typo must not pass)
//       Fabric gossip key murmur ignores, or any other section -> one "unused" warning
//   feed the layers to convict (which applies CORE_* env last), validate every key with its source,
//   refuse contradictions, resolve derived values, freeze.
//
// Unlike Fabric, explicit values are honoured: a 0 stays 0 instead of falling back to the default.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import convict from 'convict';
import { parse as parseYaml } from 'yaml';
import { checkFormat, MAX_ENTRIES, normalize, registerFormats } from './formats.ts';
import { isFabricGossipEnv, isFabricGossipKey } from './fabric-keys.ts';
import { PRESETS, type PresetName } from './presets.ts';
import { isLeaf, peerSchema, schemaLeaves, type PeerConfig, type SchemaLeaf } from './schema.ts';

// Re-exported so callers (CLI help, error hints) need only this module.
export { envNameFor, type PeerConfig } from './schema.ts';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** Each problem found, one sentence each (the message lists them all). */
  readonly problems: readonly string[];
  constructor(problems: string | readonly string[], options?: { cause?: unknown }) {
    const list = typeof problems === 'string' ? [problems] : problems;
    super(list.length === 1 ? list[0]! : `${list.length} configuration problems:\n  - ${list.join('\n  - ')}`, options);
    this.problems = list;
  }
}

export interface LoadOptions {
  /** core.yaml to read; without it no file is read (the CLI passes `defaultConfigPath()`). */
  file?: string;
  /** Environment for CORE_* overrides; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  preset?: PresetName;
  /** Values by full dotted path (e.g. from CLI flags); above core.yaml, below the environment. */
  overrides?: Record<string, unknown>;
}

export interface LoadedConfig {
  config: PeerConfig;
  warnings: string[];
  /** Absolute path of the file read, or null. */
  file: string | null;
}

/** `$FABRIC_CFG_PATH/core.yaml`, as the Fabric peer looks for it, or null when the variable is unset. */
export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env): string | null {
  const dir = env.FABRIC_CFG_PATH;
  return dir ? join(dir, 'core.yaml') : null;
}

// Sections that belong to murmur (or to Fabric's gossip, whose keys murmur knows): unknown keys there are typos.
const STRICT_SECTIONS = ['peer.gossip', 'peer.nats'];
const STRICT_ENV_PREFIXES = ['CORE_PEER_GOSSIP_', 'CORE_PEER_NATS_'];

type Layer = { source: string; values: Map<string, unknown> };

export function loadPeerConfig(opts: LoadOptions = {}): LoadedConfig {
  registerFormats();
  const env = opts.env ?? process.env;
  const problems: string[] = [];
  const layers: Layer[] = [];

  if (opts.preset) layers.push({ source: `preset ${opts.preset}`, values: checkedPaths(PRESETS[opts.preset], `preset ${opts.preset}`) });

  const file = opts.file === undefined ? null : resolve(opts.file);
  let unusedInFile: string[] = [];
  if (file) {
    const walked = walkYaml(readYaml(file), file);
    problems.push(...walked.errors);
    unusedInFile = walked.unused;
    layers.push({ source: file, values: walked.values });
  }
  if (opts.overrides) layers.push({ source: 'overrides', values: checkedPaths(opts.overrides, 'overrides') });

  // convict applies the environment at construction and again after every load(), so env always wins.
  const conf = convict<PeerConfig>(peerSchema as unknown as convict.Schema<PeerConfig>, { env, args: [] });
  const sources = new Map<string, string>();
  for (const layer of layers) {
    const typed = new Map<string, unknown>();
    for (const [path, v] of layer.values) {
      typed.set(path, normalize(schemaLeaves.get(path)!.format, v));
      sources.set(path, layer.source);
    }
    conf.load(nest(typed));
  }
  for (const [path, leaf] of schemaLeaves) if (env[leaf.env] !== undefined) sources.set(path, `environment ${leaf.env}`);
  const sourceOf = (path: string) => sources.get(path) ?? 'default';

  const props = conf.getProperties();
  for (const [path, leaf] of schemaLeaves) {
    const value = getPath(props, path);
    const err = checkFormat(leaf.format, value);
    if (err) problems.push(`${path}: ${show(leaf, value)} (from ${sourceOf(path)}) ${err}`);
  }
  if (problems.length) throw new ConfigError(problems);
  try {
    conf.validate({ allowed: 'strict' }); // backstop: our checks above should already have caught everything
  } catch (e) {
    throw new ConfigError((e as Error).message, { cause: e });
  }

  const g = props.peer.gossip;
  const explicit = (path: string) => sources.has(path);
  if (g.useLeaderElection && g.orgLeader)
    problems.push(
      `peer.gossip.useLeaderElection (from ${sourceOf('peer.gossip.useLeaderElection')}) and peer.gossip.orgLeader ` +
        `(from ${sourceOf('peer.gossip.orgLeader')}) are both true: use dynamic leader election or a static org leader, not both`,
    );
  if (!(g.pullInterval > g.digestWaitTime + g.responseWaitTime))
    problems.push(
      `peer.gossip.pullInterval (${g.pullInterval}ms, from ${sourceOf('peer.gossip.pullInterval')}) must be greater than ` +
        `peer.gossip.digestWaitTime (${g.digestWaitTime}ms) + peer.gossip.responseWaitTime (${g.responseWaitTime}ms): ` +
        'a pull round must end before the next one starts',
    );
  const w = g.murmur.state;
  if (w.inFlight * Math.max(w.batchSize, g.state.batchSize) > MAX_ENTRIES)
    problems.push(
      `peer.gossip.murmur.state.inFlight (${w.inFlight}, from ${sourceOf('peer.gossip.murmur.state.inFlight')}) × the request width ` +
        `(${Math.max(w.batchSize, g.state.batchSize)} blocks: peer.gossip.murmur.state.batchSize from ${sourceOf('peer.gossip.murmur.state.batchSize')}, ` +
        `at least peer.gossip.state.batchSize) must be at most ${MAX_ENTRIES} blocks: the commit queue keeps room for every block in flight`,
    );
  if (g.murmur.profile === 'fabric' && g.murmur.dissemination === 'tree' && explicit('peer.gossip.murmur.dissemination'))
    problems.push(
      `peer.gossip.murmur.dissemination = tree (from ${sourceOf('peer.gossip.murmur.dissemination')}) contradicts ` +
        `peer.gossip.murmur.profile = fabric (from ${sourceOf('peer.gossip.murmur.profile')}), which is Fabric's push dissemination`,
    );
  if (problems.length) throw new ConfigError(problems);

  // Derived values: the internal endpoint defaults to the peer id; the fabric profile is stock push.
  if (g.endpoint === '') g.endpoint = props.peer.id;
  if (g.murmur.profile === 'fabric') g.murmur.dissemination = 'push';

  const warnings: string[] = [];
  const unusedEnv: string[] = [];
  const unknownEnv: string[] = [];
  const knownEnv = new Set([...schemaLeaves.values()].map((l) => l.env));
  for (const name of Object.keys(env).sort()) {
    if (!STRICT_ENV_PREFIXES.some((p) => name.startsWith(p)) || knownEnv.has(name)) continue;
    (isFabricGossipEnv(name) ? unusedEnv : unknownEnv).push(name);
  }
  if (unusedInFile.length || unusedEnv.length) {
    const where = [
      ...(unusedInFile.length ? [`in ${file}: ${unusedInFile.join(', ')}`] : []),
      ...(unusedEnv.length ? [`in the environment: ${unusedEnv.join(', ')}`] : []),
    ];
    warnings.push(`ignoring ${unusedInFile.length + unusedEnv.length} Fabric setting(s) murmur does not use; ${where.join('; ')}`);
  }
  if (unknownEnv.length)
    warnings.push(`ignoring environment variable(s) that match no murmur or Fabric key: ${unknownEnv.join(', ')}`);

  return { config: deepFreeze(props), warnings, file };
}

// --- reading and walking core.yaml -------------------------------------------------------------------------

function readYaml(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(code === 'ENOENT' ? `config file not found: ${file}` : `cannot read config file ${file}: ${(e as Error).message}`, { cause: e });
  }
  try {
    return parseYaml(text) ?? {};
  } catch (e) {
    throw new ConfigError(`config file ${file} is not valid YAML: ${(e as Error).message}`, { cause: e });
  }
}

interface SchemaNode {
  path: string;
  leaf?: SchemaLeaf;
  children?: Map<string, SchemaNode>; // by lower-cased key
}

const schemaTree: SchemaNode = (() => {
  const build = (node: Record<string, unknown>, prefix: string): SchemaNode => {
    const children = new Map<string, SchemaNode>();
    for (const [k, v] of Object.entries(node)) {
      const path = prefix ? `${prefix}.${k}` : k;
      children.set(k.toLowerCase(), isLeaf(v) ? { path, leaf: v } : build(v as Record<string, unknown>, path));
    }
    return { path: prefix, children };
  };
  return build(peerSchema as unknown as Record<string, unknown>, '');
})();

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function walkYaml(doc: unknown, file: string): { values: Map<string, unknown>; unused: string[]; errors: string[] } {
  const values = new Map<string, unknown>();
  const unused: string[] = [];
  const errors: string[] = [];
  if (!isMapping(doc)) {
    errors.push(`config file ${file} must hold a YAML mapping at the top level`);
    return { values, unused, errors };
  }
  const walk = (node: Record<string, unknown>, schema: SchemaNode, yamlPrefix: string, strict: boolean) => {
    const seen = new Map<string, string>();
    for (const [k, v] of Object.entries(node)) {
      const yamlPath = yamlPrefix ? `${yamlPrefix}.${k}` : k;
      const child = schema.children?.get(k.toLowerCase());
      const twin = seen.get(k.toLowerCase());
      seen.set(k.toLowerCase(), k);
      if (twin !== undefined) {
        errors.push(`${yamlPath} in ${file} repeats ${twin} (keys are case-insensitive)`);
        continue;
      }
      if (child?.leaf) {
        // An empty yaml value (`endpoint:`) means "not set", as in Fabric's sample.
        if (v !== null && v !== undefined) values.set(child.path, v);
      } else if (child) {
        if (v === null || v === undefined) continue;
        if (!isMapping(v)) errors.push(`${child.path} in ${file} must be a mapping of keys, not ${JSON.stringify(v)}`);
        else walk(v, child, child.path, strict || STRICT_SECTIONS.includes(child.path));
      } else if (!strict) {
        unused.push(yamlPath); // a whole section murmur has no use for is reported once, by its root
      } else if (isFabricGossipKey(yamlPath)) {
        unused.push(yamlPath);
      } else {
        errors.push(`unknown key ${yamlPath} in ${file}: neither murmur nor Fabric has it`);
      }
    }
  };
  walk(doc, schemaTree, '', false);
  return { values, unused, errors };
}

// --- helpers -----------------------------------------------------------------------------------------------

/** Preset and override keys are full dotted paths; a wrong one is a programming error worth stopping on. */
function checkedPaths(flat: Record<string, unknown>, what: string): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const bad = Object.keys(flat).filter((k) => !schemaLeaves.has(k));
  if (bad.length) throw new ConfigError(`${what}: unknown key(s) ${bad.join(', ')}`);
  for (const [k, v] of Object.entries(flat)) out.set(k, v);
  return out;
}

function nest(flat: Map<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [path, v] of flat) {
    const parts = path.split('.');
    let o = out;
    for (const p of parts.slice(0, -1)) o = (o[p] ??= {}) as Record<string, unknown>;
    o[parts.at(-1)!] = v;
  }
  return out;
}

function getPath(obj: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (isMapping(o) ? o[k] : undefined), obj);
}

function show(leaf: SchemaLeaf, value: unknown): string {
  return leaf.sensitive ? '(hidden)' : JSON.stringify(value) ?? String(value);
}

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
