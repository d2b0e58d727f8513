// A stand-in for the real wire decoder in transport tests: frames are UTF-8 text; a frame starting with
// `reject:` is refused, anything else is accepted as a fake Verified message. Independent of the codec.
import type { DecodeResult, Identity, InboundDecoder, Verified } from '../../runtime/wire/messages.ts';

const fakeSigner: Identity = {
  pkiId: new Uint8Array(32),
  pkiIdHex: '00'.repeat(32),
  mspId: 'TestMSP',
  subject: 'test',
  role: 'peer',
  publicKey: new Uint8Array(32),
  cert: new Uint8Array(0),
  notAfter: Number.MAX_SAFE_INTEGER,
};

export class TestDecoder implements InboundDecoder {
  /** Every frame this decoder was given, accepted or not. */
  readonly seen: Uint8Array[] = [];
  rejected = 0;

  decode(bytes: Uint8Array): DecodeResult {
    this.seen.push(bytes);
    if (head(bytes).startsWith('reject:')) {
      this.rejected++;
      return { ok: false, reason: 'bad-signature', detail: 'test frame marked reject' };
    }
    const msg: Verified = { payload: { t: 'identity', pkiId: fakeSigner.pkiId }, signer: fakeSigner, secret: null, bytes };
    return { ok: true, msg };
  }

  /** Texts of the frames seen (first 64 bytes each). */
  seenTexts(): string[] {
    return this.seen.map(head);
  }
}

export function frame(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** The text of a fake Verified message (its whole bytes). */
export function text(msg: Verified): string {
  return new TextDecoder().decode(msg.bytes);
}

function head(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes.subarray(0, 64));
}
