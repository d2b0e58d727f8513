// StateInfo and the channel view (issue 4, digest §4.9 / §5.1), plus forgetting with protected anchors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Harness } from '../../runtime/sim/harness.ts';
import { classify, kindOf, peek } from '../../runtime/sim/kinds.ts';
import { toHex } from '../../runtime/util/bytes.ts';
import { FABRIC_TIMINGS as T } from '../helpers/timings.ts';

const ids = (xs: { id: string }[]) => xs.map((x) => x.id).sort();

test('channel view = alive peers with a StateInfo; heights propagate only when changed', async () => {
  const h = await Harness.create({ orgs: 2, peers: 3, seed: 'stateinfo', signer: 'sim' });
  try {
    const tracker = (id: string) => h.peers.get(id)!.peer!.stateInfo.get('channel1')!;
    const full = () => ids(tracker('peer1.org1').channelPeers()).join() === 'peer0.org1,peer2.org1' && ids(tracker('peer0.org1').channelPeers()).join() === 'peer0.org2,peer1.org1,peer2.org1';
    assert.ok(await h.until(full, 60_000, 250), 'channel views complete');
    assert.equal(tracker('peer0.org1').channelPeers().map((p) => p.height), [1, 1, 1]);

    // Count StateInfo messages: none while nothing changes, then one round after a height change.
    let published = 0;
    h.network.taps.add((_f, _subject, bytes) => void (kindOf(bytes) === 'stateInfo' && published++));
    await h.advance(3 * T.publishStateInfoInterval);
    assert.is(published, 0, 'no StateInfo while heights are unchanged');
    tracker('peer2.org1').setHeight(7);
    assert.ok(await h.until(() => tracker('peer1.org1').maxHeight() === 7, 2 * T.publishStateInfoInterval, 100), 'new height seen');
    assert.is(published, 1, 'one publish (org subject only: peer2 is internal-only)');
    // A foreign peer without an external endpoint is not in an org's view; the anchor is.
    assert.not.ok(ids(tracker('peer0.org2').channelPeers()).includes('peer2.org1'));
  } finally {
    await h.stop();
  }
});

test('peers started in the same instant publish their StateInfo and alive messages at different phases of the interval', async () => {
  // Without a random first delay every peer of one `murmur up` signs in the same instant of every period, and
  // each receiver verifies them all in one burst that holds up the blocks behind it.
  const h = await Harness.create({ orgs: 1, peers: 6, seed: 'phase', signer: 'sim' });
  try {
    await h.advance(3 * T.aliveTimeInterval);
    const phases = { stateInfo: new Map<string, number>(), alive: new Map<string, number>() };
    h.network.taps.add((from, _subject, bytes) => {
      const k = kindOf(bytes);
      if (k === 'stateInfo') phases.stateInfo.set(from, h.clock.now() % T.publishStateInfoInterval);
      // Alive messages are also forwarded and answered; the first one seen from each sender is its heartbeat (in
      // the murmur profile SWIM's ping is: alive messages go out only when they change).
      if ((k === 'alive' || k === 'ping') && !phases.alive.has(from)) phases.alive.set(from, h.clock.now() % T.aliveTimeInterval);
    });
    for (const p of h.peers.values()) p.peer!.stateInfo.get('channel1')!.setHeight(50);
    await h.advance(2 * T.aliveTimeInterval + 2 * T.publishStateInfoInterval);
    assert.is(phases.stateInfo.size, 6, 'every peer published');
    assert.ok(new Set(phases.stateInfo.values()).size >= 5, `StateInfo phases ${[...phases.stateInfo.values()]}`);
    assert.ok(new Set(phases.alive.values()).size >= 5, `alive phases ${[...phases.alive.values()]}`);
  } finally {
    await h.stop();
  }
});

