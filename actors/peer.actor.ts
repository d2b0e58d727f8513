// Peer assembly: binds the pure root machine (machines/peer.machine.ts) to the transport, signer, clock and
// randomness it is given. The same assembly runs in real time on NATS (runtime/peer.ts) and in simulated
// time on the in-memory network (runtime/sim/harness.ts).
//   peer (machines/peer.machine.ts)
//     start / stop          subscriptions, NATS, the channels' ledgers and parts (peer-lifecycle.ts)
//     session, discovery, stateInfo                     peer-level concerns, beside the channels (peer-concerns.ts)
//     channel:<name> (machines/channel.machine.ts, actors/channel.actor.ts)
//       election, deliver (+ its feed), stateTransfer  machines
//       commit, electionLink, dissemination, pull, stateServer, stateTransferLink   ports
// Status rows come from actors/status-reporter.ts over narrow getters.
import { createActor } from 'xstate';
import { peerMachine, channelActorId } from '../machines/peer.machine.ts';
import { subjects as subjectsOf } from '../runtime/transport/subjects.ts';
import { sessionLogic, SessionTable } from './session.actor.ts';
import { SessionKeys } from '../runtime/crypto/session-keys.ts';
import { Sealer } from '../runtime/wire/sealer.ts';
import { discoveryLogic } from './discovery.actor.ts';
import { ElectionBinding } from './election-binding.ts';
import { encodeStatusRows, type StatusRow } from './status-row.ts';
import { statusRows, rejectedCounts } from './status-reporter.ts';
import { deliverLogic } from './deliver.actor.ts';
import { channelActorLogic } from './channel.actor.ts';
import { InboundRouter } from './inbound-router.ts';
import { channelParts, type ChannelParts } from './channel-parts.ts';
import { peerConcerns, orgsOf } from './peer-concerns.ts';
import { lifecycleLogic, rootControl } from './peer-lifecycle.ts';
import { electionMode, peerInput } from './peer-input.ts';
import { peerFacade } from './peer-facade.ts';
import type { Peer, PeerDeps, PeerOptions } from './peer.types.ts';
import { stateWindowOf } from '../machines/state-window.logic.ts';

export type { Peer, PeerDeps, PeerOptions, PeerTimings } from './peer.types.ts';

