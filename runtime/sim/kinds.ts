// What an envelope seen on the simulated network carries: its payload kind, and how many blocks it holds
// (data: one; pull update of blocks: one per item; state response: one per block). Unparseable bytes (a
// byzantine peer's junk) have kind null. For the simulator's statistics only; never on a peer's path.
import { parseEnvelope } from '../wire/envelope.ts';
import { decodeCbor } from '../wire/cbor.ts';
import type { Payload } from '../wire/messages.ts';

export interface Kind {
  kind: string | null;
  blocks: number;
  /** Signed envelopes embedded in the payload (membership responses, StateInfo snapshots, pull updates). */
  embedded: Uint8Array[];
}

const JUNK: Kind = { kind: null, blocks: 0, embedded: [] };

export function kindOf(bytes: Uint8Array): string | null {
  return classify(bytes).kind;
}

/**
 * The payload an envelope carries, with its signer's PKI-ID, NOT verified and only shape-checked as far as a
 * map with a string `t`: for tests, benchmarks and statistics that watch the network, never for a peer.
 */
export function peek(bytes: Uint8Array): { payload: Payload; signer: Uint8Array } | null {
  const env = parseEnvelope(bytes);
  if (!env.ok) return null;
  try {
    const p = decodeCbor(env.env.payload) as Payload | null;
    return p && typeof p === 'object' && typeof (p as { t?: unknown }).t === 'string' ? { payload: p, signer: env.env.signer } : null;
  } catch {
    return null;
  }
}

/** The (unverified) payload of an envelope seen on the network; see `peek`. */
export const payloadOf = (bytes: Uint8Array): Payload | null => peek(bytes)?.payload ?? null;

export function classify(bytes: Uint8Array): Kind {
  const p = payloadOf(bytes) as unknown as Record<string, unknown> | null;
  if (!p) return JUNK;
  const list = (v: unknown): Uint8Array[] => (Array.isArray(v) ? v.filter((x): x is Uint8Array => x instanceof Uint8Array) : []);
  switch (p.t) {
    case 'data':
      return { kind: 'data', blocks: 1, embedded: [] };
    case 'update': {
      const items = list(p.items);
      return { kind: 'update', blocks: p.kind === 'block' ? items.length : 0, embedded: items };
    }
    case 'stateRes':
      return { kind: 'stateRes', blocks: Array.isArray(p.blocks) ? p.blocks.length : 0, embedded: [] };
    case 'memRes':
      return { kind: 'memRes', blocks: 0, embedded: [...list(p.alive), ...list(p.dead)] };
    case 'memReq':
      return { kind: 'memReq', blocks: 0, embedded: p.alive instanceof Uint8Array ? [p.alive] : [] };
    case 'stateInfoSnapshot':
      return { kind: 'stateInfoSnapshot', blocks: 0, embedded: list(p.elements) };
    default:
      return { kind: p.t as string, blocks: 0, embedded: [] };
  }
}
