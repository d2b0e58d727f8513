// murmur's processes run with the same node flags however they start: the package's bin (its shebang line,
// which scripts/murmur-bin.mjs also reads for the measurements) and up's children (runtime/cli/self.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODE_FLAGS, murmurCommand } from '../../runtime/cli/self.ts';
import { shebangFlags } from '../../scripts/murmur-bin.mjs';

const bin = join(import.meta.dirname, '..', '..', 'bin', 'murmur.cjs');

test('the package bin carries NODE_FLAGS on its shebang line', () => {
  assert.ok(NODE_FLAGS.length > 0);
  assert.equal(shebangFlags(bin), NODE_FLAGS);
  assert.match(readFileSync(bin, 'utf8').split('\n', 1)[0]!, /^#!\/usr\/bin\/env -S node /);
});

test("up's children start with NODE_FLAGS before the entry", () => {
  const cmd = murmurCommand(['peer', 'start']);
  assert.is(cmd.command, process.execPath);
  assert.equal(cmd.args.slice(0, NODE_FLAGS.length), NODE_FLAGS);
  assert.equal(cmd.args.slice(-2), ['peer', 'start']);
});

test.run();
