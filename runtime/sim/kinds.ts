// What an envelope seen on the simulated network carries: its payload kind, and how many blocks it holds
// (data: one; pull update of blocks: one per item; state response: one per block). Unparseable bytes (a
// byzantine peer's junk) have kind null. For the simulator's statistics only; never on a peer's path.
import { parseEnvelope } from '../wire/envelope.ts';
import { decodeCbor } from '../wire/cbor.ts';

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

export function classify(bytes: Uint8Array): Kind {
  const env = parseEnvelope(bytes);
  if (!env.ok) return JUNK;
  let p: Record<string, unknown>;
  try {
    p = decodeCbor(env.env.payload) as Record<string, unknown>;
  } catch {
    return JUNK;
  }
  if (!p || typeof p !== 'object' || typeof p.t !== 'string') return JUNK;
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
      return { kind: p.t, blocks: 0, embedded: [] };
  }
}
