import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LmdbLedgerStore } from '../../runtime/ledger/lmdb.ledger.ts';
import { ed } from '../helpers/material.ts';
import { ledgerContract } from './ledger.contract.ts';

ledgerContract('lmdb', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'murmur-ledger-'));
  return { store: () => new LmdbLedgerStore(dir, ed), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}).run();
