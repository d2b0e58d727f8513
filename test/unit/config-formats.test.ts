import { test } from 'uvu';
import * as assert from 'uvu/assert';
import convict from 'convict';
import {
  checkEndpoint,
  checkFormat,
  parseBoolean,
  parseChannelList,
  parseDuration,
  parseStringList,
  registerFormats,
} from '../../config/formats.ts';

const value = <T>(r: { ok: true; value: T } | { ok: false; error: string }): T => {
  if (!r.ok) throw new Error(`expected ok, got: ${r.error}`);
  return r.value;
};

test('duration table: Go-style strings and numbers become milliseconds', () => {
  const table: [unknown, number][] = [
    ['1m30s', 90_000],
    ['500ms', 500],
    ['2s', 2000],
    ['1.5s', 1500],
    ['1.1s', 1100],
    ['2h', 7_200_000],
    ['1h2m3s4ms', 3_723_004],
    ['10ms', 10],
    ['3600s', 3_600_000],
    ['0s', 0],
    ['1500us', 1.5],
    ['2500\u00b5s', 2.5], // micro sign, as Go's time.ParseDuration takes it
    ['2500\u03bcs', 2.5], // Greek mu
    [' 4s ', 4000],
    ['4000', 4000], // a bare number is milliseconds (the env cannot carry numbers otherwise)
    [250, 250],
    [0, 0],
  ];
  for (const [input, ms] of table) assert.is(value(parseDuration(input)), ms, `${JSON.stringify(input)}`);
});

test('duration: garbage, negatives, missing units and wrong types are rejected with a reason', () => {
  for (const bad of ['garbage', '10x', '', '  ', '-1s', '1s-', 's', '1m30', 'ms', '5 s', '1e3ms', -5, Number.NaN, true, null, {}, [1]]) {
    const r = parseDuration(bad);
    assert.not.ok(r.ok, `${JSON.stringify(bad)} should be rejected`);
    if (!r.ok) assert.ok(r.error.length > 5);
  }
  const r = parseDuration('1m30x');
  assert.ok(!r.ok && r.error.includes('"30x"'), 'the message points at the unreadable part');
  const neg = parseDuration(-1);
  assert.ok(!neg.ok && /negative/.test(neg.error));
  // Every duration becomes a timer: longer than Node keeps (it would fire after 1 ms) or finer than 1 ms is refused.
  for (const bad of ['600h', '25d', 2 ** 31, '1ns', '999us', 0.5]) assert.not.ok(parseDuration(bad).ok, `${JSON.stringify(bad)} should be rejected`);
  assert.is(value(parseDuration('596h')), 2_145_600_000);
  assert.is(value(parseDuration('1ms')), 1);
});

test('strict booleans: true/false/t/f/1/0 in any case, nothing else', () => {
  for (const t of ['true', 'TRUE', 'True', 't', 'T', '1', true, 1]) assert.is(value(parseBoolean(t)), true, String(t));
  for (const f of ['false', 'FALSE', 'f', 'F', '0', false, 0]) assert.is(value(parseBoolean(f)), false, String(f));
  for (const bad of ['maybe', 'yes', 'no', 'on', 'off', '', '2', 2, null, 'tru']) assert.not.ok(parseBoolean(bad).ok, String(bad));
});

test('string lists: yaml arrays, or one string split on spaces and commas', () => {
  assert.equal(value(parseStringList('a b  c')), ['a', 'b', 'c']);
  assert.equal(value(parseStringList('a,b, c,')), ['a', 'b', 'c']);
  assert.equal(value(parseStringList('')), []);
  assert.equal(value(parseStringList(['x', 'y'])), ['x', 'y']);
  assert.not.ok(parseStringList([1]).ok);
  assert.not.ok(parseStringList(['a b']).ok);
  assert.not.ok(parseStringList(5).ok);
});

test('endpoints are NATS-subject-safe tokens', () => {
  for (const good of ['peer0.org1', '127.0.0.1:7051', 'a_b-c:d', 'x']) assert.ok(checkEndpoint(good, false).ok, good);
  for (const bad of ['a..b', '.a', 'a.', 'a b', 'a*', 'a.>', 'peer/1', 'é', '']) assert.not.ok(checkEndpoint(bad, false).ok, bad);
  assert.ok(checkEndpoint('', true).ok, 'empty allowed where the key allows it');
  assert.not.ok(checkEndpoint(7, true).ok);
});

