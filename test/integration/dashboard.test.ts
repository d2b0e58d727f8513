// The browser dashboard end to end: `murmur up --orgs 2 --peers 2 --dashboard` with short timings, the page
// opened in Debian's headless Chromium through playwright-core. It must show every peer, one leader per org and
// heights that rise, block latency percentiles and copies per block as numbers, a follower's machine states;
// after kill -9 of an org's leader it must show the new leader (and the timeline must say so) and, selected,
// its election machine leading and its deliver machine active. Screenshot: test/artifacts/dashboard.png. Then `murmur dashboard --data DIR` serves the same network.
// Skipped (with a printed reason) only when /usr/bin/chromium is absent; `.ci/run` installs it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli, cli, alive, type CliRun } from '../helpers/cli.ts';
import { until, withDeadline } from '../helpers/deadline.ts';
import type { NetworkFile } from '../../runtime/cli/network-file.ts';
import { SHORT_TIMINGS_ENV } from '../helpers/short-timings.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACT = fileURLToPath(new URL('../artifacts/dashboard.png', import.meta.url));
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const env = SHORT_TIMINGS_ENV;

interface Card {
  id: string;
  org: string;
  role: string;
  height: number | null;
  answering: boolean;
}

// Page functions run in the browser; tsconfig has no DOM lib, so just what they use.
interface El {
  dataset: Record<string, string | undefined>;
  textContent: string | null;
}
declare const document: { querySelectorAll(selector: string): ArrayLike<El> & Iterable<El>; querySelector(selector: string): El | null };

function tailOf(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-40).join('\n');
  } catch (e) {
    return String(e);
  }
}

const NAME = 'dashboard in headless Chromium: every peer, one leader per org, rising heights, the new leader after kill -9';

