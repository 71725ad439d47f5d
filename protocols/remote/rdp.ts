/**
 * RDP connection negotiation (MS-RDPBCGR §2.2.1.1 and §2.2.1.2): the client's X.224
 * Connection Request in a TPKT, with its `Cookie: mstshash=` (the username, only ever
 * reported as a keyed pseudonym) and RDP_NEG_REQ requested protocols; the server's X.224
 * Connection Confirm with RDP_NEG_RSP (the selected protocol) or RDP_NEG_FAILURE. Then
 * detach: what follows is MCS with standard RDP security's own RC4, or TLS (with CredSSP
 * inside for NLA) — then `tlsFrom` says where it starts, for StartTlsStream to hand over.
 *
 * Each direction copies one TPKT at most, into a buffer of MAX_TPKT bytes: an X.224 length
 * indicator is one byte, so a valid CR/CC TPKT is at most 259 bytes. A TPKT with a wrong
 * version or a length outside [11, MAX_TPKT] is counted, reported as malformed, and detached.
 */
import { DETACH, Direction, type StreamEndReason } from '../stream.js';
import type { UpgradableParser } from '../tls/starttls.js';
import { HandshakeBuffer, newRemoteAccess, SKIP_REST, type RemoteAccessRecord, type RemoteParserOptions } from './records.js';

export const TPKT_HEADER = 4;
/** TPKT (4) + X.224 fixed part of CR/CC (7). */
const X224_MIN = 11;
/** TPKT 4 + LI 1 + LI ≤ 254, with room to spare for peers that get the LI wrong. */
export const MAX_TPKT = 512;

const enum X224 {
  ConnectionRequest = 0xe0,
  ConnectionConfirm = 0xd0,
}

const enum Neg {
  Request = 0x01,
  Response = 0x02,
  Failure = 0x03,
}

/** requestedProtocols / selectedProtocol flags (MS-RDPBCGR §2.2.1.1.1). */
const PROTOCOL_FLAGS: readonly [number, string][] = [
  [0x01, 'ssl'],
  [0x02, 'hybrid'],
  [0x04, 'rdstls'],
  [0x08, 'hybrid_ex'],
  [0x10, 'rdsaad'],
];

const SECURITY: Record<string, string> = {
  rdp: 'standard-rdp-security',
  ssl: 'tls',
  hybrid: 'nla',
  hybrid_ex: 'nla',
  rdstls: 'rdstls',
  rdsaad: 'rdsaad',
};

const FAILURES = [
  '',
  'ssl-required-by-server',
  'ssl-not-allowed-by-server',
  'ssl-cert-not-on-server',
  'inconsistent-flags',
  'hybrid-required-by-server',
  'ssl-with-user-auth-required-by-server',
];

/** The names of the requestedProtocols flags set; `rdp` (standard RDP security) when none is. */
export function requestedProtocolNames(flags: number): string[] {
  if (flags === 0) return ['rdp'];
  const out: string[] = [];
  let known = 0;
  for (const [bit, name] of PROTOCOL_FLAGS) {
    if (flags & bit) out.push(name);
    known |= bit;
  }
  if ((flags & ~known) >>> 0 !== 0) out.push(`0x${((flags & ~known) >>> 0).toString(16)}`);
  return out;
}

/** The name of one selectedProtocol value. */
export function selectedProtocolName(value: number): string {
  if (value === 0) return 'rdp';
  for (const [bit, name] of PROTOCOL_FLAGS) if (value === bit) return name;
  return `0x${(value >>> 0).toString(16)}`;
}

export interface RdpCounters {
  bytes: number;
  tpkts: number;
  bad_tpkt_version: number;
  bad_tpkt_length: number;
  x224_length_mismatch: number;
  unexpected_tpdu: number;
  bad_cookie: number;
  bad_negotiation: number;
  selected_not_requested: number;
  gaps: number;
}

const enum St {
  Header,
  Body,
  Done,
}

class DirState {
  state = St.Header;
  readonly hb = new HandshakeBuffer(MAX_TPKT);
  need = TPKT_HEADER;
}

