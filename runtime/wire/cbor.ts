// One CBOR configuration for everything murmur puts on the wire or on disk.
// Records (cbor-x's non-standard extension) stay off so other implementations can read our bytes, and so a
// hostile input cannot install shared record structures in the decoder.
import { Decoder, Encoder } from 'cbor-x';

// variableMapSize: a map's count in its shortest head (cbor-x otherwise reserves two bytes), so what murmur writes
// is canonical and a receiver can refuse every other encoding (runtime/wire/cbor-scan.ts).
const encoder = new Encoder({ useRecords: false, tagUint8Array: false, mapsAsObjects: true, variableMapSize: true });
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

export function encodeCbor(value: unknown): Uint8Array {
  return encoder.encode(value);
}

/** Decodes one CBOR item; throws on malformed input (callers turn that into a counted rejection). */
export function decodeCbor(bytes: Uint8Array): unknown {
  return decoder.decode(bytes);
}
