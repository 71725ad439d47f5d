import type { CredentialCleartextRecord, RemoteAccessRecord, RemoteProtocol } from '../events/index.js';
import type { Pseudonymize } from '../phi/pseudonym.js';

/**
 * What the remote-access parsers emit: the `remote_access` and `credential.cleartext` events
 * of the contract (protocols/events/) with their capture time as numbers; the agent adds `ts`
 * and `flow`. Banners and versions are device facts. Usernames appear only as keyed
 * pseudonyms, and secrets never: at most a keyed fingerprint (credentials.ts).
 */
export type { RemoteAccessRecord };
export type { RemoteProtocol };
export type RemoteCredentialRecord = CredentialCleartextRecord;

/** How the protocol was recognised: by its bytes, by TLS SNI, or only by its well-known port. */
export type RemoteDetection = RemoteAccessRecord['detection'];

export type RemoteRecord = RemoteAccessRecord | RemoteCredentialRecord;

export interface RemoteParserOptions {
  /** Receives every record, synchronously. */
  emit: (rec: RemoteRecord) => void;
  /** Keyed pseudonyms for usernames and secret fingerprints. */
  pseudonymize: Pseudonymize;
}

/** Skip everything that follows in a direction whose facts are known (cheaper than copying it). */
export const SKIP_REST = 2 ** 48;

/** Printable ASCII of buf[off, off+len) with any other byte as '?', at most `max` characters. */
export function asciiField(buf: Uint8Array, off: number, len: number, max = 255): string {
  const n = Math.min(len, max);
  let s = '';
  for (let i = 0; i < n; i++) {
    const c = buf[off + i];
    s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '?';
  }
  return s;
}

export function newRemoteAccess(protocol: RemoteProtocol, encrypted: boolean, tsSec: number, tsNsec: number): RemoteAccessRecord {
  return { type: 'remote_access', ts_sec: tsSec, ts_nsec: tsNsec, protocol, encrypted, initiator: 'client', detection: 'content', weak: false };
}

/**
 * A small fixed buffer for one direction's handshake bytes. It only ever holds what a
 * message needs (parsers copy exactly the missing bytes), so it never grows.
 */
export class HandshakeBuffer {
  readonly buf: Buffer;
  len = 0;
  constructor(capacity: number) {
    this.buf = Buffer.alloc(capacity);
  }

  get capacity(): number {
    return this.buf.length;
  }

  /** Copies up to `want - len` bytes from src; returns how many were taken. */
  fill(want: number, src: Buffer, off: number, avail: number): number {
    const n = Math.min(avail, want - this.len, this.buf.length - this.len);
    if (n <= 0) return 0;
    src.copy(this.buf, this.len, off, off + n);
    this.len += n;
    return n;
  }

  /** Drops the first n bytes. */
  consume(n: number): void {
    if (n >= this.len) {
      this.len = 0;
      return;
    }
    this.buf.copyWithin(0, n, this.len);
    this.len -= n;
  }

  clear(): void {
    // Handshake bytes may include a typed secret (VeNCrypt Plain): do not leave them around.
    this.buf.fill(0, 0, this.len);
    this.len = 0;
  }
}
