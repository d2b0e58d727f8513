// `murmur up` gathers its status table only as often as someone can read it (runtime/cli/up.ts, issue 25).
import { test } from '../helpers/test.ts';
import * as assert from 'uvu/assert';
import { statusRefreshMs } from '../../runtime/cli/up.ts';

test('a terminal is redrawn every second; a log every 5 s once every peer answers, every second until then', () => {
  assert.is(statusRefreshMs(true, 24, 24), 1000);
  assert.is(statusRefreshMs(true, 3, 24), 1000);
  assert.is(statusRefreshMs(false, 3, 24), 1000);
  assert.is(statusRefreshMs(false, 24, 24), 5000);
});

test.run();
