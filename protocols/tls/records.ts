import type { CertificateInfo } from './certificate.js';
import type { SuiteWeakness } from './cipher-suites.js';

/**
 * Why a handshake is judged weak; the strings are the event's `weak_reasons`.
 * - `deprecated-version`: SSL 2.0/3.0, TLS 1.0 or 1.1 negotiated (RFC 7568, RFC 8996).
 * - suite weaknesses: see cipher-suites.ts.
 * - `compression`: TLS-level compression negotiated (CRIME).
 * - certificate: expired or not yet valid at the capture time, or self-signed.
 */
export type WeakReason =
  | 'deprecated-version'
  | SuiteWeakness
  | 'compression'
  | 'expired-certificate'
  | 'not-yet-valid-certificate'
  | 'self-signed-certificate';

/**
 * One per connection: the `tls.handshake` event contract (docs/events.md), plus detail.
 * Optional fields are absent when the handshake did not show them (no ServerHello seen,
 * TLS 1.3 where the certificate is encrypted, a client that sent no SNI).
 */
export interface TlsHandshakeRecord {
  type: 'tls.handshake';
  /** Capture time of the message that completed the facts (or of the last bytes seen). */
  ts_sec: number;
  ts_nsec: number;
  /** Negotiated version ("TLS 1.3"); absent without a ServerHello. */
  version?: string;
  /** Versions the client offered: supported_versions without GREASE, else the legacy version. */
  client_versions: string[];
  sni?: string;
  /** ALPN protocols the client offered. */
  alpn: string[];
  /** ALPN protocol the server chose in its ServerHello (TLS ≤ 1.2; encrypted in 1.3). */
  alpn_selected?: string;
  /** IANA name of the chosen suite ("TLS_AES_256_GCM_SHA384"), or its number when unknown. */
  cipher_suite?: string;
  /** The chosen suite as tshark writes it ("0x1302"). */
  cipher_suite_id?: string;
  /** Cipher suites the client offered (count, as tshark counts them). */
  offered_suites?: number;
  /** Server leaf certificate (TLS ≤ 1.2 only). */
  certificate?: CertificateInfo;
  weak: boolean;
  weak_reasons: WeakReason[];
  /** The server answered with a HelloRetryRequest; version and suite come from it. */
  hello_retry?: boolean;
  /** Whether a ServerHello was seen (false: the server refused or the capture missed it). */
  negotiated: boolean;
  /** First plaintext alert, e.g. "protocol_version" (a server refusing an old client). */
  alert?: string;
  /** Problems in the hello messages (lengths past their message …), when there were any. */
  issues?: string[];
  encrypted: true;
}

export interface TlsCounters {
  bytes: number;
  /** Encrypted or uninteresting record bodies handed back to the reassembler as skips. */
  bytes_skipped: number;
  records: number;
  handshake_messages: number;
  /** Handshake messages longer than the buffering cap: the head was kept, the rest dropped. */
  messages_truncated: number;
  /** Record headers that are not TLS (type, version or length): the connection is dropped. */
  bad_records: number;
  /** Hello or certificate messages that did not parse fully. */
  malformed_messages: number;
  certificates: number;
  certificates_unreadable: number;
  gaps: number;
  gap_bytes: number;
  /** Connections given up without the facts (byte budget spent, both directions lost). */
  abandoned: number;
  handshakes_emitted: number;
  internal_errors: number;
}

export function newTlsCounters(): TlsCounters {
  return {
    bytes: 0,
    bytes_skipped: 0,
    records: 0,
    handshake_messages: 0,
    messages_truncated: 0,
    bad_records: 0,
    malformed_messages: 0,
    certificates: 0,
    certificates_unreadable: 0,
    gaps: 0,
    gap_bytes: 0,
    abandoned: 0,
    handshakes_emitted: 0,
    internal_errors: 0,
  };
}
