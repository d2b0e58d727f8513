// Wire payloads: one discriminated union over every gossip message kind murmur sends.
// Each payload is CBOR-encoded and signed as exact bytes inside an Envelope (envelope.ts).
// Kinds mirror Fabric's GossipMessage content (digest §0); murmur signs every kind, including the
// point-to-point wrappers Fabric leaves unsigned, because NATS has no authenticated per-pair stream.

/** Logical clock of alive, StateInfo and leadership messages: incarnation then counter (digest §3.3). */
export interface PeerTime {
  incNum: number;
  seqNum: number;
}

/** Membership record carried by an alive message. `endpoint` is the EXTERNAL endpoint ('' = none). */
export interface Member {
  endpoint: string;
  pkiId: Uint8Array;
  metadata: Uint8Array;
}

/** Pull engine item kinds (Fabric's PullMsgType). */
export type PullKind = 'block' | 'identity';

export interface AliveMsg {
  t: 'alive';
  member: Member;
  ts: PeerTime;
}
/** Membership request: `alive` is the sender's own signed alive envelope (checked against the signer). */
export interface MemReqMsg {
  t: 'memReq';
  nonce: number;
  alive: Uint8Array;
  /** murmur profile, same org: SHA-256 of the requester's view of its org (actors/view-digest.ts); a responder
   * whose view hashes the same has nothing to add and stays silent. */
  view?: Uint8Array;
}
export interface MemResMsg {
  t: 'memRes';
  nonce: number;
  alive: Uint8Array[];
  dead: Uint8Array[];
}
/** SWIM probe inside an org (murmur profile, machines/swim.logic.ts): answered by an ack with the same nonce. */
export interface PingMsg {
  t: 'ping';
  nonce: number;
}
/** Answer to a ping; a member that pinged on another's behalf passes it on with the asker's nonce. */
export interface AckMsg {
  t: 'ack';
  nonce: number;
}
/** SWIM indirect probe: ping `target` (an org member) for the sender and pass its ack back with `nonce`. */
export interface PingReqMsg {
  t: 'pingReq';
  nonce: number;
  target: Uint8Array;
}
/** Published on the org subject: the signer failed to reach `pkiId` and suspects it under its alive timestamp
 * `ts` (only a newer alive of that member refutes it); published again when the suspicion timed out. */
export interface SuspectMsg {
  t: 'suspect';
  pkiId: Uint8Array;
  ts: PeerTime;
}
export interface LeadershipMsg {
  t: 'leadership';
  ch: string;
  pkiId: Uint8Array;
  ts: PeerTime;
  declaration: boolean;
}
/** A block pushed or forwarded inside an org. `block` is the encoded block (runtime/ledger/block.ts). */
export interface DataMsg {
  t: 'data';
  ch: string;
  seq: number;
  block: Uint8Array;
  /** The originating peer's PKI-ID, named by a relay that tags the message (its own envelope names only itself):
   * a hint, so relays leave the originator out and a gap is asked of a peer that holds what came before. */
  o?: Uint8Array;
}
/** Tree dissemination (murmur, actors/tree-disseminator.ts): blocks this peer holds, announced on lazy links. */
export interface BlockAnnouncement {
  seq: number;
  /** SHA-256 block hash (runtime/ledger/block.ts), checked against the payload a graft brings. */
  hash: Uint8Array;
}
export interface IHaveMsg {
  t: 'ihave';
  ch: string;
  blocks: BlockAnnouncement[];
}
/** Tree dissemination: send these blocks now; `eager` also makes the link eager (the tree re-attaches here).
 * Empty `seqs`: a request for a link. */
export interface GraftMsg {
  t: 'graft';
  ch: string;
  seqs: number[];
  eager: boolean;
}
/** Tree dissemination: the sender got a duplicate over this link; make it lazy. */
export interface PruneMsg {
  t: 'prune';
  ch: string;
}
export interface HelloMsg {
  t: 'hello';
  ch: string;
  nonce: number;
  kind: PullKind;
}
export interface DigestMsg {
  t: 'digest';
  ch: string;
  nonce: number;
  kind: PullKind;
  digests: string[];
}
export interface RequestMsg {
  t: 'request';
  ch: string;
  nonce: number;
  kind: PullKind;
  digests: string[];
}
/** Pull response: items are complete signed envelopes (blocks or identities), verified one by one. */
export interface UpdateMsg {
  t: 'update';
  ch: string;
  nonce: number;
  kind: PullKind;
  items: Uint8Array[];
}
export interface StateInfoProps {
  height: number;
  leftChannel: boolean;
}
/** Ledger height advertisement per channel (digest §4.9, §5.1). The channel travels in clear: the
 * NATS subject names it anyway, so Fabric's channel MAC would hide nothing. */
export interface StateInfoMsg {
  t: 'stateInfo';
  ch: string;
  pkiId: Uint8Array;
  ts: PeerTime;
  props: StateInfoProps;
}
export interface StateInfoPullReqMsg {
  t: 'stateInfoPullReq';
  ch: string;
  nonce: number;
  /** murmur profile, same org: SHA-256 of the StateInfo messages the requester holds (its own included); a
   * responder holding exactly the same stays silent. */
  view?: Uint8Array;
}
export interface StateInfoSnapshotMsg {
  t: 'stateInfoSnapshot';
  ch: string;
  nonce: number;
  elements: Uint8Array[];
}
/** State transfer request, inclusive range [start, end]. */
export interface StateReqMsg {
  t: 'stateReq';
  ch: string;
  nonce: number;
  start: number;
  end: number;
}
export interface StateBlock {
  seq: number;
  block: Uint8Array;
}
export interface StateResMsg {
  t: 'stateRes';
  ch: string;
  nonce: number;
  blocks: StateBlock[];
}
/** Identity item for the identity pull (Fabric's PeerIdentity). The certificate rides in the envelope. */
export interface IdentityMsg {
  t: 'identity';
  pkiId: Uint8Array;
}
/** Signed session binding, murmur's replacement for Fabric's ConnEstablish handshake: binds the signer's
 * identity to the inbox endpoint it receives on and its incarnation; `to` names the intended receiver so a
 * captured binding cannot be replayed at another peer; `probe` asks only for a binding back. */
