// The payload kind of an envelope seen on the simulated network (for counting messages by kind in tests).
import { parseEnvelope } from '../../runtime/wire/envelope.ts';
import { decodeCbor } from '../../runtime/wire/cbor.ts';

export function kindOf(bytes: Uint8Array): string | null {
  const env = parseEnvelope(bytes);
  if (!env.ok) return null;
  try {
    return (decodeCbor(env.env.payload) as { t?: string }).t ?? null;
  } catch {
    return null;
  }
}
