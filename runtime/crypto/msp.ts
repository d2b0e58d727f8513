// Trust anchors: the org CAs named by the channels' genesis blocks. A signer's certificate is accepted when
// it is well formed, issued by the CA of the org it names, valid at the time of checking, and (a peer's) its
// subject belongs to that org: the CA's subject names the org's domain (`ca.org1` → `org1`; a CA subject
// without the `ca.` label is the domain itself) and a peer's subject is a name inside it (`peer0.org1`), so
// an org's CA cannot issue a certificate that passes for another org's peer (`peer0.org2`).
import type { Identity, RejectReason } from '../wire/messages.ts';
import { parseCertificate, pkiIdOf, type Certificate } from './certificate.ts';
import type { Ed25519 } from './ed25519.ts';
import { parseRevocationList } from './revocation.ts';
import { bytesEqual, toHex } from '../util/bytes.ts';

export type CertCheck = { ok: true; identity: Identity } | { ok: false; reason: RejectReason; detail?: string };
export type RevocationApplied = { ok: true; mspId: string; issuedAt: number; revoked: string[] } | { ok: false; reason: string };

export class TrustStore {
  private readonly cas = new Map<string, Certificate>();
  /** Each org's current revocation list: when its CA issued it, and the PKI-IDs it names. */
  private readonly crls = new Map<string, { issuedAt: number; revoked: Set<string> }>();

  constructor(private readonly ed: Ed25519) {}

  /** Adds an org's CA certificate (self-signed, role 'ca'). Throws when it is not a valid CA certificate. */
  addOrg(mspId: string, caCertBytes: Uint8Array): void {
    const ca = parseCertificate(caCertBytes);
    if (!ca || ca.role !== 'ca' || ca.mspId !== mspId) throw new Error(`not a CA certificate for ${mspId}`);
    if (!this.ed.verify(ca.publicKey, ca.tbs, ca.signature)) throw new Error(`CA certificate of ${mspId} is not self-signed`);
    const known = this.cas.get(mspId);
    if (known && !bytesEqual(known.bytes, ca.bytes)) throw new Error(`conflicting CA certificates for ${mspId}`);
    this.cas.set(mspId, ca);
  }

  hasOrg(mspId: string): boolean {
    return this.cas.has(mspId);
  }

  orgs(): string[] {
    return [...this.cas.keys()];
  }

  /** Takes an org's revocation list if its CA signed it and it is newer than the one held; `revoked` is every
   * PKI-ID the list names (a list is complete: a newer one without a name un-revokes it). */
  applyRevocations(bytes: Uint8Array): RevocationApplied {
    const crl = parseRevocationList(bytes);
    if (!crl) return { ok: false, reason: 'malformed revocation list' };
    const ca = this.cas.get(crl.mspId);
    if (!ca) return { ok: false, reason: `unknown org ${crl.mspId}` };
    if (!this.ed.verify(ca.publicKey, crl.tbs, crl.signature)) return { ok: false, reason: `not signed by the CA of ${crl.mspId}` };
    const held = this.crls.get(crl.mspId);
    if (held && crl.issuedAt <= held.issuedAt) return { ok: false, reason: `not newer than the list held for ${crl.mspId}` };
    this.crls.set(crl.mspId, { issuedAt: crl.issuedAt, revoked: new Set(crl.revoked) });
    return { ok: true, mspId: crl.mspId, issuedAt: crl.issuedAt, revoked: crl.revoked };
  }

  /** Whether the CA of `mspId` revoked the certificate with this PKI-ID. */
  isRevoked(mspId: string, pkiIdHex: string): boolean {
    return this.crls.get(mspId)?.revoked.has(pkiIdHex) ?? false;
  }

  /** Checks a certificate against the org CAs at time `now` (ms). */
  check(certBytes: Uint8Array, now: number): CertCheck {
    const cert = parseCertificate(certBytes);
    if (!cert) return { ok: false, reason: 'malformed-cert' };
    if (cert.role === 'ca') return { ok: false, reason: 'bad-role', detail: 'a CA certificate cannot sign messages' };
    const ca = this.cas.get(cert.mspId);
    if (!ca) return { ok: false, reason: 'unknown-org', detail: cert.mspId };
    if (!this.ed.verify(ca.publicKey, cert.tbs, cert.signature)) return { ok: false, reason: 'bad-cert-signature' };
    if (now < cert.notBefore) return { ok: false, reason: 'cert-not-yet-valid' };
    if (now > cert.notAfter || now > ca.notAfter) return { ok: false, reason: 'cert-expired' };
    if (cert.role === 'peer' && !inDomain(cert.subject, orgDomain(ca.subject))) return { ok: false, reason: 'cert-subject-outside-org', detail: `${cert.subject} under ${ca.subject}` };
    const identity = identityOf(cert);
    if (this.isRevoked(cert.mspId, identity.pkiIdHex)) return { ok: false, reason: 'cert-revoked' };
    return { ok: true, identity };
  }
}

/** The org's domain its CA names: `ca.org1` → `org1`. */
export function orgDomain(caSubject: string): string {
  return caSubject.startsWith('ca.') ? caSubject.slice(3) : caSubject;
}

/** `subject` is a name inside `domain` (at least one label before it): `peer0.org1` in `org1`. */
export function inDomain(subject: string, domain: string): boolean {
  return subject.length > domain.length + 1 && subject.endsWith(`.${domain}`) && domain.length > 0;
}

export function identityOf(cert: Certificate): Identity {
  const pkiId = pkiIdOf(cert.mspId, cert.bytes);
  return {
    pkiId,
    pkiIdHex: toHex(pkiId),
    mspId: cert.mspId,
    subject: cert.subject,
    role: cert.role,
    publicKey: cert.publicKey,
    cert: cert.bytes,
    notAfter: cert.notAfter,
  };
}
