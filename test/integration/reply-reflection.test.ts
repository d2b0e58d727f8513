// Replies go only to inboxes (issue 18): a status request or a transaction whose reply subject names the
// channel's block stream is dropped and counted (`reply-not-inbox`), never answered, so nothing but blocks lands
// in the stream and the chain keeps growing. With bus authorization on (the permissions refuse such publishes
// too) and off (the responders' own check is the only guard).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { clientLogin } from '../../runtime/cli/nats-credentials.ts';
import { loginOptions } from '../../runtime/transport/nats-login.ts';
import { parsePrometheus } from '../helpers/prometheus.ts';
import { rowsWhen, startUp, stopUp } from '../helpers/up-run.ts';
import type { CliRun } from '../helpers/cli.ts';

const dirs: string[] = [];
let running: CliRun | undefined;
test.after(() => {
  if (running && running.child.exitCode === null) running.child.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const enc = new TextEncoder();
const maxHeight = (rs: { height: number | null }[]) => Math.max(0, ...rs.map((r) => r.height ?? 0));

for (const auth of [true, false]) {
  test(`a reply subject outside _INBOX is never answered (auth ${auth ? 'on' : 'off'})`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'murmur-reflect-'));
    dirs.push(dir);
    const { run, net } = await startUp(dir, ['--orgs', '1', '--peers', '2', '--load-rate', '20', ...(auth ? [] : ['--no-auth'])]);
    running = run;
    try {
      const before = await rowsWhen(dir, (rs) => rs.length === 2 && rs.every((r) => (r.height ?? 0) > 2), 60_000, 'heights above 2');
      const stream = `${net.prefix}.blocks.channel1`;
      // The monitor's status request and the client's transaction, both asking for the answer in the block stream.
      for (const role of ['monitor', 'client'] as const) {
        const nc = await connect({ servers: net.natsUrl, ...loginOptions(clientLogin({ network: net }, role)) });
        if (role === 'monitor') nc.publish(`${net.prefix}.status`, new Uint8Array(0), { reply: stream });
        else nc.publish(`${net.prefix}.orderer.channel1.tx`, enc.encode('reflected'), { reply: stream });
        await nc.flush();
        await nc.close();
      }
      // The chain keeps growing (a stream entry that is not a block used to stop the orderer for good), and each
      // responder counted the request it refused.
      const h0 = maxHeight(before);
      const after = await rowsWhen(
        dir,
        (rs) => rs.length === 2 && rs.every((r) => (r.height ?? 0) > h0 + 3) && rs.every((r) => (r.counters.rejected['reply-not-inbox'] ?? 0) >= 1),
        30_000,
        `heights beyond ${h0 + 3} and reply-not-inbox counted by both peers`,
      );
      assert.ok(after.every((r) => r.counters.rejected['reply-not-inbox'] === 1), JSON.stringify(after.map((r) => r.counters.rejected)));
      const metrics = parsePrometheus(await (await fetch(`${net.orderer!.opsUrl}/metrics`)).text());
      const refused = metrics.find((s) => s.name === 'murmur_orderer_transactions_rejected' && s.labels.reason === 'reply-not-inbox');
      assert.is(refused?.value, 1, "the orderer counted the transaction it did not queue");
      await stopUp(run, net);
    } finally {
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
    }
  });
}

test.run();
