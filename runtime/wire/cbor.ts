// One CBOR configuration for everything murmur puts on the wire or on disk.
// Records (cbor-x's non-standard extension) stay off so other implementations can read our bytes, and so a
// hostile input cannot install shared record structures in the decoder.
import { Decoder, Encoder } from 'cbor-x';

const encoder = new Encoder({ useRecords: false, tagUint8Array: false, mapsAsObjects: true });
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

export function encodeCbor(value: unknown): Uint8Array {
  return encoder.encode(value);
}

/** Decodes one CBOR item; throws on malformed input (callers turn that into a counted rejection). */
export function decodeCbor(bytes: Uint8Array): unknown {
  return decoder.decode(bytes);
}
