import * as Type from 'typebox';
import { type Static } from 'typebox';
import { flowEventSchema, oneOf, type RecordOf } from './common.js';

export const CREDENTIAL_KINDS = ['password', 'community', 'basic-auth', 'digest-auth', 'sasl-plain', 'sasl-login', 'dicom-user-identity', 'vnc-auth'] as const;

/**
 * A credential that crossed the wire in cleartext. The username only as a keyed pseudonym;
 * the secret never — only a keyed fingerprint, so one password used by many devices can be
 * seen without anyone learning it.
 */
export const CredentialCleartextEventSchema = flowEventSchema('credential.cleartext', 'A credential sent in cleartext (login, community string, HTTP Basic, VNC auth, DICOM user identity …)', {
  protocol: Type.String({ description: 'Protocol that carried it (telnet, ftp, http, snmp, vnc, dicom …)' }),
  kind: oneOf(CREDENTIAL_KINDS, 'How the credential travelled'),
  username_pseudonym: Type.Optional(Type.String({ description: 'Keyed pseudonym of the username' })),
  secret_fingerprint: Type.Optional(Type.String({ description: 'Keyed fingerprint of the secret (never the secret)' })),
  default_credential: Type.Optional(Type.String({ description: 'Vendor and product whose published default credential this is (the sensor knows the defaults only by fingerprint)' })),
  success: Type.Optional(Type.Boolean({ description: 'The server\'s answer to the login, when it was seen' })),
  snmp_version: Type.Optional(Type.String({ description: 'SNMP: 1 or 2c' })),
});
export type CredentialCleartextEvent = Static<typeof CredentialCleartextEventSchema>;
export type CredentialCleartextRecord = RecordOf<CredentialCleartextEvent>;
