import { nodeCrypto } from './node-crypto.js';
import { DEFAULT_CREDENTIAL_FINGERPRINTS } from './default-credential-list.js';

/**
 * Published vendor default credentials, known only by fingerprint. The list ships with the
 * sensor, so its salt cannot be secret: a fingerprint is HMAC-SHA256 under this fixed, public
 * salt, which makes the list useless as a password list and a rainbow table built for it
 * useless anywhere else. The fingerprint covers user name and password together, so a common
 * password under another user name does not match. It is never written to an event: what
 * leaves the parser is the vendor and product the default belongs to.
 */
export const DEFAULT_CREDENTIAL_SALT = 'muvakt default-credential fingerprint v1';

export interface DefaultCredentialEntry {
  /** HMAC-SHA256(salt, user NUL password), hex. */
  fingerprint: string;
  vendor: string;
  product: string;
}

/** The fingerprint of a user name and password; a credential with no user name (a community string) uses ''. */
export function defaultCredentialFingerprint(username: string, secret: string): string {
  return nodeCrypto().createHmac('sha256', DEFAULT_CREDENTIAL_SALT).update(`${username}\0${secret}`, 'utf8').digest('hex');
}

let byFingerprint: Map<string, DefaultCredentialEntry> | null = null;

/** "Vendor Product" of the published default this credential is, or undefined. */
export function matchDefaultCredential(username: string | undefined, secret: string): string | undefined {
  byFingerprint ??= new Map(DEFAULT_CREDENTIAL_FINGERPRINTS.map((e) => [e.fingerprint, e]));
  const e = byFingerprint.get(defaultCredentialFingerprint(username ?? '', secret));
  return e ? `${e.vendor} ${e.product}` : undefined;
}