if (!existsSync(CHROMIUM)) {
  console.log(`\n[dashboard.test] SKIPPED: ${CHROMIUM} is absent (install Debian's chromium: apt-get install -y chromium; .ci/run does)\n`);
  test.skip(`${NAME} (skipped: ${CHROMIUM} absent)`, () => {});
} else {
  test(NAME, async () => {
    const { chromium } = await import('playwright-core');
    type Browser = Awaited<ReturnType<typeof chromium.launch>>;
    const dir = mkdtempSync(join(tmpdir(), 'murmur-dashboard-'));
    let up: CliRun | undefined;
    let standalone: CliRun | undefined;
    let browser: Browser | undefined;
    let pids: number[] = [];
    try {
      up = runCli(['up', '--orgs', '2', '--peers', '2', '--data', dir, '--dashboard'], env);
      await until(() => /dashboard: http:\/\/127\.0\.0\.1:\d+\//.test(up!.output()) || up!.child.exitCode !== null, 30_000, 'up printing the dashboard URL', 50);
      assert.is(up.child.exitCode, null, up.output());
      const url = /dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(up.output())![1]!;
      const net = JSON.parse(readFileSync(join(dir, 'network.json'), 'utf8')) as NetworkFile;
      pids = [...net.peers.map((p) => p.pid), net.orderer?.pid ?? null, net.natsPid].filter((p): p is number => typeof p === 'number');
      const ids = net.peers.map((p) => p.id).sort();
      assert.equal(ids, ['peer0.org1', 'peer0.org2', 'peer1.org1', 'peer1.org2']);

      browser = await withDeadline(chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 }), 40_000, 'Chromium launch');
      const page = await browser.newPage({ viewport: { width: 1360, height: 1000 } });
      page.setDefaultTimeout(30_000);
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(String(e)));
      // An empty console: no failed resource (a 404 favicon was one), no error or warning logged.
      const consoleLines: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') consoleLines.push(`${m.type()}: ${m.text()}`);
      });
      page.on('response', (r) => {
        if (r.status() >= 400) consoleLines.push(`${r.status()} ${r.url()}`);
      });
      await page.goto(url, { timeout: 15_000 });

      const cards = (): Promise<Card[]> =>
        page.$$eval('#orgs [data-peer]', (els) =>
          (els as unknown as El[]).map((e) => {
            const d = e.dataset;
            return { id: d.peer!, org: d.org!, role: d.role!, height: d.height ? Number(d.height) : null, answering: d.answering === 'true' };
          }),
        );

      // Every peer answering, exactly one leader per org.
      await page.waitForFunction(
        () => {
          const els = [...document.querySelectorAll('#orgs [data-peer]')];
          const orgs = new Set(els.map((e) => e.dataset.org));
          return els.length === 4 && els.every((e) => e.dataset.answering === 'true') && [...orgs].every((o) => els.filter((e) => e.dataset.org === o && e.dataset.role === 'leader').length === 1) && orgs.size === 2;
        },
        null,
        { timeout: 45_000, polling: 250 },
      ).catch(async (e) => {
        // What the page showed, and what the peers say, when it never settled.
        const shown = await cards().catch(() => null);
        // The log tail of every peer the page shows as not answering, and what `up` printed.
        const silent = (shown ?? []).filter((c) => !c.answering).map((c) => c.id);
        const tails = silent.map((id) => `--- ${id} peer.log (tail) ---\n${tailOf(join(dir, 'peers', id, 'peer.log'))}`).join('\n');
        throw new Error(`${(e as Error).message}\npage: ${JSON.stringify(shown)}\nstatus: ${(await cli(['status', '--data', dir])).out}\nup: ${up!.output().slice(-3000)}\n${tails}`);
      });
      let cs = await cards();
      assert.equal(cs.map((c) => c.id).sort(), ids, 'every peer of network.json is on the page');
      for (const org of ['Org1MSP', 'Org2MSP']) assert.is(cs.filter((c) => c.org === org && c.role === 'leader').length, 1, `one leader in ${org}`);
      assert.ok(await page.isVisible('.peer.leader .badge.leader'), 'the leader is marked');

      // Heights rise on every peer (the load runs at 20 tx/s; blocks reach followers by gossip).
      const before = Object.fromEntries(cs.map((c) => [c.id, c.height ?? 0]));
      await page.waitForFunction(
        (b: Record<string, number>) =>
          [...document.querySelectorAll('#orgs [data-peer]')].every((e) => e.dataset.height !== '' && Number(e.dataset.height) >= (b[e.dataset.peer!] ?? 0) + 2),
        before,
        { timeout: 40_000, polling: 250 },
      );
      cs = await cards();
      for (const c of cs) assert.ok(c.height !== null && c.height >= before[c.id]! + 2, `${c.id}: height ${before[c.id]} → ${c.height}`);
      assert.is(await page.locator('#chart svg path[data-series]').count(), 4, 'one height line per peer');

      // Block latency percentiles (orderer timestamp → commit, status `blocks`) and copies per block: numbers.
      await page.waitForFunction(
        () => {
          const el = document.querySelector('#stats [data-latency-p50]');
          return !!el && /^\d+$/.test(el.dataset.latencyP50 ?? '') && /^\d+$/.test(el.dataset.latencyP99 ?? '');
        },
        null,
        { timeout: 20_000, polling: 250 },
      );
      const latency = await page.$eval('#stats [data-latency-p50]', (e) => {
        const d = (e as unknown as El).dataset;
        return [Number(d.latencyP50), Number(d.latencyP99)];
      });
      assert.ok(latency[0]! >= 0 && latency[1]! >= latency[0]! && latency[1]! < 60_000, `latency p50/p99 ${latency}`);
      assert.not.match((await page.textContent('#stats [data-stats]')) ?? '', /copies per block\s*n\/a/);
      const copies = Number(await page.getAttribute('#stats [data-copies]', 'data-copies'));
      assert.ok(copies >= 1, `copies per block ${copies}`);

      // Selecting a follower shows its live machines' states (status `machines`).
      const follower = cs.find((c) => c.org === 'Org2MSP' && c.role !== 'leader')!.id;
      await page.click(`#orgs [data-peer="${follower}"]`);
      await page.waitForSelector(`#details table[data-details="${follower}"]`, { timeout: 5_000 });
      assert.match((await page.textContent('#details [data-machine="election"]')) ?? '', /^dynamic\.following/);
      assert.match((await page.textContent('#details [data-machine="deliver"]')) ?? '', /^idle$/, 'a follower does not read the orderer');
      assert.match((await page.textContent('#details [data-machine="stateTransfer"]')) ?? '', /^(synced|syncing|ahead)/);

      // kill -9 the leader of Org1: the page shows the other Org1 peer leading and the old one not answering.
      const leader = cs.find((c) => c.org === 'Org1MSP' && c.role === 'leader')!.id;
      const successor = leader === 'peer0.org1' ? 'peer1.org1' : 'peer0.org1';
      process.kill(net.peers.find((p) => p.id === leader)!.pid!, 'SIGKILL');
      await page.waitForFunction(
        // No named inner functions here: tsx would wrap them in a __name helper the page does not have.
        ([old, next]: string[]) =>
          document.querySelector(`#orgs [data-peer="${next}"]`)?.dataset.role === 'leader' && document.querySelector(`#orgs [data-peer="${old}"]`)?.dataset.answering === 'false',
        [leader, successor],
        { timeout: 30_000, polling: 250 },
      );
      assert.ok(await page.locator(`#timeline li[data-kind="leader"][data-event-peer="${successor}"]`).count(), 'the timeline records the new leader');
      await page.waitForSelector(`#timeline li[data-kind="dead"][data-event-peer="${leader}"]`, { timeout: 20_000 });
      assert.is(await page.locator('.peer.leader').count(), 2, 'one leader per org after the failover');

      // The details panel for the new leader, then the screenshot.
      await page.click(`#orgs [data-peer="${successor}"]`);
      await page.waitForSelector(`#details table[data-details="${successor}"]`, { timeout: 5_000 });
      assert.match((await page.textContent('#details [data-machine="election"]')) ?? '', /^dynamic\.leading/, 'the election machine leads');
      // The new leader's deliver machine runs (connecting, streaming or between attempts).
      await page.waitForFunction((id: string) => /^active\./.test(document.querySelector(`#details table[data-details="${id}"] [data-machine="deliver"]`)?.textContent ?? ''), successor, {
        timeout: 10_000,
        polling: 250,
      });
      await page.waitForTimeout(1500);
      mkdirSync(join(ARTIFACT, '..'), { recursive: true });
      await page.screenshot({ path: ARTIFACT, fullPage: true });

      const origin = new URL(url).origin;
      assert.equal(requests.filter((r) => !r.startsWith(origin)), [], 'the page loads nothing from elsewhere');
      assert.equal(pageErrors, [], 'no script errors');
      assert.equal(consoleLines, [], 'the browser console stays empty');

      // `murmur dashboard --data DIR` serves the same network (and lists the dead peer from network.json).
      standalone = runCli(['dashboard', '--data', dir, '--port', '0']);
      await until(() => /dashboard: http:\/\/127\.0\.0\.1:\d+\//.test(standalone!.output()) || standalone!.child.exitCode !== null, 20_000, 'dashboard URL', 50);
      const url2 = /dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(standalone.output())![1]!;
      let state: { peers: { id: string; answering: boolean }[] } = { peers: [] };
      await withDeadline(
        (async () => {
          for (;;) {
            state = (await (await fetch(`${url2}api/state`)).json()) as typeof state;
            if (state.peers.filter((p) => p.answering).length === 3) return;
            await new Promise((r) => setTimeout(r, 250));
          }
        })(),
        15_000,
        'standalone dashboard seeing the three live peers',
      );
      assert.equal(state.peers.map((p) => p.id).sort(), ids, 'the killed peer stays listed (network.json)');
      assert.is(state.peers.find((p) => p.id === leader)?.answering, false);
      standalone.child.kill('SIGINT');
      assert.is(await withDeadline(standalone.exited, 10_000, 'dashboard exit'), 0, standalone.output());

      up.child.kill('SIGINT');
      assert.is(await withDeadline(up.exited, 20_000, 'up exit'), 0, up.output());
    } finally {
      await browser?.close().catch(() => {});
      if (standalone && standalone.child.exitCode === null && standalone.child.signalCode === null) standalone.child.kill('SIGKILL');
      if (up && up.child.exitCode === null && up.child.signalCode === null) {
        up.child.kill('SIGINT');
        await withDeadline(up.exited, 20_000, 'up exit in cleanup').catch(() => up!.child.kill('SIGKILL'));
      }
      // Whatever `up` did not stop (it was killed, or failed): its children by pid.
      if (up?.child.exitCode !== 0) for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test.run();
