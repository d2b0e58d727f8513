// View digests for murmur's quiet repair rounds: a repair request carries the hash of what the requester holds,
// and a responder that holds exactly the same has nothing to add, so it sends nothing (the rounds repair lost
// broadcasts; in a quiet, converged network there is nothing to repair). Sorted first, so the order in which
// things were learned does not matter.
import { createHash } from 'node:crypto';

export function viewDigest(entries: Iterable<string>): Uint8Array {
  const h = createHash('sha256');
  for (const e of [...entries].sort()) h.update(e).update('\n');
  return new Uint8Array(h.digest());
}
