// Consumers cannot be aimed (issue 18): with bus authorization on, a peer (an insider with valid credentials)
// tries every way of making the server write the block stream onto a subject it may not publish to — here the
// status subject every peer listens on: a push consumer of its own with that deliver subject (both create
// forms), a direct get and a pull request with that reply subject, a deliver request in another peer's name,
// and its own deliver request with that reply subject. None delivers a block there; the chain keeps growing;
// the orderer counts the refused request. Repeated deliver sessions of one peer leave one consumer behind.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { firstValueFrom, filter } from 'rxjs';
import { decodeBlock } from '../../runtime/ledger/block.ts';
import type { NatsCredentials } from '../../runtime/crypto/material.ts';
import { DeliverFeed } from '../../runtime/orderer/deliver.feed.ts';
import { loginOptions } from '../../runtime/transport/nats-login.ts';
import { inboxTokenFor, subjects } from '../../runtime/transport/subjects.ts';
import { parsePrometheus } from '../helpers/prometheus.ts';
import { rowsWhen, startUp, stopUp } from '../helpers/up-run.ts';
import type { CliRun } from '../helpers/cli.ts';

const dirs: string[] = [];
let running: CliRun | undefined;
test.after(() => {
  if (running && running.child.exitCode === null) running.child.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const maxHeight = (rs: { height: number | null }[]) => Math.max(0, ...rs.map((r) => r.height ?? 0));

test('a peer cannot make the server deliver the chain onto a subject it may not publish to (auth on)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'murmur-aim-'));
  dirs.push(dir);
  const { run, net } = await startUp(dir, ['--orgs', '2', '--peers', '1', '--load-rate', '20']);
  running = run;
  try {
    const before = await rowsWhen(dir, (rs) => rs.length === 2 && rs.every((r) => (r.height ?? 0) > 2), 60_000, 'heights above 2');
    const users = JSON.parse(readFileSync(net.natsUsers!, 'utf8')) as NatsCredentials;
    const s = subjects(net.prefix);
    const stream = s.blockStream('channel1');
    const target = s.status(); // every peer subscribes to it; no peer may publish to it
    const me = users.peers['peer0.org1']!;
    const login = loginOptions(me);
    const inbox = login.inboxPrefix!;
    const nc = await connect({ servers: net.natsUrl, ...login });
    const errors: string[] = [];
    void (async () => {
      for await (const st of nc.status()) if (st.type === 'error') errors.push(JSON.stringify((st.data as { permissionContext?: unknown })?.permissionContext ?? String(st.data)));
    })();
    let aimed = 0;
    nc.subscribe(target, { callback: (_e, m) => decodeBlock(m.data) && aimed++ });
    const consumer = { deliver_subject: target, deliver_policy: 'all', ack_policy: 'none' };
    nc.publish(`$JS.API.CONSUMER.CREATE.${stream}`, json({ stream_name: stream, config: consumer }), { reply: `${inbox}.x1` });
    nc.publish(`$JS.API.CONSUMER.CREATE.${stream}.aim.${s.blocks('channel1')}`, json({ stream_name: stream, config: { ...consumer, name: 'aim' } }), { reply: `${inbox}.x2` });
    nc.publish(`$JS.API.STREAM.MSG.GET.${stream}`, json({ seq: 1 }), { reply: target });
    nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${stream}.deliver_${inboxTokenFor(me.user)}`, json({ batch: 100 }), { reply: target });
    nc.publish(s.deliver('channel1', inboxTokenFor(users.peers['peer0.org2']!.user)), json({ from: 0, session: 'x' }), { reply: `${inbox}.deliver.channel1.x.r` });
    nc.publish(s.deliver('channel1', inboxTokenFor(me.user)), json({ from: 0, session: 'x' }), { reply: target });
    await nc.flush();

    // The chain keeps growing past the attempts, and the orderer counted the one request it saw.
    const h0 = maxHeight(before);
    await rowsWhen(dir, (rs) => rs.length === 2 && rs.every((r) => (r.height ?? 0) > h0 + 3), 30_000, `heights beyond ${h0 + 3}`);
    const metrics = parsePrometheus(await (await fetch(`${net.orderer!.opsUrl}/metrics`)).text());
    const refused = metrics.find((x) => x.name === 'murmur_orderer_deliver_requests' && x.labels.result === 'reply-not-own-inbox');
    assert.is(refused?.value, 1, 'the orderer refused and counted the deliver request with a foreign reply subject');
    assert.is(aimed, 0, 'no block reached the status subject');
    assert.is(errors.length, 5, errors.join('\n'));

    // Deliver sessions of one party replace each other: five in a row leave one consumer (plus the other peer's).
    const feed = new DeliverFeed(() => nc, { prefix: net.prefix, token: inboxTokenFor(me.user) });
    for (let i = 0; i < 5; i++) {
      const sub = feed.blocks('channel1', 1);
      await firstValueFrom(sub.pipe(filter((e) => e.type === 'block')));
    }
    const ord = await connect({ servers: net.natsUrl, ...loginOptions(users.orderer) });
    const info = (await (await ord.jetstreamManager()).streams.info(stream)).state;
    assert.ok(info.consumer_count <= 2, `consumers on the stream: ${info.consumer_count}`);
    await ord.close();
    await nc.close();
    await stopUp(run, net);
  } finally {
    if (run.child.exitCode === null) run.child.kill('SIGKILL');
  }
});

test.run();
