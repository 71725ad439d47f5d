import type { Pseudonymize } from './phi/pseudonym.js';

import { matchDefaultCredential } from './default-credentials.js';
import type { CredentialCleartextRecord } from './events/index.js';

/** How a credential travelled in cleartext. */
export type CredentialKind = CredentialCleartextRecord['kind'];

/**
 * The fields of a `credential.cleartext` event every protocol fills the same way. The username
 * only as a keyed pseudonym; the secret never — only a keyed fingerprint, so the rules can see
 * one password used by many devices (a hard-coded password, MU 4.4) without anyone learning it.
 */
export type CredentialFields = Pick<CredentialCleartextRecord, 'protocol' | 'kind' | 'username_pseudonym' | 'secret_fingerprint' | 'default_credential'>;

/**
 * `usernameKind` is the pseudonym kind of the username, for a protocol whose other events
 * already name the same user under their own kind (DICOM's `dicom-username`): the credential
 * then carries the same token as the association it came with.
 */
export function credentialFields(pseudonymize: Pseudonymize, protocol: string, kind: CredentialKind, username?: string, secret?: string, usernameKind = 'username'): CredentialFields {
  const f: CredentialFields = { protocol, kind };
  if (username) f.username_pseudonym = pseudonymize(usernameKind, username);
  if (secret) {
    f.secret_fingerprint = pseudonymize('secret', secret);
    // Only here are username and secret both in hand: the published-default check cannot be
    // made later from the keyed fingerprint.
    const match = defaultOf(f.username_pseudonym, f.secret_fingerprint, username, secret);
    if (match !== undefined) f.default_credential = match;
  }
  return f;
}

/**
 * Verdicts of the default check by keyed tokens (never by the values): a keep-alive client
 * sends the same HTTP Basic header on every request, and the check is one more HMAC each time.
 */
const verdicts = new Map<string, string | null>();
const MAX_VERDICTS = 4096;

function defaultOf(userToken: string | undefined, secretToken: string, username: string | undefined, secret: string): string | undefined {
  const key = `${userToken ?? ''}|${secretToken}`;
  let v = verdicts.get(key);
  if (v === undefined) {
    if (verdicts.size >= MAX_VERDICTS) verdicts.clear();
    v = matchDefaultCredential(username, secret) ?? null;
    verdicts.set(key, v);
  }
  return v ?? undefined;
}
