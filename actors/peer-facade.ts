// What a running peer offers its embedder beyond start/stop: views of its channels' parts, leaving a channel
// at run time, and taking a CA's revocation list. Each reaches the tree through the root actor's events or the
// narrow parts it is given, never by holding state of its own.
import type { Actor, AnyStateMachine } from 'xstate';
import type { ChannelParts } from './channel-parts.ts';
import type { Discovery } from './discovery.actor.ts';
import type { StateInfoTracker } from './stateinfo-tracker.ts';
import type { Peer, PeerDeps } from './peer.types.ts';

export interface FacadeParts {
  actor: Actor<AnyStateMachine>;
  channels: Map<string, ChannelParts>;
  stateInfo: Map<string, StateInfoTracker>;
  discovery: Discovery;
  codec: PeerDeps['codec'];
  /** Unsubscribes this peer from a channel's subjects (org and channel-wide). */
  unsubscribeChannel: (channel: string) => void;
}

type Facade = Pick<Peer, 'elections' | 'ledgers' | 'queues' | 'gossip' | 'leaveChannel' | 'applyRevocationList'>;

export function peerFacade(f: FacadeParts): Facade {
  const view = <T>(pick: (p: ChannelParts) => T | null) =>
    new Map([...f.channels].flatMap(([name, p]) => {
      const v = pick(p);
      return v === null ? [] : [[name, v] as [string, T]];
    }));
  return {
    get elections() {
      return view((p) => p.election);
    },
    get ledgers() {
      return view((p) => p.ledger);
    },
    get queues() {
      return view((p) => p.queue);
    },
    get gossip() {
      return view((p) => p.gossip);
    },
    leaveChannel: (channel) => {
      if (!f.channels.has(channel) || !f.actor.getSnapshot().matches('running')) return false;
      f.stateInfo.get(channel)!.leave();
      f.actor.send({ type: 'channel.leave', channel });
      f.channels.delete(channel);
      f.unsubscribeChannel(channel);
      return true;
    },
    applyRevocationList: (bytes) => {
      const r = f.codec.trust.applyRevocations(bytes);
      if (!r.ok) return r;
      const purged = f.discovery.suspect((m) => f.codec.trust.isRevoked(m.mspId, m.pkiIdHex), 'cert-revoked');
      return { ...r, purged: purged.map((m) => m.id) };
    },
  };
}
