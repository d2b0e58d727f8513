// The peer-level concerns beside the channels: discovery (membership over every channel) and one StateInfo
// tracker per channel (heights and the channel view), plus the endpoints the session dials at start
// (bootstrap and anchor peers, never this peer itself) and the members it probes as discovery learns them;
// forgetting a member leaves the session table too.
import { fromCallback, type EventObject } from 'xstate';
import { filter, map } from 'rxjs';
import type { Genesis } from '../runtime/ledger/channel-config.ts';
import { Discovery } from './discovery.actor.ts';
import { StateInfoTracker } from './stateinfo-tracker.ts';
import type { InboundPort } from './inbound-router.ts';
import type { PeerDeps, PeerOptions } from './peer.types.ts';
import type { SessionTable } from './session.actor.ts';
import type { Sealer } from '../runtime/wire/sealer.ts';

export const orgsOf = (g: Genesis) => g.config.orgs.map((x) => x.mspId);

export function peerConcerns(o: PeerOptions, d: PeerDeps, inbound: InboundPort, incNum: number, sessions: SessionTable, sealer: Sealer) {
  const anchors = o.channels.flatMap((c) => c.genesis.config.anchorPeers);
  // murmur profile: alive messages and StateInfo reach every peer directly (org and channel subjects), so the
  // anti-entropy rounds ask one peer; the fabric profile gossips alive messages to propagatePeerNum peers (each
  // forwarded once by every peer that finds it new) and asks pullPeerNum, as Fabric does.
  // Same-org rounds carry a digest of what the requester holds, so a converged network's rounds go unanswered.
  const fabric = o.profile === 'fabric';
  const syncPeerNum = o.discovery?.syncPeerNum ?? (fabric ? undefined : 1);
  const quietSync = !fabric;
  const common = { transport: d.transport, inbound, codec: d.codec, signer: d.signer, clock: d.clock, prefix: o.prefix, externalEndpoint: o.externalEndpoint, incNum, timings: o.timings, syncPeerNum, quietSync };
  const discovery = new Discovery({
    ...common,
    rng: d.rng.fork('discovery'),
    internalEndpoint: o.internalEndpoint ?? d.transport.endpoint,
    bootstrap: o.bootstrap,
    anchors,
    channels: o.channels.map((c) => c.name),
    sessions,
    syncPeriod: o.discovery?.syncPeriod,
    aliveFanout: o.discovery?.aliveFanout ?? (fabric ? o.timings.propagatePeerNum : undefined),
    ...(!fabric && o.membership !== 'broadcast' ? { swim: { sealer } } : {}),
  });
  const stateInfo = new Map(
    o.channels.map(({ name, genesis }) => [name, new StateInfoTracker({ ...common, channel: name, orgs: orgsOf(genesis), rng: d.rng.fork(`stateinfo:${name}`), discovery, height: 1 })]),
  );
  const own = new Set([d.transport.endpoint, o.peerId]);
  const targets = [...new Set([...o.bootstrap, ...anchors.map((a) => a.endpoint)])].filter((e) => !own.has(e));
  /** The root machine's `stateInfo` child: every tracker runs while the peer runs. */
  const stateInfoLogic = fromCallback<EventObject>(() => {
    for (const t of stateInfo.values()) t.start();
    return () => {
      for (const t of stateInfo.values()) t.stop();
    };
  });
  // A member discovery forgets or purges leaves the session table too (its binding and proven inbox).
  discovery.events$.pipe(filter((e) => e.type === 'forgotten' || e.type === 'purged')).subscribe((e) => sessions.forget(e.member.pkiIdHex));
  // Every member discovery learns is probed once (the session's members$), so bulk replies to it are proven
  // before it asks.
  const members$ = discovery.events$.pipe(
    filter((e) => e.type === 'joined' || e.type === 'resurrected'),
    map((e) => discovery.endpointFor(e.member.pkiIdHex)),
    filter((e): e is string => !!e),
  );
  return { discovery, stateInfo, targets, stateInfoLogic, members$ };
}
