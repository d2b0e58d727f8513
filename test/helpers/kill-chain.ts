// A network whose keys derive from a fixed seed and time, so a parent test and its child processes build
// exactly the same chain (ed25519 signatures are deterministic).
import { generateMaterial, type NetworkMaterial } from '../../runtime/crypto/material.ts';
import { openGenesis, type Genesis } from '../../runtime/ledger/channel-config.ts';
import type { Ed25519 } from '../../runtime/crypto/ed25519.ts';
import { rngFromSeed } from '../../runtime/rng.ts';

let cached: NetworkMaterial | undefined;
export function killMaterial(): NetworkMaterial {
  const keys = rngFromSeed('ledger-kill');
  cached ??= generateMaterial({ orgs: ['Org1'], peers: 1, channels: ['channel1'], now: Date.UTC(2026, 0, 1), validityMs: 100 * 365 * 86_400_000, random: (n) => keys.bytes(n) });
  return cached;
}
export function killGenesis(ed: Ed25519): Genesis {
  return openGenesis(killMaterial().channels[0]!.genesis, ed, 'channel1');
}
export function killTx(n: number, j: number): Uint8Array {
  const tx = new Uint8Array(512).fill((n * 7 + j) % 251);
  new DataView(tx.buffer).setUint32(0, n);
  return tx;
}
