// `murmur status` rows (actors/status-row.ts, the contract's fields) from narrow getters: the peer assembly hands
// over what each field is read from, and nothing here reaches into actors or closures. Unknown is null, never
// a guess: a channel whose actor is not running has no height, tip or machine states.
import { stateValueString, type MachineStates, type Role, type StatusRow } from './status-row.ts';
import type { ChannelParts } from './channel-parts.ts';

/** A running actor's snapshot as the reporter reads it (state value, status, named children). */
export type SnapshotSource = { getSnapshot(): { value?: unknown; status?: string; context?: unknown; children?: Record<string, SnapshotSource | undefined> } } | undefined;

export interface StatusSources {
  peerId: string;
  mspId: string;
  pid: number | null;
  opsUrl: string | null;
  /** Without an election binding (static modes, or not running): the configured role and leader. */
  staticRole: Role;
  staticLeaderId: string | null;
  stateEnabled: boolean;
  channels(): string[];
  /** The channel actor (machines/channel.machine.ts) while it runs. */
  channelActor(channel: string): SnapshotSource;
  parts(channel: string): ChannelParts | undefined;
  blocksFromOrderer(channel: string): number;
  /** Live members' peer ids. */
  members(): string[];
  natsConnected(): boolean;
  /** Every refusal counted for this channel (wire, ledger, served requests). */
  rejected(channel: string): Record<string, number>;
}

const valueOf = (ref: SnapshotSource): string | null => {
  const s = ref?.getSnapshot();
  return s && s.status === 'active' ? stateValueString(s.value) : null;
};

function machinesOf(channelActor: SnapshotSource): MachineStates {
  const children = channelActor?.getSnapshot().children ?? {};
  return { election: valueOf(children.election), stateTransfer: valueOf(children.stateTransfer), deliver: valueOf(children.deliver) };
}

export function statusRows(s: StatusSources): StatusRow[] {
  const members = s.members().sort();
  return s.channels().map((channel) => {
    const ref = s.channelActor(channel);
    const ch = ref?.getSnapshot().context as { height: number; tipHash: string } | undefined;
    const p = s.parts(channel);
    const c = p?.gossip.counters();
    const election = p?.election ?? null;
    const transfer = p?.gossip.stateTransfer;
    return {
      id: s.peerId,
      org: s.mspId,
      channel,
      pid: s.pid,
      role: election?.role() ?? s.staticRole,
      leaderId: election ? election.leaderId() : s.staticLeaderId,
      height: ch?.height ?? null,
      tipHash: ch?.tipHash ?? null,
      state: !s.stateEnabled ? 'disabled' : (transfer?.state() ?? null),
      members,
      natsConnected: s.natsConnected(),
      opsUrl: s.opsUrl,
      counters: {
        blocksFromOrderer: s.blocksFromOrderer(channel),
        blocksByPush: c?.blocksByPush ?? null,
        blocksByPull: c?.blocksByPull ?? null,
        blocksByStateTransfer: c?.blocksByStateTransfer ?? null,
        duplicates: c?.duplicates ?? null,
        rejected: s.rejected(channel),
      },
      blocks: p?.stats.figures() ?? null,
      machines: machinesOf(ref),
      storage: p ? p.queue.storage$.value : null,
    };
  });
}

/** Every refusal of a channel: the wire's and the ledger's, and requests the transport refused to answer (a
 * reply subject outside _INBOX: hostile input, so a rejection; its other drops are not). */
export function rejectedCounts(wire: Record<string, number>, ledger: Record<string, number>, dropped: Record<string, number>): Record<string, number> {
  const out = { ...wire };
  const add = (k: string, v: number) => void (out[k] = (out[k] ?? 0) + v);
  for (const [k, v] of Object.entries(ledger)) add(k, v);
  if (dropped['reply-not-inbox']) add('reply-not-inbox', dropped['reply-not-inbox']);
  return out;
}
