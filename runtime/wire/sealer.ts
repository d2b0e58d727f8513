// How a peer seals what it sends: signed, or for one recipient it agreed a pairwise key with, tagged
// (runtime/crypto/session-keys.ts). A tag costs an HMAC where a signature costs an ed25519 signing here and a
// verification at the receiver, so the point-to-point messages of every block (announcements, grafts, pull and
// state messages) are tagged once both ends hold the key; whatever may be forwarded or served again is signed.
import type { Payload } from './messages.ts';
import { encodeCbor } from './cbor.ts';
import { isTagged, MAC_KINDS, seal, sealTagged, type SealOptions } from './envelope.ts';
import type { LocalSigner } from '../crypto/signer.ts';
import type { DirectionKey } from '../crypto/session-keys.ts';

export interface SendKeys {
  /** The confirmed key for messages to `pkiIdHex`, or null. */
  sendKey(pkiIdHex: string): DirectionKey | null;
}

export interface SealerStats {
  signed: number;
  tagged: number;
}

export class Sealer {
  readonly stats: SealerStats = { signed: 0, tagged: 0 };
  constructor(
    readonly signer: LocalSigner,
    private readonly keys: SendKeys | null,
  ) {}

  /** Signed: for every kind, and the only way for what is forwarded or served again. */
  sign(payload: Payload, opts?: SealOptions): Uint8Array {
    this.stats.signed++;
    return seal(payload, this.signer, opts);
  }

  /** For one recipient (by PKI-ID hex): tagged when the kind allows it and a key is confirmed, else signed. */
  to(pkiIdHex: string, payload: Payload): Uint8Array {
    return this.each(payload)(pkiIdHex);
  }

  /**
   * One payload for several recipients: encoded once, signed at most once, tagged per recipient with a key.
   * `signed`: an envelope of this payload already signed (a relayed one keeps its originator's signature).
   */
  each(payload: Payload, signed: Uint8Array | null = null): (pkiIdHex: string) => Uint8Array {
    // A tagged envelope convinces only its addressee: never a fallback for anyone else (it is signed afresh).
    if (signed && isTagged(signed)) signed = null;
    const taggable = this.keys !== null && MAC_KINDS.has(payload.t);
    let encoded: Uint8Array | null = null;
    return (pkiIdHex) => {
      const key = taggable ? this.keys!.sendKey(pkiIdHex) : null;
      if (!key) return (signed ??= this.sign(payload));
      encoded ??= encodeCbor(payload);
      this.stats.tagged++;
      return sealTagged(payload.t, encoded, this.signer.identity.pkiId, key.peer, key);
    };
  }
}
