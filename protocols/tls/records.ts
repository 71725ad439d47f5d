import type { TlsHandshakeRecord, WeakReason } from '../events/index.js';

/**
 * One per connection: the `tls.handshake` event of the contract (protocols/events/tls.ts)
 * with its capture time as numbers. Optional fields are absent when the handshake did not
 * show them (no ServerHello seen, TLS 1.3 where the certificate is encrypted, a client that
 * sent no SNI).
 */
export type { TlsHandshakeRecord, WeakReason };

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