export function createPeer(o: PeerOptions, d: PeerDeps): Peer {
  const subjects = subjectsOf(o.prefix);
  // Incarnation: given by the caller (persisted so it never goes backwards), else the clock at start.
  const incNum = o.incNum ?? d.clock.now();
  // Pairwise message keys, agreed in the session probes: received tags are checked by the codec, sent ones made
  // by the sealer (runtime/crypto/session-keys.ts).
  const keys = new SessionKeys({ pkiId: d.signer.identity.pkiId, incNum }, d.rng.fork('session-keys').bytes(32));
  const sessions = new SessionTable(keys);
  d.codec.bindTagKeys({ self: d.signer.identity.pkiId, recvKey: (pkiIdHex) => keys.recvKey(pkiIdHex) });
  const sealer = new Sealer(d.signer, keys);
  // One inbound router: every concern registers its (kind, channel); it subscribes to the transport at start.
  const inbound = new InboundRouter(d.transport.inbound$);
  const { discovery, stateInfo, targets, stateInfoLogic, members$ } = peerConcerns(o, d, inbound, incNum, sessions, sealer);
  const mode = electionMode(o);
  const profile = o.profile ?? 'murmur';
  const channels = new Map<string, ChannelParts>();
  const deliver = deliverLogic({ feed: d.feed, queue: (c) => channels.get(c)?.queue, rng: d.rng.fork('deliver') });
  const stateWindow = stateWindowOf(profile, { batchSize: o.timings.stateBatchSize, responseTimeout: o.timings.stateResponseTimeout }, o.stateWindow);
  const gossipSettings = { ...o.timings, gossip: { stateEnabled: o.stateEnabled, mode: o.dissemination, pull: o.pull, tree: o.tree, stateWindow, ...(o.limits ? { limits: o.limits } : {}) } };

  const open = async () => {
    for (const { genesis } of o.channels) {
      const ledger = await d.ledgers.open(genesis);
      const name = ledger.channel;
      const ctx = { channel: name, orgs: orgsOf(genesis), transport: d.transport, inbound, codec: d.codec, signer: d.signer, sealer, clock: d.clock, rng: d.rng.fork(`dissemination:${name}`), stateInfo: stateInfo.get(name)!, discovery, sessions, dependsOnOthers: mode !== 'static-leader', profile };
      channels.set(name, channelParts(ledger, d.codec.rejections, ctx, gossipSettings));
    }
  };

  const status = (): StatusRow[] =>
    statusRows({
      peerId: o.peerId,
      mspId: o.mspId,
      pid: o.pid ?? null,
      opsUrl: o.opsUrl ?? null,
      staticRole: mode === 'standby' ? 'standby' : 'leader',
      staticLeaderId: mode === 'static-leader' ? o.peerId : null,
      stateEnabled: o.stateEnabled,
      channels: () => actor.getSnapshot().context.channels.map((c) => c.channel),
      channelActor: (ch) => actor.getSnapshot().children[channelActorId(ch)] as never,
      parts: (ch) => channels.get(ch),
      blocksFromOrderer: (ch) => deliver.stats(ch)?.blocksFromOrderer ?? 0,
      members: () => discovery.aliveMembers().map((m) => m.id),
      natsConnected: () => d.transport.connected,
      rejected: (ch) => rejectedCounts(d.codec.rejections.snapshot(), channels.get(ch)?.ledger.rejections.snapshot() ?? {}, d.transport.stats.dropped),
    });

  const lifecycle = lifecycleLogic({
    transport: d.transport,
    codec: d.codec,
    inbound,
    subjects: [...o.channels.flatMap(({ name }) => [subjects.org(o.mspId, name), subjects.channel(name)]), subjects.discoveryOrg(o.mspId), subjects.discoveryExternal()],
    statusSubject: subjects.status(),
    open,
    closeLedgers: () => d.ledgers.close(),
    status: () => encodeStatusRows(status()),
    connected: (connected) => actor.send({ type: 'transport.status', connected }),
  });
  const session = { transport: d.transport, inbound, signer: d.signer, clock: d.clock, rng: d.rng.fork('session'), incNum, targets, members$, dialTimeoutMs: o.dialTimeoutMs, reconnectIntervalMs: o.reconnectIntervalMs, maxConnectionAttempts: o.maxConnectionAttempts };
  const machine = peerMachine.provide({
    actors: {
      ...lifecycle,
      session: sessionLogic(session, sessions),
      discovery: discoveryLogic(discovery),
      stateInfo: stateInfoLogic,
      channel: channelActorLogic({
        parts: (ch) => channels.get(ch),
        deliver: deliver.machine,
        delivered$: deliver.delivered$,
        electionBinding: (channel, election) =>
          new ElectionBinding({ channel, actor: election, transport: d.transport, inbound, codec: d.codec, signer: d.signer, prefix: o.prefix, stateInfo: stateInfo.get(channel)!, discovery, incNum, peerId: o.peerId }),
      }),
    },
  });

  const input = peerInput(o, { self: d.signer.identity.pkiIdHex, mode, profile, rng: d.rng });
  const actor = createActor(machine, { input, clock: d.clock, inspect: o.inspect, systemId: `peer:${o.peerId}` });
  d.codec.learn(d.signer.identity);

  const facade = peerFacade({ actor, channels, stateInfo, discovery, codec: d.codec, unsubscribeChannel: (ch) => [subjects.org(o.mspId, ch), subjects.channel(ch)].forEach((s) => d.transport.unsubscribe(s)) });
  const peer = { actor, sessions, discovery, inbound, stateInfo, channels, delivered$: deliver.delivered$, ...rootControl(actor, o.peerId), status };
  // Descriptors, not a spread: the channel views are getters read when asked.
  return Object.defineProperties(peer, Object.getOwnPropertyDescriptors(facade)) as typeof peer & typeof facade;
}
