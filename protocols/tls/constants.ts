/** TLS wire constants (RFC 8446, RFC 5246) and their names. */

export const enum ContentType {
  ChangeCipherSpec = 20,
  Alert = 21,
  Handshake = 22,
  ApplicationData = 23,
  Heartbeat = 24,
}

export const enum HandshakeType {
  HelloRequest = 0,
  ClientHello = 1,
  ServerHello = 2,
  NewSessionTicket = 4,
  Certificate = 11,
  ServerKeyExchange = 12,
  CertificateRequest = 13,
  ServerHelloDone = 14,
}

export const enum ExtensionType {
  ServerName = 0,
  Alpn = 16,
  SupportedVersions = 43,
}

/** Record header: type(1) version(2) length(2). */
export const RECORD_HEADER_LENGTH = 5;
/** Handshake header: type(1) length(3). */
export const HANDSHAKE_HEADER_LENGTH = 4;
/** TLSCiphertext may carry 2^14 + 2048 bytes (RFC 5246 §6.2.3); anything longer is not TLS. */
export const MAX_RECORD_LENGTH = 16384 + 2048;

/** ServerHello.random of a HelloRetryRequest (RFC 8446 §4.1.3): SHA-256("HelloRetryRequest"). */
export const HRR_RANDOM = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex');

export const SSL3 = 0x0300;
export const TLS10 = 0x0301;
export const TLS11 = 0x0302;
export const TLS12 = 0x0303;
export const TLS13 = 0x0304;

/** "TLS 1.2", "SSL 3.0", "TLS 1.3 (draft 28)", or the number ("0x7a7a") for anything else. */
export function versionName(v: number): string {
  switch (v) {
    case 0x0002:
    case 0x0200:
      return 'SSL 2.0';
    case SSL3:
      return 'SSL 3.0';
    case TLS10:
      return 'TLS 1.0';
    case TLS11:
      return 'TLS 1.1';
    case TLS12:
      return 'TLS 1.2';
    case TLS13:
      return 'TLS 1.3';
  }
  if (v >> 8 === 0x7f) return `TLS 1.3 (draft ${v & 0xff})`;
  return '0x' + v.toString(16).padStart(4, '0');
}

/** What a version means for the protocol that follows the ServerHello. */
export function isTls13(v: number): boolean {
  return v === TLS13 || v >> 8 === 0x7f || v === 0xfb17 || v === 0xfb1a;
}

/** SSL 2/3, TLS 1.0 and TLS 1.1: prohibited or deprecated (RFC 6176, RFC 7568, RFC 8996). */
export function isDeprecatedVersion(v: number): boolean {
  return v === 0x0002 || v === 0x0200 || v === SSL3 || v === TLS10 || v === TLS11;
}

const ALERTS: Record<number, string> = {
  0: 'close_notify',
  10: 'unexpected_message',
  20: 'bad_record_mac',
  21: 'decryption_failed',
  22: 'record_overflow',
  30: 'decompression_failure',
  40: 'handshake_failure',
  41: 'no_certificate',
  42: 'bad_certificate',
  43: 'unsupported_certificate',
  44: 'certificate_revoked',
  45: 'certificate_expired',
  46: 'certificate_unknown',
  47: 'illegal_parameter',
  48: 'unknown_ca',
  49: 'access_denied',
  50: 'decode_error',
  51: 'decrypt_error',
  60: 'export_restriction',
  70: 'protocol_version',
  71: 'insufficient_security',
  80: 'internal_error',
  86: 'inappropriate_fallback',
  90: 'user_canceled',
  100: 'no_renegotiation',
  109: 'missing_extension',
  110: 'unsupported_extension',
  111: 'certificate_unobtainable',
  112: 'unrecognized_name',
  113: 'bad_certificate_status_response',
  114: 'bad_certificate_hash_value',
  115: 'unknown_psk_identity',
  116: 'certificate_required',
  120: 'no_application_protocol',
  121: 'ech_required',
};

export function alertName(description: number): string {
  return ALERTS[description] ?? `alert_${description}`;
}