test('channel lists: yaml objects or name=path pairs; names checked, no duplicates', () => {
  assert.equal(value(parseChannelList('ch1=/p/a.block,ch2=/p/b.block')), [
    { name: 'ch1', genesisBlock: '/p/a.block' },
    { name: 'ch2', genesisBlock: '/p/b.block' },
  ]);
  assert.equal(value(parseChannelList('ch1=/p/a=b.block')), [{ name: 'ch1', genesisBlock: '/p/a=b.block' }]);
  assert.equal(value(parseChannelList([{ name: 'c', genesisBlock: 'g.block' }])), [{ name: 'c', genesisBlock: 'g.block' }]);
  assert.equal(value(parseChannelList('')), []);
  for (const bad of ['ch1', '=/p', 'bad name=/p', 'c.d=/p', 'c=', 'c=/a,c=/b'])
    assert.not.ok(parseChannelList(bad).ok, bad);
  assert.not.ok(parseChannelList([{ name: 'c' }]).ok);
  assert.not.ok(parseChannelList([{ name: 'c', genesisBlock: 'g', extra: 1 }]).ok);
  assert.not.ok(parseChannelList([{ name: 'c', genesisBlock: 'g' }, { name: 'c', genesisBlock: 'h' }]).ok);
});

test('formats: counts, periods, enums, listen addresses', () => {
  assert.is(checkFormat('count', 0), null);
  assert.ok(checkFormat('count', -1)?.includes('negative'));
  assert.ok(checkFormat('count', 1.5));
  assert.ok(checkFormat('positive-count', 0));
  // Each kind of count has its maximum: peers 10 000, entries (buffers, windows, caches, rates) 1 000 000.
  assert.is(checkFormat('peer-count', 10_000), null);
  assert.ok(checkFormat('peer-count', 10_001)?.includes('at most 10000'));
  assert.is(checkFormat('positive-entry-count', 1_000_000), null);
  assert.ok(checkFormat('positive-entry-count', 1_000_001)?.includes('at most 1000000'));
  assert.ok(checkFormat('positive-entry-count', 0));
  assert.ok(checkFormat('count', 2 ** 31)?.includes('at most 2147483647'));
  assert.is(checkFormat('duration', 0), null);
  assert.ok(checkFormat('period', 0)?.includes('greater than zero'));
  assert.is(checkFormat(['tree', 'push'], 'push'), null);
  assert.ok(checkFormat(['tree', 'push'], 'gossip')?.includes('tree, push'));
  assert.is(checkFormat('listen-address', ''), null);
  assert.is(checkFormat('listen-address', '127.0.0.1:9443'), null);
  assert.is(checkFormat('listen-address', ':0'), null);
  assert.ok(checkFormat('listen-address', '127.0.0.1'));
  assert.ok(checkFormat('listen-address', 'h:70000'));
});

test('registered with convict: env "0" is false (convict alone makes it true) and durations coerce', () => {
  registerFormats();
  registerFormats(); // idempotent
  const schema = {
    flag: { format: 'strict-boolean', default: true, env: 'X_FLAG' },
    wait: { format: 'duration', default: 1000, env: 'X_WAIT' },
    list: { format: 'string-list', default: [] as string[], env: 'X_LIST' },
  };
  const c = convict(schema, { env: { X_FLAG: '0', X_WAIT: '1m30s', X_LIST: 'a b,c' }, args: [] });
  c.validate({ allowed: 'strict' });
  assert.is(c.get('flag'), false);
  assert.is(c.get('wait'), 90_000);
  assert.equal(c.get('list'), ['a', 'b', 'c']);
  const bad = convict(schema, { env: { X_FLAG: 'maybe' }, args: [] });
  assert.throws(() => bad.validate(), /flag: must be a boolean/);
  // Built-in Boolean, for contrast: the trap the strict format exists for.
  const builtIn = convict({ flag: { format: Boolean, default: true, env: 'X_FLAG' } }, { env: { X_FLAG: '0' }, args: [] });
  assert.is(builtIn.get('flag'), true);
});

test.run();