test('a commit moves the own height (ownHeight$), not the view (changes$): what follows the view is not recomputed per block', async () => {
  const h = await Harness.create({ orgs: 1, peers: 2, seed: 'own-height', signer: 'sim' });
  try {
    const t = h.peers.get('peer0.org1')!.peer!.stateInfo.get('channel1')!;
    const own: number[] = [];
    let view = 0;
    const subs = [t.ownHeight$.subscribe((x) => own.push(x)), t.changes$.subscribe(() => view++)];
    const at = t.ownHeight();
    t.setHeight(at + 1);
    t.setHeight(at + 1);
    t.setHeight(at + 2);
    for (const s of subs) s.unsubscribe();
    assert.equal(own, [at + 1, at + 2], 'each change once');
    assert.is(view, 0, 'the view did not change');
  } finally {
    await h.stop();
  }
});

test('StateInfo pull fills a late joiner\'s view without waiting for a height change', async () => {
  const h = await Harness.create({ orgs: 1, peers: 4, seed: 'sipull', signer: 'sim' });
  try {
    await h.advance(3 * T.publishStateInfoInterval);
    await h.crash('peer3.org1');
    await h.advance(1000);
    await h.start('peer3.org1');
    const view = () => ids(h.peers.get('peer3.org1')!.peer!.stateInfo.get('channel1')!.channelPeers());
    assert.ok(await h.until(() => view().join() === 'peer0.org1,peer1.org1,peer2.org1', 4 * T.requestStateInfoInterval + T.aliveTimeInterval, 250), `view ${view()}`);
  } finally {
    await h.stop();
  }
});

test('dead peers are forgotten after expiration x msgExpirationFactor, anchor peers are kept and probed', async () => {
  const timings = { aliveTimeInterval: 100, aliveExpirationTimeout: 500, reconnectInterval: 500, msgExpirationFactor: 4, pullInterval: 400 };
  const h = await Harness.create({ orgs: 1, peers: 3, seed: 'forget', signer: 'sim', timings });
  try {
    const table = () => h.peers.get('peer1.org1')!.peer!.discovery.table;
    assert.ok(await h.until(() => table().alive().length === 2, 5000, 50));
    const anchor = h.peers.get('peer0.org1')!;
    const other = h.peers.get('peer2.org1')!;
    await h.crash('peer0.org1');
    await h.crash('peer2.org1');
    await h.advance(500 * 4 + 1500);
    assert.is(table().get(other.pkiIdHex), undefined, 'non-anchor forgotten');
    assert.is(table().get(anchor.pkiIdHex)?.status, 'dead', 'anchor kept as dead');
    await h.advance(10_000);
    assert.is(table().get(anchor.pkiIdHex)?.status, 'dead', 'still kept');
    // Probed every reconnectInterval: when it comes back it is resurrected without any new bootstrap.
    await h.start('peer0.org1');
    assert.ok(await h.until(() => table().get(anchor.pkiIdHex)?.status === 'alive', 2000, 50), 'resurrected');
  } finally {
    await h.stop();
  }
});

test('a snapshot sent to an internal-only peer carries no other org\'s StateInfo (it would drop it); an external peer gets them', async () => {
  // Two external peers per org (peer0, peer1) and one internal-only (peer2). The fabric profile, so every pull
  // request is answered and snapshots flow both ways all the time.
  const h = await Harness.create({ orgs: 2, peers: 3, seed: 'stateinfo-internal', signer: 'sim', peerOptions: { profile: 'fabric' }, perPeer: (id) => ({ externalEndpoint: id.startsWith('peer2.') ? '' : id }) });
  try {
    const orgOf = new Map([...h.peers.values()].map((p) => [p.pkiIdHex, p.org]));
    const foreign = { internal: 0, external: 0 };
    h.network.deliveryTaps.add((_from, to, _subject, bytes) => {
      const c = classify(bytes);
      const me = h.peers.get(to);
      if (c.kind !== 'stateInfoSnapshot' || !me) return;
      for (const e of c.embedded) {
        const q = peek(e);
        if (q?.payload.t === 'stateInfo' && orgOf.get(toHex(q.payload.pkiId)) !== me.org) foreign[to.startsWith('peer2.') ? 'internal' : 'external']++;
      }
    });
    await h.advance(60_000);
    assert.ok(foreign.external > 0, `external peers get the other org's StateInfo in snapshots (${foreign.external})`);
    assert.is(foreign.internal, 0, 'internal-only peers are sent none');
  } finally {
    await h.stop();
  }
});

test.run();