const COOKIE = Buffer.from('Cookie:', 'latin1');
const MSTSHASH = Buffer.from('mstshash=', 'latin1');
/** Longest username we pseudonymize from a cookie (mstsc truncates it anyway). */
const MAX_USERNAME = 256;

function startsWith(b: Buffer, off: number, end: number, what: Buffer): boolean {
  if (end - off < what.length) return false;
  for (let i = 0; i < what.length; i++) if (b[off + i] !== what[i]) return false;
  return true;
}

export class RdpStreamParser implements UpgradableParser {
  readonly counters: RdpCounters = {
    bytes: 0,
    tpkts: 0,
    bad_tpkt_version: 0,
    bad_tpkt_length: 0,
    x224_length_mismatch: 0,
    unexpected_tpdu: 0,
    bad_cookie: 0,
    bad_negotiation: 0,
    selected_not_requested: 0,
    gaps: 0,
  };
  private readonly opts: RemoteParserOptions;
  private readonly dirs: [DirState, DirState] = [new DirState(), new DirState()];
  private readonly rec: RemoteAccessRecord = newRemoteAccess('rdp', false, 0, 0);
  private requestedFlags = -1;
  private confirmed = false;
  private malformed = false;
  private emitted = false;
  /** Where TLS begins in the server's chunk after a Connection Confirm that selected a TLS-based protocol. */
  tlsFrom = -1;
  private lastSec = 0;
  private lastNsec = 0;

  constructor(opts: RemoteParserOptions) {
    this.opts = opts;
  }

  data(dir: Direction, buf: Buffer, off: number, len: number, tsSec: number, tsNsec: number): number {
    if (this.emitted) return DETACH;
    this.lastSec = tsSec;
    this.lastNsec = tsNsec;
    this.counters.bytes += len;
    const d = this.dirs[dir];
    const end = Math.min(off + len, buf.length);
    let p = off;
    while (p < end && d.state !== St.Done) {
      p += d.hb.fill(d.need, buf, p, end - p);
      if (d.hb.len < d.need) break;
      if (d.state === St.Header) {
        if (!this.header(d)) {
          this.finish(tsSec, tsNsec);
          return DETACH;
        }
        continue;
      }
      this.counters.tpkts++;
      if (dir === Direction.ToServer) this.connectionRequest(d.hb.buf, d.need);
      else this.connectionConfirm(d.hb.buf, d.need);
      d.hb.clear();
      d.state = St.Done;
    }
    if (this.confirmed || this.malformed) {
      if (!this.malformed && this.rec.encrypted) this.tlsFrom = p;
      this.finish(tsSec, tsNsec);
      return DETACH;
    }
    // A client that asked for TLS sends its ClientHello after the confirm: its side stays open
    // until then, unless it sends more before the confirm (that is not TLS we could frame).
    return d.state === St.Done && (dir === Direction.ToClient || this.requestedFlags <= 0 || p < end) ? SKIP_REST : 0;
  }

  gap(_dir: Direction, _len: number): void {
    this.counters.gaps++;
    // A hole inside the negotiation: report what is known and stop.
    if (!this.emitted) this.finish(this.lastSec, this.lastNsec);
  }

  end(_reason: StreamEndReason): void {
    if (!this.emitted) this.finish(this.lastSec, this.lastNsec);
  }

  /** Validates the TPKT header; false = not a TPKT we can read (counted). */
  private header(d: DirState): boolean {
    const b = d.hb.buf;
    if (b[0] !== 3 || b[1] !== 0) {
      this.counters.bad_tpkt_version++;
      this.malformed = true;
      return false;
    }
    const n = b.readUInt16BE(2);
    if (n < X224_MIN || n > MAX_TPKT) {
      this.counters.bad_tpkt_length++;
      this.malformed = true;
      return false;
    }
    d.need = n;
    d.state = St.Body;
    return true;
  }

