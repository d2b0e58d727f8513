// `murmur status` rows (contract): one per peer and channel. Anything a later issue has not built yet is
// null, never a guess.
export type Role = 'leader' | 'follower' | 'candidate' | 'standby';

export interface StatusCounters {
  blocksFromOrderer: number | null;
  blocksByPush: number | null;
  blocksByPull: number | null;
  blocksByStateTransfer: number | null;
  duplicates: number | null;
  rejected: Record<string, number>;
}

/**
 * Extension: figures over this peer's last `window` committed blocks of the channel (block-stats.ts). Latency
 * is commit time − the block's orderer timestamp (v2 blocks); copies are the block's payload copies that
 * reached this peer by any route, the orderer's included, so 1 is the least a peer can get.
 */
export interface BlockFigures {
  /** Committed blocks the figures cover (at most the window, only blocks committed since the peer started). */
  window: number;
  latencyP50Ms: number | null;
  latencyP99Ms: number | null;
  copiesPerBlock: number | null;
  /** copiesPerBlock by the route the copies came: orderer (deliver), push (DataMsg), pull (update items),
   *  stateTransfer (state response blocks). */
  copiesBySource: { orderer: number; push: number; pull: number; stateTransfer: number } | null;
}

/**
 * Extension: the current state value of the channel's machines, read from the live actors' snapshots (the
 * values the inspection stream carries), nested states as a dotted path (`dynamic.leading.declaring`).
 * Null when the machine does not run (state transfer off, deliver absent, peer not running).
 */
export interface MachineStates {
  election: string | null;
  stateTransfer: string | null;
  deliver: string | null;
}

/**
 * Extension: the channel's ledger storage. `ok` false while commits fail (a full disk, an I/O error): the peer
 * keeps running, backs off and retries, and resumes when the storage works again; `failures` counts failed
 * commits since start, `lastError` is the last one's message. Null when the channel's ledger is not open.
 */
export interface StorageHealth {
  ok: boolean;
  failures: number;
  lastError: string | null;
}

export interface StatusRow {
  id: string;
  org: string;
  channel: string;
  pid: number | null;
  role: Role | null;
  leaderId: string | null;
  height: number | null;
  tipHash: string | null;
  state: 'syncing' | 'synced' | 'disabled' | null;
  members: string[] | null;
  natsConnected: boolean;
  opsUrl: string | null;
  counters: StatusCounters;
  /** Extension (README): block latency and copies; null when the channel's ledger is not open. */
  blocks: BlockFigures | null;
  /** Extension (README): the machines' current states. */
  machines: MachineStates;
  /** Extension (README): the ledger storage's health. */
  storage: StorageHealth | null;
}

export const STATUS_FIELDS: readonly (keyof StatusRow)[] = [
  'id',
  'org',
  'channel',
  'pid',
  'role',
  'leaderId',
  'height',
  'tipHash',
  'state',
  'members',
  'natsConnected',
  'opsUrl',
  'counters',
  // Extensions to the contract (README "Extensions to the contract").
  'blocks',
  'machines',
  'storage',
];

/** An XState state value as one string: `a.b.c` for nested states, `p.x, q.y` for parallel regions. */
export function stateValueString(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (!v || typeof v !== 'object') return null;
  const parts = Object.entries(v as Record<string, unknown>).map(([k, sub]) => {
    const rest = stateValueString(sub);
    return rest === null ? k : `${k}.${rest}`;
  });
  return parts.length ? parts.join(', ') : null;
}

/** The status request is plain JSON over request/reply, outside the signed gossip wire. */
export function encodeStatusRows(rows: StatusRow[]): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(rows));
}

export function decodeStatusRows(bytes: Uint8Array): StatusRow[] | null {
  try {
    const v = JSON.parse(new TextDecoder().decode(bytes));
    return Array.isArray(v) && v.every((r) => r && typeof r.id === 'string' && typeof r.channel === 'string') ? v : null;
  } catch {
    return null;
  }
}
