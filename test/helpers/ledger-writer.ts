// Child process of test/integration/ledger-kill.test.ts: commits a deterministic chain to an lmdb ledger in
// random-sized batches as fast as it can, printing `committed <height>` after each durable commit, until
// it is killed. Usage: node --import tsx test/helpers/ledger-writer.ts <dir> <seed>
import { LmdbLedgerStore } from '../../runtime/ledger/lmdb.ledger.ts';
import { blockHash, makeBlock, type Block } from '../../runtime/ledger/block.ts';
import { killMaterial, killGenesis, killTx } from './kill-chain.ts';
import { nodeEd25519 } from '../../runtime/crypto/ed25519.ts';

const [dir, seed] = process.argv.slice(2);
const ed = nodeEd25519();
const m = killMaterial();
const genesis = killGenesis(ed);
const store = new LmdbLedgerStore(dir!, ed);
const ledger = await store.open(genesis);
let r = Number(seed ?? 1) >>> 0 || 1;
const rand = () => ((r = (r * 1103515245 + 12345) >>> 0) % 1000) / 1000;
for (;;) {
  const k = 1 + Math.floor(rand() * 20);
  const blocks: Block[] = [];
  let prev = ledger.tipHash();
  for (let i = 0; i < k; i++) {
    const n = ledger.height() + i;
    const b = makeBlock(n, prev, [killTx(n, 0), killTx(n, 1)], (msg) => ed.sign(m.orderer.secret, msg));
    blocks.push(b);
    prev = blockHash(b);
  }
  const res = await ledger.commit(blocks);
  if (res.rejected) {
    console.log(`rejected ${JSON.stringify(res.rejected)}`);
    process.exit(3);
  }
  console.log(`committed ${res.height}`);
}
