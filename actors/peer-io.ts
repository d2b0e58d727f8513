// What every part of a peer sends, receives, signs, checks, times and draws with: the transport, the one
// inbound router, the codec (verification and refusal counts), the signer, the clock and a randomness stream.
import type { Transport } from '../runtime/transport/transport.ts';
import type { WireCodec } from '../runtime/wire/codec.ts';
import type { LocalSigner } from '../runtime/crypto/signer.ts';
import type { Clock } from '../runtime/clock.ts';
import type { Rng } from '../runtime/rng.ts';
import type { InboundPort } from './inbound-router.ts';

export interface PeerIO {
  transport: Transport;
  /** The peer's inbound router: each part registers the kinds (and channel) it handles. */
  inbound: InboundPort;
  codec: WireCodec;
  signer: LocalSigner;
  clock: Clock;
  /** This part's own stream (forked from the peer's seed). */
  rng: Rng;
}