export interface SessionMsg {
  t: 'session';
  pkiId: Uint8Array;
  inbox: string;
  incNum: number;
  nonce: number;
  to: Uint8Array | null;
  probe: boolean;
  /** The sender's X25519 public key for this incarnation (runtime/crypto/session-keys.ts). */
  dh: Uint8Array;
}

export type Payload =
  | AliveMsg
  | MemReqMsg
  | MemResMsg
  | PingMsg
  | AckMsg
  | PingReqMsg
  | SuspectMsg
  | LeadershipMsg
  | DataMsg
  | IHaveMsg
  | GraftMsg
  | PruneMsg
  | HelloMsg
  | DigestMsg
  | RequestMsg
  | UpdateMsg
  | StateInfoMsg
  | StateInfoPullReqMsg
  | StateInfoSnapshotMsg
  | StateReqMsg
  | StateResMsg
  | IdentityMsg
  | SessionMsg;

export type PayloadKind = Payload['t'];
export type PayloadOf<K extends PayloadKind> = Extract<Payload, { t: K }>;

export const PAYLOAD_KINDS: readonly PayloadKind[] = [
  'alive',
  'memReq',
  'memRes',
  'ping',
  'ack',
  'pingReq',
  'suspect',
  'leadership',
  'data',
  'ihave',
  'graft',
  'prune',
  'hello',
  'digest',
  'request',
  'update',
  'stateInfo',
  'stateInfoPullReq',
  'stateInfoSnapshot',
  'stateReq',
  'stateRes',
  'identity',
  'session',
];

/** The internal endpoint travels in a separately signed part that is stripped before another org sees it. */
export interface Secret {
  internalEndpoint: string;
}

/** A verified signer: certificate checked against a channel org CA and valid at decode time. */
export interface Identity {
  pkiId: Uint8Array;
  pkiIdHex: string;
  mspId: string;
  /** Subject of the certificate: the peer id (or orderer id). */
  subject: string;
  role: 'peer' | 'orderer' | 'ca';
  publicKey: Uint8Array;
  cert: Uint8Array;
  notAfter: number;
}

/** A decoded message whose envelope and (if present) secret signatures verified. */
export interface Verified<P extends Payload = Payload> {
  payload: P;
  signer: Identity;
  secret: Secret | null;
  /** Exact envelope bytes, for forwarding without re-signing (never for a tagged one: see `tagged`). */
  bytes: Uint8Array;
  /** Authenticated by a pairwise key's tag, not a signature: these bytes convince only this peer. */
  tagged?: true;
}

export type DecodeResult =
  | { ok: true; msg: Verified }
  | { ok: false; reason: RejectReason; detail?: string }
  /** Genuine, but a copy of what this peer also receives on another subject (not a rejection). */
  | { ok: false; reason: 'copy'; detail?: undefined };

/** Every reason a decode can refuse a message. Counted per reason; never thrown. */
export type RejectReason =
  | 'oversized'
  | 'malformed-envelope'
  | 'bad-envelope'
  | 'malformed-payload'
  | 'unknown-kind'
  | 'bad-payload'
  | 'malformed-cert'
  | 'unknown-org'
  | 'bad-cert-signature'
  | 'cert-expired'
  | 'cert-revoked'
  | 'cert-not-yet-valid'
  | 'pki-id-mismatch'
  | 'unknown-identity'
  | 'signer-mismatch'
  | 'bad-role'
  | 'cert-subject-outside-org'
  | 'bad-signature'
  | 'bad-secret'
  // A tagged (pairwise-key) envelope: for another peer, from a peer with no key agreed, under a key this peer no
  // longer holds (the sender's view of an older incarnation), with a wrong tag, or of a kind that must be signed.
  | 'mac-misaddressed'
  | 'mac-unknown-key'
  | 'mac-stale-key'
  | 'bad-mac'
  | 'mac-kind';

export const REJECT_REASONS: readonly RejectReason[] = [
  'oversized',
  'malformed-envelope',
  'bad-envelope',
  'malformed-payload',
  'unknown-kind',
  'bad-payload',
  'malformed-cert',
  'unknown-org',
  'bad-cert-signature',
  'cert-expired',
  'cert-revoked',
  'cert-not-yet-valid',
  'pki-id-mismatch',
  'unknown-identity',
  'signer-mismatch',
  'bad-role',
  'cert-subject-outside-org',
  'bad-signature',
  'bad-secret',
  'mac-misaddressed',
  'mac-unknown-key',
  'mac-stale-key',
  'bad-mac',
  'mac-kind',
];

/** Anything that turns bytes into a verified message or a counted refusal. */
export interface InboundDecoder {
  /** `subject`: where it arrived, when a transport delivers it (lets the decoder recognise copies). */
  decode(bytes: Uint8Array, subject?: string): DecodeResult;
}
