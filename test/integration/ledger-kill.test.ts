// kill -9 while committing: a child process commits random-sized batches to an lmdb ledger as fast as it
// can and is SIGKILLed at a random moment, again and again. After every kill the ledger must hold a valid,
// gap-free chain, at least as long as the last commit the child reported durable.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LmdbLedgerStore } from '../../runtime/ledger/lmdb.ledger.ts';
import { blockHash, verifyBlock } from '../../runtime/ledger/block.ts';
import { bytesEqual } from '../../runtime/util/bytes.ts';
import { withDeadline } from '../helpers/deadline.ts';
import { killGenesis } from '../helpers/kill-chain.ts';
import { ed } from '../helpers/material.ts';

const WRITER = fileURLToPath(new URL('../helpers/ledger-writer.ts', import.meta.url));
const ITERATIONS = 6;
let dir = '';

test.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'murmur-kill-'));
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

async function killOnce(seed: number, afterCommits: number, extraMs: number): Promise<{ reported: number; out: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dir, String(seed)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let reported = 0;
  let commits = 0;
  let armed = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await withDeadline(
      new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (d: Buffer) => {
          out += d;
          for (const m of d.toString().matchAll(/committed (\d+)/g)) {
            reported = Math.max(reported, Number(m[1]));
            commits++;
          }
          if (!armed && commits >= afterCommits) {
            armed = true;
            // Kill at a moment unrelated to the commit cycle.
            setTimeout(() => {
              child.kill('SIGKILL');
              resolve();
            }, extraMs);
          }
        });
        child.stderr!.on('data', (d: Buffer) => (out += d));
        child.once('exit', (code, sig) => (sig === 'SIGKILL' ? undefined : reject(new Error(`writer exited early (${code}): ${out}`))));
      }),
      15_000,
      'the writer committing',
    );
    await withDeadline(exited, 5000, 'the writer dying');
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  // The lines read so far may lag behind what the child had committed; never ahead of it.
  return { reported, out };
}

test(`SIGKILL while committing, ${ITERATIONS} times: a valid prefix every time, nothing reported durable is lost`, async () => {
  const genesis = killGenesis(ed);
  let last = 1;
  for (let i = 0; i < ITERATIONS; i++) {
    const { reported, out } = await killOnce(i + 1, 1 + (i % 3) * 5, 5 + ((i * 37) % 60));
    const store = new LmdbLedgerStore(dir, ed);
    try {
      const l = await store.open(genesis);
      const h = l.height();
      assert.ok(h >= reported, `iteration ${i}: height ${h} < reported durable ${reported}`);
      assert.ok(h > last, `iteration ${i}: progress (${last} → ${h}); writer said: ${out.slice(-200)}`);
      let prev = genesis.block;
      for (let n = 1; n < h; n++) {
        const b = l.get(n)!;
        assert.ok(b, `block ${n} readable`);
        const check = verifyBlock(b, genesis.ordererPublicKey, ed, { number: n, previousHash: blockHash(prev) });
        assert.ok(check.ok, `iteration ${i}: block ${n}: ${JSON.stringify(check)}`);
        prev = b;
      }
      assert.ok(bytesEqual(l.tipHash(), blockHash(prev)));
      assert.is(l.get(h), null, 'nothing past the height');
      last = h;
    } finally {
      await store.close();
    }
  }
});

test.run();
