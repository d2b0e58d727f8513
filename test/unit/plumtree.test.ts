// Plumtree link rules (machines/plumtree.logic.ts), table by table.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AVOID_SYNCS, MAX_ASKS, PlumTree, type TreeSettings } from '../../machines/plumtree.logic.ts';

const S: TreeSettings = { fanout: 2, maxLinks: 4, graftTimeout: 50, maxAnnouncers: 2, maxMissing: 3, skipAfter: 2, skipFor: 1000 };
const first = (xs: string[], k: number) => xs.slice(0, k);
const H = new Uint8Array(32);

test('sync opens fanout eager out-links, drops links to departed members and replaces them', () => {
  const t = new PlumTree(S);
  assert.equal(t.sync(['a', 'b', 'c', 'd'], first), ['a', 'b']);
  assert.equal(t.eager(), ['a', 'b']);
  assert.equal(t.sync(['a', 'b', 'c', 'd'], first), [], 'already at fanout');
  assert.equal(t.sync(['b', 'c', 'd'], first), ['c'], 'a left the view: replaced');
  assert.equal(t.eager().sort(), ['b', 'c']);
  assert.is(t.link('a'), undefined);
});

test('an out-link stays unconfirmed until the other end sends anything over it', () => {
  const t = new PlumTree(S);
  t.sync(['a', 'b', 'c'], first);
  assert.equal(t.unconfirmed(), ['a', 'b'], 'the opener asks again until answered');
  t.heard('a');
  t.onPrune('b');
  assert.equal(t.unconfirmed(), []);
  t.heard('c');
  assert.equal(t.link('c'), { eager: false, out: false, confirmed: true, lastSeq: -1, asked: 0 }, 'an announcer becomes a lazy in-link');
});

test('an out-link left unanswered MAX_ASKS times is given up for another peer, which is avoided for a while', () => {
  const t = new PlumTree(S);
  t.sync(['a', 'b', 'c', 'd'], first);
  t.heard('b');
  for (let i = 0; i < MAX_ASKS; i++) assert.equal(t.asks(), ['a']);
  assert.equal(t.sync(['a', 'b', 'c', 'd'], first), ['c'], 'a abandoned, c chosen instead');
  assert.is(t.link('a'), undefined);
  assert.is(t.stats.linksAbandoned, 1);
  t.heard('c');
  t.onPrune('c');
  for (let i = 0; i < AVOID_SYNCS - 2; i++) t.sync(['a', 'b', 'c', 'd'], first);
  assert.is(t.link('a'), undefined, 'a is avoided while the count runs');
});

test('a link request opens an eager link, and leaves an existing link as it is', () => {
  const t = new PlumTree(S);
  assert.ok(t.onLinkRequest('a'));
  assert.ok(t.link('a')?.eager);
  t.onPrune('a');
  assert.ok(t.onLinkRequest('a'));
  assert.not.ok(t.link('a')?.eager, 'a re-asked lazy link stays lazy');
});

test('first payload makes its relayer eager; a duplicate makes it lazy and asks for a prune', () => {
  const t = new PlumTree(S);
  t.sync(['a', 'b'], first);
  assert.equal(t.onPayload('a', true), { prune: false });
  assert.equal(t.onPayload('b', false), { prune: true });
  assert.equal(t.eager(), ['a']);
  assert.equal(t.lazy(), ['b']);
  assert.equal(t.eager('a'), [], 'the relayer is excluded from forwarding');
  t.onPrune('a');
  assert.equal(t.lazy().sort(), ['a', 'b']);
  assert.equal(t.onPayload(null, false), { prune: false }, 'unknown relayer: nothing to prune');
});

test('grafts add in-links up to maxLinks, then are refused and counted', () => {
  const t = new PlumTree(S);
  t.sync(['a', 'b', 'c', 'd', 'e'], first);
  assert.ok(t.onGraft('c'));
  assert.ok(t.onGraft('d'));
  assert.not.ok(t.onGraft('e'), 'links full');
  assert.is(t.stats.linksRefused, 1);
  assert.equal(t.link('c'), { eager: true, out: false, confirmed: true, lastSeq: -1, asked: 0 });
  assert.is(t.size, 4);
});

test('an announcement arms once; the timer grafts announcers in order, then gives up', () => {
  const t = new PlumTree(S);
  assert.is(t.onIHave('a', 7, H, 0), 'arm');
  assert.is(t.onIHave('b', 7, H, 1), 'noted');
  assert.is(t.onIHave('c', 7, H, 2), 'noted', 'beyond maxAnnouncers: not remembered');
  assert.equal(t.onTimer(7, 50), { graft: 'a', eager: false });
  assert.is(t.link('a'), undefined, 'one repair does not re-attach the tree');
  assert.equal(t.onTimer(7, 100), { graft: 'b', eager: false });
  assert.equal(t.onTimer(7, 150), { giveUp: true });
  assert.is(t.stats.failures, 2);
  assert.is(t.onTimer(7, 200), null, 'forgotten after giving up');
});

