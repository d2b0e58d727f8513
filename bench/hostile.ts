// `npm run bench:hostile`: what one inbound message costs the receive path (WireCodec.decode), honest and hostile,
// in CPU time and heap growth per message. Issue 19: hostile input must cost no more than honest input.
//   honest          a signed alive message (cache cold: a fresh envelope each time)
//   stranger-junk   ~1 MB of CBOR empty maps, unknown signer, zero signature
//   forged-junk     the same under an insider's certificate, zero signature
//   signed-junk     the same, validly signed by the insider
//   deep            200 000 nested arrays, validly signed
import { encodeEnvelope, seal } from '../runtime/wire/envelope.ts';
import { codecFor, peerSigner } from '../test/helpers/material.ts';
import { samplePayload } from '../test/helpers/payloads.ts';

const alice = peerSigner(0, 0);
const N = Number(process.argv[2] ?? 20);

function emptyMaps(n: number): Uint8Array {
  const b = new Uint8Array(5 + n);
  b[0] = 0x9a;
  new DataView(b.buffer).setUint32(1, n);
  b.fill(0xa0, 5);
  return b;
}
const env = (payload: Uint8Array, signature: Uint8Array, signer: Uint8Array, cert: Uint8Array | null) => encodeEnvelope({ payload, signature, signer, cert, secret: null });
const junk = emptyMaps(1_000_000 - 400);
const deep = new Uint8Array(200_000).fill(0x81);
deep[deep.length - 1] = 0xf6;

const cases: Record<string, (i: number) => Uint8Array> = {
  honest: (i) => seal({ ...samplePayload('alive', alice.identity.pkiId), ts: { incNum: 1_700_000_000_000, seqNum: i + 1 } } as never, alice),
  'stranger-junk': () => env(junk, new Uint8Array(64), new Uint8Array(32).fill(7), null),
  'forged-junk': () => env(junk, new Uint8Array(64), alice.identity.pkiId, alice.identity.cert),
  'signed-junk': () => env(junk, alice.sign(junk), alice.identity.pkiId, alice.identity.cert),
  deep: () => env(deep, alice.sign(deep), alice.identity.pkiId, alice.identity.cert),
};

console.log(`| message | CPU per message (ms) | heap growth per message (MB) | outcome |`);
console.log(`|---|---|---|---|`);
for (const [name, make] of Object.entries(cases)) {
  const codec = codecFor();
  const msgs = Array.from({ length: N }, (_, i) => make(i));
  codec.decode(msgs[0]!); // warm the identity cache: the insider is known, as on a running peer
  globalThis.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  let peak = heap0;
  const t0 = process.cpuUsage();
  let outcome = '';
  for (const m of msgs) {
    let r;
    try {
      r = codec.decode(m);
    } catch (e) {
      outcome = `threw ${(e as Error).name}`;
      continue;
    }
    outcome = r.ok ? 'accepted' : r.reason;
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  }
  const cpu = process.cpuUsage(t0);
  console.log(`| ${name} | ${((cpu.user + cpu.system) / 1000 / N).toFixed(3)} | ${((peak - heap0) / 1e6 / N).toFixed(2)} | ${outcome} |`);
}
