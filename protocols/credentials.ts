import type { Pseudonymize } from './phi/pseudonym.js';

import type { CredentialCleartextRecord } from './events/index.js';

/** How a credential travelled in cleartext. */
export type CredentialKind = CredentialCleartextRecord['kind'];

/**
 * The fields of a `credential.cleartext` event every protocol fills the same way. The username
 * only as a keyed pseudonym; the secret never — only a keyed fingerprint, so the rules can see
 * one password used by many devices (a hard-coded password, MU 4.4) without anyone learning it.
 */
export type CredentialFields = Pick<CredentialCleartextRecord, 'protocol' | 'kind' | 'username_pseudonym' | 'secret_fingerprint'>;

export function credentialFields(pseudonymize: Pseudonymize, protocol: string, kind: CredentialKind, username?: string, secret?: string): CredentialFields {
  const f: CredentialFields = { protocol, kind };
  if (username) f.username_pseudonym = pseudonymize('username', username);
  if (secret) f.secret_fingerprint = pseudonymize('secret', secret);
  return f;
}
