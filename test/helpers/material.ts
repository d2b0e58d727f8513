// Shared test material: a small network's identities and genesis blocks, generated once per test process.
import { generateMaterial, signerOf, type NetworkMaterial } from '../../runtime/crypto/material.ts';
import { nodeEd25519, type Ed25519 } from '../../runtime/crypto/ed25519.ts';
import { TrustStore } from '../../runtime/crypto/msp.ts';
import { WireCodec } from '../../runtime/wire/codec.ts';
import type { LocalSigner } from '../../runtime/crypto/signer.ts';

export const ed: Ed25519 = nodeEd25519();
let cached: NetworkMaterial | undefined;

/** 2 orgs x 2 peers, one channel. */
export function material(): NetworkMaterial {
  cached ??= generateMaterial({ orgs: ['Org1', 'Org2'], peers: 2, channels: ['channel1'] });
  return cached;
}

export function peerSigner(org: number, peer: number): LocalSigner {
  return signerOf(material().orgs[org]!.peers[peer]!, ed);
}

export function trustFor(m: NetworkMaterial = material()): TrustStore {
  const t = new TrustStore(ed);
  for (const o of m.orgs) t.addOrg(o.mspId, o.ca.cert.bytes);
  return t;
}

export function codecFor(opts: { now?: () => number; maxBytes?: number; trust?: TrustStore } = {}): WireCodec {
  return new WireCodec({ trust: opts.trust ?? trustFor(), ed, now: opts.now ?? (() => Date.now()), maxBytes: opts.maxBytes ?? 1 << 20 });
}
