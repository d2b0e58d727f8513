// @ts-check
// A murmur peer inside another program: start it from a core.yaml, wait until it sees other members on every
// channel, print its status, stop it. Usage: node embed-peer.mjs CORE_YAML  (e.g. a peer's core.yaml written by
// `murmur up` under --data/peers/<id>/, with that peer stopped first: one process per identity).
import { startPeer } from 'murmur/peer';

const peer = await startPeer({ file: process.argv[2] ?? 'core.yaml', log: (line) => console.log(line) });
const joined = () => peer.peer.status().every((r) => (r.height ?? 0) >= 1 && (r.members?.length ?? 0) > 0);
for (let waited = 0; !joined() && waited < 30_000; waited += 200) await new Promise((r) => setTimeout(r, 200));
for (const r of peer.peer.status()) console.log(`${r.id} ${r.channel}: height ${r.height}, ${r.role}, members ${r.members?.join(' ')}`);
await peer.stop();
process.exitCode = joined() ? 0 : 1;