  /** X.224 fixed part; returns false when the TPDU is not the expected one. */
  private x224(b: Buffer, n: number, code: X224): boolean {
    if ((b[5] & 0xf0) !== code) {
      this.counters.unexpected_tpdu++;
      this.malformed = true;
      return false;
    }
    if (b[4] + 5 !== n) this.counters.x224_length_mismatch++;
    return true;
  }

  private connectionRequest(b: Buffer, n: number): void {
    if (!this.x224(b, n, X224.ConnectionRequest)) return;
    let p = X224_MIN;
    if (startsWith(b, p, n, COOKIE)) {
      let crlf = -1;
      for (let i = p; i + 1 < n; i++) {
        if (b[i] === 0x0d && b[i + 1] === 0x0a) {
          crlf = i;
          break;
        }
      }
      if (crlf < 0) {
        this.counters.bad_cookie++;
        p = n;
      } else {
        let v = p + COOKIE.length;
        while (v < crlf && b[v] === 0x20) v++;
        if (startsWith(b, v, crlf, MSTSHASH)) {
          const from = v + MSTSHASH.length;
          const to = Math.min(crlf, from + MAX_USERNAME);
          // The username exists only as this transient string, turned into a keyed pseudonym.
          if (to > from) this.rec.username_pseudonym = this.opts.pseudonymize('username', b.toString('latin1', from, to));
        } else {
          // `Cookie: msts=…` (a load balancer's routing token) or another token: no username.
          this.rec.routing_token = true;
        }
        p = crlf + 2;
      }
    }
    let flags = 0;
    if (n - p >= 8 && b[p] === Neg.Request) {
      if (b.readUInt16LE(p + 2) !== 8) this.counters.bad_negotiation++;
      flags = b.readUInt32LE(p + 4);
    } else if (n - p > 0 && b[p] !== 0x06) {
      // Bytes that are neither a cookie nor an RDP_NEG_REQ (nor RDP_CORRELATION_INFO).
      this.counters.bad_negotiation++;
    }
    this.requestedFlags = flags;
    this.rec.requested_protocols = requestedProtocolNames(flags);
  }

  private connectionConfirm(b: Buffer, n: number): void {
    if (!this.x224(b, n, X224.ConnectionConfirm)) return;
    const p = X224_MIN;
    const rec = this.rec;
    this.confirmed = true;
    if (n - p >= 8 && b[p] === Neg.Response) {
      if (b.readUInt16LE(p + 2) !== 8) this.counters.bad_negotiation++;
      const sel = b.readUInt32LE(p + 4);
      rec.selected_protocol = selectedProtocolName(sel);
      if (this.requestedFlags >= 0 && sel !== 0 && (this.requestedFlags & sel) === 0) this.counters.selected_not_requested++;
    } else if (n - p >= 8 && b[p] === Neg.Failure) {
      const code = b.readUInt32LE(p + 4);
      rec.negotiation_failure = FAILURES[code] || `code-${code}`;
      rec.security = 'negotiation-failed';
      return;
    } else {
      // No RDP_NEG_RSP: a server without negotiation, which means standard RDP security.
      if (n - p > 0) this.counters.bad_negotiation++;
      rec.selected_protocol = 'rdp';
    }
    rec.security = SECURITY[rec.selected_protocol] ?? 'unknown';
    rec.encrypted = rec.selected_protocol !== 'rdp' && rec.security !== 'unknown';
    if (rec.selected_protocol === 'rdp') {
      rec.weak = true;
      rec.weak_reason = 'standard-rdp-security';
    }
  }

  private finish(tsSec: number, tsNsec: number): void {
    this.emitted = true;
    this.dirs[0].hb.clear();
    this.dirs[1].hb.clear();
    const rec = this.rec;
    rec.ts_sec = tsSec;
    rec.ts_nsec = tsNsec;
    if (!this.confirmed) {
      rec.incomplete = true;
      // A client that offers nothing but standard RDP security gets nothing better.
      if (this.requestedFlags === 0) {
        rec.weak = true;
        rec.weak_reason = 'standard-rdp-security';
      }
    }
    if (this.malformed) rec.malformed = true;
    this.opts.emit(rec);
  }
}
