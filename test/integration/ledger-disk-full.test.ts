// A real full disk under the lmdb ledger: a 1 MB tmpfs (needs permission to mount, as root on CI; otherwise
// the test says it was skipped). Commits fail with a LedgerError naming the cause, never an unhandled
// rejection; nothing half-written is visible; once space returns (remount larger) commits continue, and the
// reopened ledger holds exactly the committed chain.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LmdbLedgerStore } from '../../runtime/ledger/lmdb.ledger.ts';
import { blockHash, makeBlock } from '../../runtime/ledger/block.ts';
import { openGenesis } from '../../runtime/ledger/channel-config.ts';
import { ed, material } from '../helpers/material.ts';

function mount(dir: string, size: string, remount = false): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `${remount ? 'remount,' : ''}size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('lmdb on a full disk: counted errors, no unhandled rejection, resumes when space returns, chain intact', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'murmur-full-'));
  if (!mount(dir, '1m')) {
    console.log('    skipped: cannot mount a tmpfs here (not root)');
    rmSync(dir, { recursive: true, force: true });
    return;
  }
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  try {
    const m = material();
    const g = openGenesis(m.channels[0]!.genesis, ed, 'channel1');
    const store = new LmdbLedgerStore(join(dir, 'l'), ed);
    const l = await store.open(g);
    let prev = l.tipHash();
    const block = (n: number) => makeBlock(n, prev, [new Uint8Array(8192).fill(n % 256)], (x) => ed.sign(m.orderer.secret, x), Date.now(), 'channel1');
    let failure: Error | null = null;
    for (let n = 1; n < 1000 && !failure; n++) {
      const b = block(n);
      try {
        await l.commit([b]);
        prev = blockHash(b);
      } catch (e) {
        failure = e as Error;
      }
    }
    assert.ok(failure, 'the disk filled up');
    assert.match(failure!.message, /lmdb commit of blocks \d+\.\.\d+ failed/);
    const full = l.height();
    // Still full: the same block fails again, the height does not move.
    const again0 = await l.commit([block(full)]).then(
      () => null,
      (e: Error) => e,
    );
    assert.ok(again0 instanceof Error, 'still full');
    await new Promise((r) => setTimeout(r, 100));
    assert.is(l.height(), full);
    // Space returns: commits continue from the same height.
    assert.ok(mount(dir, '16m', true), 'remount larger');
    for (let n = full; n < full + 10; n++) {
      const b = block(n);
      const r = await l.commit([b]);
      assert.is(r.committed.length, 1, `block ${n} after the disk has room again`);
      prev = blockHash(b);
    }
    const tip = l.tipHash();
    await store.close();
    const again = new LmdbLedgerStore(join(dir, 'l'), ed);
    const reopened = await again.open(g);
    assert.equal([reopened.height(), Buffer.from(reopened.tipHash()).toString('hex')], [full + 10, Buffer.from(tip).toString('hex')]);
    await again.close();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(unhandled.map(String), [], 'no unhandled rejection');
    console.log(`    disk full at height ${full}; 10 more blocks after the remount`);
  } finally {
    process.off('unhandledRejection', onUnhandled);
    try {
      execFileSync('umount', [dir], { stdio: 'ignore' });
    } catch {
      /* already gone */
    }
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
