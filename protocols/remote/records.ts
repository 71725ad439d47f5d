import type { CredentialFields } from '../credentials.js';
import type { Pseudonymize } from '../phi/pseudonym.js';

/**
 * What the remote-access parsers emit. Field names follow the `remote_access` and
 * `credential.cleartext` contracts in docs/events.md; the agent adds `ts` (ISO) and `flow`.
 * Banners and versions are device facts. Usernames appear only as keyed pseudonyms, and
 * secrets never: at most a keyed fingerprint (credentials.ts).
 */

export type RemoteProtocol = 'rdp' | 'vnc' | 'ssh' | 'teamviewer' | 'anydesk' | 'telnet';

/** How the protocol was recognised: by its bytes, by TLS SNI, or only by its well-known port. */
export type RemoteDetection = 'content' | 'sni' | 'port';

export interface RemoteAccessRecord {
  type: 'remote_access';
  /** Capture time of the bytes that completed the facts (or of the last bytes, at end). */
  ts_sec: number;
  ts_nsec: number;
  protocol: RemoteProtocol;
  /**
   * True only when the session's transport is known to be encrypted (SSH; RDP with TLS,
   * CredSSP or RDSTLS selected; VNC over TLS/VeNCrypt-TLS; TeamViewer/AnyDesk). A session
   * that ended before the server chose (`incomplete`) is not claimed to be encrypted.
   */
  encrypted: boolean;
  /** Who opened the session: always the flow's client (`flow.src_ip`). */
  initiator: 'client';
  /**
   * Set by the agent when the capture missed the TCP handshake: the client is then the side
   * the port heuristics chose, not the SYN sender.
   */
  initiator_inferred?: boolean;
  detection: RemoteDetection;
  /** A security weakness of the session itself (cleartext, standard RDP security, VNC auth without TLS, SSH-1…). */
  weak: boolean;
  weak_reason?: string;
  /** The connection ended (or lost bytes) before the facts below were all seen. */
  incomplete?: boolean;
  /** The handshake did not parse (bad TPKT length, unknown RFB message…): counted, then detached. */
  malformed?: boolean;

  /** SSH identification strings / RFB ProtocolVersion, without the line end. */
  client_banner?: string;
  server_banner?: string;
  /** SSH: software and comments of each side; the protocol version in use ("2.0", "1.5"). */
  client_software?: string;
  server_software?: string;
  client_comments?: string;
  server_comments?: string;
  /** SSH "2.0"; RFB "3.8" (the version both sides use). */
  protocol_version?: string;

  /**
   * RDP: the security class in use (`standard-rdp-security`, `tls`, `nla`, `nla-early-user-auth`, `rdstls`,
   * `rdsaad`, `negotiation-failed`). VNC: the chosen security type (`none`, `vnc-auth`, `vencrypt`…).
   * Telnet: `none` (or `telnet-encrypt` once both sides start the ENCRYPT option).
   */
  security?: string;
  /** RDP: RDP_NEG_REQ requestedProtocols, as MS-RDPBCGR names (`rdp` = standard security only). */
  requested_protocols?: string[];
  /** RDP: RDP_NEG_RSP selectedProtocol (`rdp`, `ssl`, `hybrid`, `rdstls`, `hybrid_ex`, `rdsaad`). */
  selected_protocol?: string;
  /** RDP: RDP_NEG_FAILURE code name. */
  negotiation_failure?: string;
  /** RDP: the X.224 cookie carried a routing token instead of a username. */
  routing_token?: boolean;
  /** RDP `mstshash=` cookie as a keyed pseudonym (kind 'username'). */
  username_pseudonym?: string;

  /** VNC: the security types the server offered (3.7+), or the one it imposed (3.3). */
  security_types?: string[];
  /** VNC: VeNCrypt subtype chosen by the client. */
  vencrypt_subtype?: string;
  /** VNC SecurityResult: `ok` or `failed`. */
  auth_result?: 'ok' | 'failed';

  /** Telnet: options in effect (one side WILL, the other DO), by name. */
  options?: string[];
  /** Telnet: the server asked for a login name or password. */
  login_prompt?: boolean;
  /** Telnet: passwords typed at a password prompt. */
  login_attempts?: number;

  /** TeamViewer: protocol generation by frame magic (`0x1724` → 2, `0x1130` → 1) and first commands. */
  teamviewer_version?: number;
  client_command?: string;
  server_command?: string;
}

export interface RemoteCredentialRecord extends CredentialFields {
  type: 'credential.cleartext';
  ts_sec: number;
  ts_nsec: number;
}

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
