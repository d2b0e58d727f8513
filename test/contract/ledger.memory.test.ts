import { MemoryLedgerStore } from '../../runtime/ledger/memory.ledger.ts';
import { ed } from '../helpers/material.ts';
import { ledgerContract } from './ledger.contract.ts';

ledgerContract('memory', async () => {
  const store = new MemoryLedgerStore(ed);
  return { store: () => store, cleanup: async () => undefined };
}).run();
