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
];

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
