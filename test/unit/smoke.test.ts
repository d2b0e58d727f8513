import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PAYLOAD_KINDS } from '../../runtime/wire/messages.ts';

test('payload kinds are unique', () => {
  assert.is(new Set(PAYLOAD_KINDS).size, PAYLOAD_KINDS.length);
});
test.run();