test('out of announcers, links that did not announce are asked (without counting their silence), then it gives up', () => {
  const t = new PlumTree(S);
  t.sync(['x', 'y', 'z'], first);
  t.onIHave('gone', 9, H, 0);
  assert.equal(t.onTimer(9, 50), { graft: 'gone', eager: false });
  assert.equal(t.onTimer(9, 100), { graft: 'x', eager: false }, 'fallback to an eager link');
  assert.equal(t.onTimer(9, 150), { graft: 'y', eager: false });
  assert.equal(t.onTimer(9, 200), { giveUp: true }, 'at most maxAnnouncers fallbacks');
  assert.is(t.stats.failures, 1, 'only the announcer that went silent counts');
});

test('a gap makes the relayer of the later block an announcer of the missing one', () => {
  const t = new PlumTree(S);
  assert.is(t.onGap('x', 4, 0), 'arm');
  assert.is(t.announcedHash(4), null, 'no hash known from a gap');
  assert.is(t.onIHave('y', 4, H, 10), 'noted');
  assert.equal(t.announcedHash(4), H, 'a later announcement brings the hash');
  assert.equal(t.onTimer(4, 50), { graft: 'x', eager: false });
});

test('a lazy link silent for more than the slack is asked again; eager links are not judged', () => {
  const t = new PlumTree(S);
  t.sync(['a', 'b'], first);
  t.heard('a');
  t.heard('b');
  t.onPayload('a', false); // a → lazy
  t.heardSeq('b', 1);
  t.heardSeq('a', 1);
  for (let seq = 2; seq <= 12; seq++) t.heardSeq('b', seq);
  t.reconfirmSilent(8);
  assert.equal(t.unconfirmed(), ['a'], 'the silent lazy link');
  t.reconfirmSilent(8);
  assert.equal(t.unconfirmed(), ['a'], 'asked once per silence, not re-armed');
});

test('a repair fetches only; a second repair in a row re-attaches the tree with an eager graft', () => {
  const t = new PlumTree(S);
  t.onIHave('a', 1, H, 0);
  assert.equal(t.onTimer(1, 50), { graft: 'a', eager: false });
  assert.ok(t.received(1, 'a'), 'the graft answered: a repair');
  t.onIHave('a', 2, H, 100);
  assert.equal(t.onTimer(2, 150), { graft: 'a', eager: true });
  assert.ok(t.link('a')?.eager);
  assert.ok(t.received(2, 'a'));
  assert.not.ok(t.received(3, 'b'), 'a payload down the tree is no repair');
  t.onIHave('a', 4, H, 200);
  assert.equal(t.onTimer(4, 250), { graft: 'a', eager: false }, 'the streak ended');
});

test('a block that arrives clears its timer; the announcer that delivered is in good standing', () => {
  const t = new PlumTree(S);
  t.onIHave('a', 7, H, 0);
  t.onTimer(7, 50);
  t.received(7, 'a');
  assert.is(t.onTimer(7, 100), null);
  assert.not.ok(t.isMissing(7));
  t.onIHave('a', 8, H, 100);
  t.committedBelow(9);
  assert.is(t.missingCount, 0);
});

test('an announcer that never delivers is skipped for skipFor after skipAfter failures', () => {
  const t = new PlumTree(S);
  for (const seq of [1, 2]) {
    t.onIHave('liar', seq, H, 0);
    assert.equal(t.onTimer(seq, 50), { graft: 'liar', eager: false });
    assert.equal(t.onTimer(seq, 100), { giveUp: true });
  }
  assert.ok(t.skipped('liar', 100));
  assert.is(t.onIHave('liar', 3, H, 100), 'skipped');
  assert.is(t.stats.skippedAnnouncements, 1);
  assert.not.ok(t.skipped('liar', 1100), 'skip ends');
  assert.is(t.onIHave('liar', 3, H, 1100), 'arm');
});

test('a skipped announcer is passed over when its turn comes', () => {
  const t = new PlumTree(S);
  for (const seq of [1, 2]) {
    t.onIHave('liar', seq, H, 0);
    t.onTimer(seq, 50);
    t.onTimer(seq, 100);
  }
  // 'liar' announced 5 before it was skipped; 'good' announced too.
  const u = new PlumTree(S);
  u.onIHave('liar', 5, H, 0);
  u.onIHave('good', 5, H, 0);
  assert.equal(u.onTimer(5, 50), { graft: 'liar', eager: false });
  assert.equal(u.onTimer(5, 100), { graft: 'good', eager: false }, 'the silent one counted a failure, the next is asked');
  assert.is(u.stats.failures, 1);
  assert.ok(t.skipped('liar', 150));
});

test('missing blocks are bounded: the oldest is dropped', () => {
  const t = new PlumTree(S);
  for (const seq of [10, 11, 12, 13]) t.onIHave('a', seq, H, 0);
  assert.is(t.missingCount, 3);
  assert.not.ok(t.isMissing(10));
  assert.is(t.stats.missingDropped, 1);
});

test.run();
