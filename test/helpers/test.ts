// uvu runs files, not single tests. With MURMUR_TEST set to a test's exact name, a file importing `test` from
// here runs only that test (the others are skipped), so scripts/mutations.mjs can run one Fabric scenario alone.
import { test as uvuTest } from 'uvu';

const only = process.env.MURMUR_TEST;

export const test: typeof uvuTest =
  only === undefined
    ? uvuTest
    : new Proxy(uvuTest, {
        apply: (target, _self, args: Parameters<typeof uvuTest>) => (args[0] === only ? target(...args) : target.skip(...args)),
      });
