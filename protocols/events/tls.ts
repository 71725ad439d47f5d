import * as Type from 'typebox';
import { type Static } from 'typebox';
import { closed, flowEventSchema, oneOf, Strings, type RecordOf } from './common.js';

import { SUITE_WEAKNESSES, WEAK_REASONS } from './tls-weaknesses.js';

export { SUITE_WEAKNESSES, WEAK_REASONS };

export const CertificateInfoSchema = closed(
  {
    subject: Type.String({ description: 'e.g. "O=Synthetic Hospital, CN=ris.hospital.example" (OpenSSL\'s order); empty if unreadable' }),
    issuer: Type.String(),
    subject_truncated: Type.Optional(Type.Literal(true, { description: 'The subject was longer than the kept length: cut after an attribute, ending in ", …"' })),
    issuer_truncated: Type.Optional(Type.Literal(true, { description: 'The issuer was cut likewise' })),
    not_before: Type.String({ description: 'ISO 8601 UTC, second precision; empty if unreadable' }),
    not_after: Type.String({ description: 'ISO 8601 UTC, second precision; empty if unreadable' }),
    self_signed: Type.Boolean({ description: 'Subject equals issuer and the signature verifies with its own key (or cannot be checked)' }),
    sha256: Type.String({ description: 'SHA-256 of the DER, lowercase hex' }),
    chain_length: Type.Integer({ description: 'Certificates in the chain as sent' }),
  },
  'The server\'s leaf certificate (TLS ≤ 1.2 only)',
);
export type CertificateInfo = Static<typeof CertificateInfoSchema>;

export const TlsHandshakeEventSchema = flowEventSchema('tls.handshake', 'One per TLS connection: what the handshake showed in the clear', {
  version: Type.Optional(Type.String({ description: 'Negotiated version, e.g. "TLS 1.3"; absent without a ServerHello' })),
  client_versions: Strings('Versions the client offered (supported_versions without GREASE, else the legacy version)'),
  sni: Type.Optional(Type.String({ description: 'Server name the client asked for' })),
  alpn: Strings('ALPN protocols the client offered'),
  alpn_selected: Type.Optional(Type.String({ description: 'ALPN protocol the server chose (TLS ≤ 1.2)' })),
  cipher_suite: Type.Optional(Type.String({ description: 'IANA name of the chosen suite, or its number when unknown' })),
  cipher_suite_id: Type.Optional(Type.String({ description: 'The chosen suite as tshark writes it, e.g. 0x1302' })),
  offered_suites: Type.Optional(Type.Integer({ description: 'Cipher suites the client offered' })),
  certificate: Type.Optional(CertificateInfoSchema),
  weak: Type.Boolean({ description: 'Any weak reason applies' }),
  weak_reasons: Type.Array(oneOf(WEAK_REASONS, 'A reason'), { description: 'Why the handshake is weak' }),
  hello_retry: Type.Optional(Type.Boolean({ description: 'The server answered with a HelloRetryRequest' })),
  negotiated: Type.Boolean({ description: 'A ServerHello was seen' }),
  alert: Type.Optional(Type.String({ description: 'First plaintext alert, e.g. protocol_version' })),
  issues: Type.Optional(Strings('Problems in the hello messages')),
  truncated: Type.Optional(Type.Literal(true, { description: 'A handshake message was longer than the buffering cap: its head was read, the rest dropped' })),
  certificate_truncated: Type.Optional(Type.Literal(true, { description: 'The Certificate message was cut at the cap: the leaf is read if it fits' })),
  sslv2_hello: Type.Optional(Type.Literal(true, { description: 'The client sent its hello in the SSL 2.0 format' })),
  midstream: Type.Optional(Type.Literal(true, { description: 'No hello was seen (picked up after the handshake): facts come from the record layer only' })),
  record_version: Type.Optional(Type.String({ description: 'Mid-stream: the version the application-data records carry' })),
  encrypted: Type.Literal(true),
});
export type TlsHandshakeEvent = Static<typeof TlsHandshakeEventSchema>;
export type TlsHandshakeRecord = RecordOf<TlsHandshakeEvent>;
export type WeakReason = (typeof WEAK_REASONS)[number];
export type SuiteWeakness = (typeof SUITE_WEAKNESSES)[number];
