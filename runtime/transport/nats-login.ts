// How every murmur client logs in to NATS (peers, the orderer, status/tx/load/dashboard): one place that turns
// credentials into nats.js connection options, so all of them authenticate, and pick their reply inbox, alike.
//   user + pass | token | creds file (JWT + NKey seed)  →  user/pass | token | authenticator
//   inbox prefix: `_INBOX.<user>` when a user is given (the generated authorization only lets a user subscribe
//   to its own replies), nats.js's `_INBOX` otherwise; a client connecting for one purpose (status requests,
//   transactions) adds it: `_INBOX.<user>.status`, so peers may answer only status inboxes and the orderer only
//   transaction inboxes (runtime/crypto/nats-auth.ts)
import { readFileSync } from 'node:fs';
import { credsAuthenticator, type ConnectionOptions } from 'nats';
import { inboxPrefixFor, replyInboxFor, type ReplyPurpose } from './subjects.ts';

export interface NatsLogin {
  user?: string;
  pass?: string;
  token?: string;
  /** Path of a NATS .creds file (JWT + NKey seed). */
  credsFile?: string;
}

/** Connection options for `login` (empty strings count as absent, as in the config files). */
export function loginOptions(login: NatsLogin = {}, purpose?: ReplyPurpose): Pick<ConnectionOptions, 'user' | 'pass' | 'token' | 'authenticator' | 'inboxPrefix'> {
  const o: Pick<ConnectionOptions, 'user' | 'pass' | 'token' | 'authenticator' | 'inboxPrefix'> = {};
  if (login.user) o.user = login.user;
  if (login.pass) o.pass = login.pass;
  if (login.token) o.token = login.token;
  if (login.credsFile) {
    let creds: Buffer;
    try {
      creds = readFileSync(login.credsFile);
    } catch (e) {
      throw new Error(`cannot read the NATS credentials file ${login.credsFile}: ${(e as Error).message}`, { cause: e });
    }
    o.authenticator = credsAuthenticator(new Uint8Array(creds));
  }
  if (purpose) o.inboxPrefix = replyInboxFor(login.user || undefined, purpose);
  else if (login.user) o.inboxPrefix = inboxPrefixFor(login.user);
  return o;
}
