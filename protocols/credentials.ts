import type { Pseudonymize } from './phi/pseudonym.js';

/** How a credential travelled in cleartext. */
export type CredentialKind =
  | 'password'
  | 'community'
  | 'basic-auth'
  | 'digest-auth'
  | 'sasl-plain'
  | 'sasl-login'
  | 'dicom-user-identity'
  | 'vnc-auth';

/**
 * The fields of a `credential.cleartext` event (docs/events.md). The username only as a keyed
 * pseudonym; the secret never — only a keyed fingerprint, so the rules can see one password
 * used by many devices (a hard-coded password, MU 4.4) without anyone learning it.
 */
export interface CredentialFields {
  protocol: string;
  kind: CredentialKind;
  username_pseudonym?: string;
  secret_fingerprint?: string;
}

export function credentialFields(pseudonymize: Pseudonymize, protocol: string, kind: CredentialKind, username?: string, secret?: string): CredentialFields {
  const f: CredentialFields = { protocol, kind };
  if (username) f.username_pseudonym = pseudonymize('username', username);
  if (secret) f.secret_fingerprint = pseudonymize('secret', secret);
  return f;
}
