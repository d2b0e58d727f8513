// The root machine's input (machines/peer.machine.ts): each channel's head (genesis), election, deliver and
// state-transfer settings, from the peer's options.
import type { PeerInput } from '../machines/peer.machine.ts';
import type { ElectionMode, ElectionProfile } from '../machines/election.machine.ts';
import { FABRIC_DELIVER_TIMINGS } from '../machines/deliver.logic.ts';
import { stateWindowOf } from '../machines/state-window.logic.ts';
import { blockHash } from '../runtime/ledger/block.ts';
import { toHex } from '../runtime/util/bytes.ts';
import type { Rng } from '../runtime/rng.ts';
import type { PeerOptions } from './peer.types.ts';

export function electionMode(o: Pick<PeerOptions, 'useLeaderElection' | 'orgLeader'>): ElectionMode {
  return o.useLeaderElection ? 'dynamic' : o.orgLeader ? 'static-leader' : 'standby';
}

export function peerInput(o: PeerOptions, c: { self: string; mode: ElectionMode; profile: ElectionProfile; rng: Rng }): PeerInput {
  const t = o.timings;
  const w = stateWindowOf(c.profile, { batchSize: t.stateBatchSize, responseTimeout: t.stateResponseTimeout }, o.stateWindow);
  return {
    peerId: o.peerId,
    mspId: o.mspId,
    channels: o.channels.map(({ name, genesis }) => ({
      channel: name,
      height: 1,
      tipHash: toHex(blockHash(genesis.block)),
      ports: true,
      election: {
        self: c.self,
        mode: c.mode,
        profile: c.profile,
        timings: { startupGracePeriod: t.startupGracePeriod, membershipSampleInterval: t.membershipSampleInterval, leaderAliveThreshold: t.leaderAliveThreshold, leaderElectionDuration: t.leaderElectionDuration },
        maxLeaderLag: o.maxLeaderLag ?? 10,
      },
      deliver: { channel: name, ...(o.deliveryclient ?? FABRIC_DELIVER_TIMINGS) },
      ...(o.stateEnabled
        ? {
            stateTransfer: {
              profile: c.profile,
              height: 1,
              batchSize: w.batchSize,
              maxRetries: t.stateMaxRetries,
              inFlight: w.inFlight,
              timings: { checkInterval: t.stateCheckInterval, responseTimeout: t.stateResponseTimeout, minResponseTimeout: w.minResponseTimeout, retryBackoff: w.retryBackoff },
              seed: c.rng.fork(`stateTransfer:${name}`).int(2 ** 32),
            },
          }
        : {}),
    })),
  };
}
