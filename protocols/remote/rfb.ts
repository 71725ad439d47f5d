/**
 * VNC / RFB handshake (RFC 6143 §7.1–7.2; VeNCrypt from libvncserver/QEMU): both
 * ProtocolVersion banners, the security types the server offers (3.7+) or imposes (3.3), the
 * type the client picks, VNC Authentication's challenge/response and the SecurityResult.
 * Then detach: ClientInit/ServerInit and framebuffer updates are never read or copied.
 *
 * The handshake alternates between the sides, so one state machine reads from whichever side
 * the current step expects. Bytes a side sends early wait in that side's small buffer; the
 * step reads straight from the chunk when it can. Nothing is held past the handshake.
 *
 * VNC Authentication (type 2) is a DES challenge-response: the password cannot be recovered
 * from the wire, but it is an offline-crackable exchange in the clear, so it is reported as a
 * `credential.cleartext` of kind `vnc-auth` (no username, no fingerprint). VeNCrypt "Plain"
 * sends a username and password in the clear; those become a pseudonym and a keyed fingerprint.
 */
import { credentialFields } from '../credentials.js';
import { DETACH, Direction, type StreamEndReason, type StreamParser } from '../stream.js';
import { HandshakeBuffer, newRemoteAccess, type RemoteAccessRecord, type RemoteParserOptions } from './records.js';

/** Largest single handshake read: VeNCrypt Plain username + password lengths + 8. */
const MAX_PLAIN = 1024;
const PEND_CAPACITY = MAX_PLAIN + 16;
/** Security type names kept in a record (a server may list up to 255). */
const MAX_TYPES = 32;

export const enum RfbSecurity {
  Invalid = 0,
  None = 1,
  VncAuth = 2,
  Ra2 = 5,
  Ra2ne = 6,
  Tight = 16,
  Ultra = 17,
  Tls = 18,
  VeNCrypt = 19,
  Sasl = 20,
  Md5 = 21,
  Xvp = 22,
  SecureTunnel = 23,
  IntegratedSsh = 24,
  AppleArd = 30,
}

const TYPE_NAMES: Record<number, string> = {
  0: 'invalid',
  1: 'none',
  2: 'vnc-auth',
  5: 'ra2',
  6: 'ra2ne',
  16: 'tight',
  17: 'ultra',
  18: 'tls',
  19: 'vencrypt',
  20: 'sasl',
  21: 'md5',
  22: 'xvp',
  23: 'secure-tunnel',
  24: 'integrated-ssh',
  30: 'apple-ard',
};

/** Types whose session is encrypted as such (RealVNC RA2, anonymous TLS, tunnels). */
const ENCRYPTED_TYPES = new Set<number>([RfbSecurity.Ra2, RfbSecurity.Tls, RfbSecurity.SecureTunnel, RfbSecurity.IntegratedSsh]);

export function rfbSecurityName(t: number): string {
  return TYPE_NAMES[t] ?? `type-${t}`;
}

const VENCRYPT_SUBTYPES: Record<number, string> = {
  256: 'plain',
  257: 'tls-none',
  258: 'tls-vnc',
  259: 'tls-plain',
  260: 'x509-none',
  261: 'x509-vnc',
  262: 'x509-plain',
  263: 'tls-sasl',
  264: 'x509-sasl',
};

export interface RfbCounters {
  bytes: number;
  bad_version: number;
  early_bytes_overflow: number;
  security_failures: number;
  bad_vencrypt: number;
  credentials_too_long: number;
  gaps: number;
}

const enum St {
  ServerVersion,
  ClientVersion,
  Security33,
  SecurityCount,
  SecurityTypes,
  SecurityChoice,
  VncChallenge,
  VncResponse,
  SecurityResult,
  VeServerVersion,
  VeClientVersion,
  VeStatus,
  VeCount,
  VeSubtype,
  VeChoice,
  PlainLengths,
  PlainCredentials,
  Done,
}

/** Which side sends the message each state reads. */
function stateDir(s: St): Direction {
  switch (s) {
    case St.ClientVersion:
    case St.SecurityChoice:
    case St.VncResponse:
    case St.VeClientVersion:
    case St.VeChoice:
    case St.PlainLengths:
    case St.PlainCredentials:
      return Direction.ToServer;
    default:
      return Direction.ToClient;
  }
}

/** "RFB xxx.yyy\n" → [major, minor], or null. */
function readVersion(b: Buffer, o: number): [number, number] | null {
  if (b[o] !== 0x52 || b[o + 1] !== 0x46 || b[o + 2] !== 0x42 || b[o + 3] !== 0x20 || b[o + 7] !== 0x2e || b[o + 11] !== 0x0a) return null;
  let maj = 0;
  let min = 0;
  for (let i = 4; i < 7; i++) {
    const c = b[o + i] - 0x30;
    if (c < 0 || c > 9) return null;
    maj = maj * 10 + c;
  }
  for (let i = 8; i < 11; i++) {
    const c = b[o + i] - 0x30;
    if (c < 0 || c > 9) return null;
    min = min * 10 + c;
  }
  return [maj, min];
}

function pad3(n: number): string {
  return String(n).padStart(3, '0');
}

export class RfbStreamParser implements StreamParser {
  readonly counters: RfbCounters = { bytes: 0, bad_version: 0, early_bytes_overflow: 0, security_failures: 0, bad_vencrypt: 0, credentials_too_long: 0, gaps: 0 };
  private readonly opts: RemoteParserOptions;
  private readonly pend: [HandshakeBuffer, HandshakeBuffer] = [new HandshakeBuffer(PEND_CAPACITY), new HandshakeBuffer(PEND_CAPACITY)];
  private readonly rec: RemoteAccessRecord = newRemoteAccess('vnc', false, 0, 0);
  private state = St.ServerVersion;
  private serverVersion: [number, number] = [0, 0];
  /** Effective minor version: 3 (3.3 flow), 7 or 8. */
  private flow = 3;
  private count = 0;
  private chosen = -1;
  private subtype = -1;
  private userLen = 0;
  private passLen = 0;
  private emitted = false;
  private malformed = false;
  private incomplete = false;
  private lastSec = 0;
  private lastNsec = 0;

  // The chunk being read (valid during data() only).
  private cDir: Direction = Direction.ToServer;
  private cBuf: Buffer | null = null;
  private cPos = 0;
  private cEnd = 0;
  /** Where the last view() came from: true = the side's pending buffer. */
  private fromPend = false;

  constructor(opts: RemoteParserOptions) {
    this.opts = opts;
  }

  data(dir: Direction, buf: Buffer, off: number, len: number, tsSec: number, tsNsec: number): number {
    if (this.emitted) return DETACH;
    this.lastSec = tsSec;
    this.lastNsec = tsNsec;
    this.counters.bytes += len;
    this.cDir = dir;
    this.cBuf = buf;
    this.cPos = off;
    this.cEnd = Math.min(off + len, buf.length);
    while (this.state !== St.Done && this.step(tsSec, tsNsec));
    if (this.state !== St.Done && this.cPos < this.cEnd) {
      // Early bytes of a side whose turn has not come: keep them (bounded).
      const p = this.pend[dir];
      const n = this.cEnd - this.cPos;
      if (p.fill(p.len + n, buf, this.cPos, n) < n) {
        this.counters.early_bytes_overflow++;
        this.malformed = true;
        this.state = St.Done;
      }
    }
    this.cBuf = null;
    if (this.state === St.Done) {
      this.finish(tsSec, tsNsec);
      return DETACH;
    }
    return 0;
  }

  gap(_dir: Direction, _len: number): void {
    this.counters.gaps++;
    if (!this.emitted) {
      this.incomplete = true;
      this.finish(this.lastSec, this.lastNsec);
    }
  }

  end(_reason: StreamEndReason): void {
    if (this.emitted) return;
    if (this.state !== St.Done) this.incomplete = true;
    this.finish(this.lastSec, this.lastNsec);
  }

  /**
   * A view of the next k bytes of `dir` (from its pending buffer, or straight from the chunk),
   * or null when they have not all arrived; partial bytes move to the pending buffer.
   */
  private view(dir: Direction, k: number): Buffer | null {
    const p = this.pend[dir];
    if (p.len >= k) {
      this.fromPend = true;
      return p.buf;
    }
    if (dir !== this.cDir || this.cBuf === null) return null;
    const avail = this.cEnd - this.cPos;
    if (p.len === 0 && avail >= k) {
      this.fromPend = false;
      return this.cBuf;
    }
    this.cPos += p.fill(k, this.cBuf, this.cPos, avail);
    if (p.len < k) return null;
    this.fromPend = true;
    return p.buf;
  }

  /** Offset of the view's first byte. */
  private get at(): number {
    return this.fromPend ? 0 : this.cPos;
  }

  private consume(dir: Direction, k: number): void {
    if (this.fromPend) this.pend[dir].consume(k);
    else this.cPos += k;
  }

  /** One handshake message; false when its bytes are not all there yet. */
  private step(tsSec: number, tsNsec: number): boolean {
    const s = this.state;
    const dir = stateDir(s);
    const rec = this.rec;
    switch (s) {
      case St.ServerVersion:
      case St.ClientVersion: {
        const b = this.view(dir, 12);
        if (b === null) return false;
        const o = this.at;
        const v = readVersion(b, o);
        if (v === null) {
          this.counters.bad_version++;
          this.malformed = true;
          this.state = St.Done;
          return false;
        }
        const banner = `RFB ${pad3(v[0])}.${pad3(v[1])}`;
        this.consume(dir, 12);
        if (s === St.ServerVersion) {
          rec.server_banner = banner;
          this.serverVersion = v;
          this.state = St.ClientVersion;
          return true;
        }
        rec.client_banner = banner;
        const sv = this.serverVersion;
        const [maj, min] = v[0] < sv[0] || (v[0] === sv[0] && v[1] < sv[1]) ? v : sv;
        rec.protocol_version = `${maj}.${min}`;
        // RFC 6143 §7.1.1: anything below 3.7 is 3.3; 3.889 (Apple) and 4.x follow 3.8.
        this.flow = maj > 3 || min >= 8 ? 8 : min === 7 ? 7 : 3;
        this.state = this.flow === 3 ? St.Security33 : St.SecurityCount;
        return true;
      }
      case St.Security33: {
        const b = this.view(dir, 4);
        if (b === null) return false;
        const t = b.readUInt32BE(this.at);
        this.consume(dir, 4);
        if (t === 0) return this.securityFailed();
        rec.security_types = [rfbSecurityName(t)];
        return this.chose(t);
      }
      case St.SecurityCount: {
        const b = this.view(dir, 1);
        if (b === null) return false;
        this.count = b[this.at];
        this.consume(dir, 1);
        if (this.count === 0) return this.securityFailed();
        this.state = St.SecurityTypes;
        return true;
      }
      case St.SecurityTypes: {
        const b = this.view(dir, this.count);
        if (b === null) return false;
        const o = this.at;
        const names: string[] = [];
        for (let i = 0; i < this.count && names.length < MAX_TYPES; i++) names.push(rfbSecurityName(b[o + i]));
        rec.security_types = names;
        this.consume(dir, this.count);
        this.state = St.SecurityChoice;
        return true;
      }
      case St.SecurityChoice: {
        const b = this.view(dir, 1);
        if (b === null) return false;
        const t = b[this.at];
        this.consume(dir, 1);
        return this.chose(t);
      }
      case St.VncChallenge: {
        if (this.view(dir, 16) === null) return false;
        this.consume(dir, 16);
        this.state = St.VncResponse;
        return true;
      }
      case St.VncResponse: {
        if (this.view(dir, 16) === null) return false;
        this.consume(dir, 16);
        this.credential(tsSec, tsNsec, credentialFields(this.opts.pseudonymize, 'vnc', 'vnc-auth'));
        this.state = St.SecurityResult;
        return true;
      }
      case St.SecurityResult: {
        const b = this.view(dir, 4);
        if (b === null) return false;
        rec.auth_result = b.readUInt32BE(this.at) === 0 ? 'ok' : 'failed';
        this.consume(dir, 4);
        this.state = St.Done;
        return false;
      }
      case St.VeServerVersion:
      case St.VeClientVersion: {
        const b = this.view(dir, 2);
        if (b === null) return false;
        const maj = b[this.at];
        const min = b[this.at + 1];
        this.consume(dir, 2);
        if (maj !== 0 || min !== 2) {
          // VeNCrypt 0.1 (8-bit subtypes) is long obsolete; report the type without the subtype.
          this.counters.bad_vencrypt++;
          this.state = St.Done;
          return false;
        }
        this.state = s === St.VeServerVersion ? St.VeClientVersion : St.VeStatus;
        return true;
      }
      case St.VeStatus: {
        const b = this.view(dir, 1);
        if (b === null) return false;
        const ok = b[this.at] === 0;
        this.consume(dir, 1);
        if (!ok) return this.securityFailed();
        this.state = St.VeCount;
        return true;
      }
      case St.VeCount: {
        const b = this.view(dir, 1);
        if (b === null) return false;
        this.count = b[this.at];
        this.consume(dir, 1);
        if (this.count === 0) return this.securityFailed();
        this.state = St.VeSubtype;
        return true;
      }
      case St.VeSubtype: {
        // One at a time: a list of up to 255 u32 needs no buffer.
        if (this.view(dir, 4) === null) return false;
        this.consume(dir, 4);
        if (--this.count === 0) this.state = St.VeChoice;
        return true;
      }
      case St.VeChoice: {
        const b = this.view(dir, 4);
        if (b === null) return false;
        const sub = b.readUInt32BE(this.at);
        this.consume(dir, 4);
        this.subtype = sub;
        rec.vencrypt_subtype = VENCRYPT_SUBTYPES[sub] ?? `subtype-${sub}`;
        if (sub === 256) {
          this.state = St.PlainLengths;
          return true;
        }
        // Every other subtype starts TLS (anonymous or X.509) before anything else.
        this.state = St.Done;
        return false;
      }
      case St.PlainLengths: {
        const b = this.view(dir, 8);
        if (b === null) return false;
        this.userLen = b.readUInt32BE(this.at);
        this.passLen = b.readUInt32BE(this.at + 4);
        this.consume(dir, 8);
        if (this.userLen + this.passLen > MAX_PLAIN) {
          // Still a cleartext password; we just will not hold that much to fingerprint it.
          this.counters.credentials_too_long++;
          this.credential(tsSec, tsNsec, credentialFields(this.opts.pseudonymize, 'vnc', 'password'));
          this.state = St.Done;
          return false;
        }
        this.state = St.PlainCredentials;
        return true;
      }
      case St.PlainCredentials: {
        const n = this.userLen + this.passLen;
        const b = this.view(dir, n);
        if (b === null) return false;
        const o = this.at;
        // The values exist only as these transient strings, handed straight to the keyed hash.
        const user = b.toString('latin1', o, o + this.userLen);
        const pass = b.toString('latin1', o + this.userLen, o + n);
        this.consume(dir, n);
        this.pend[dir].clear();
        this.credential(tsSec, tsNsec, credentialFields(this.opts.pseudonymize, 'vnc', 'password', user, pass));
        this.state = St.SecurityResult;
        return true;
      }
      default:
        return false;
    }
  }

  /** The security type in use is known; what comes next depends on it. */
  private chose(t: number): boolean {
    const rec = this.rec;
    this.chosen = t;
    rec.security = rfbSecurityName(t);
    switch (t) {
      case RfbSecurity.VncAuth:
        this.state = St.VncChallenge;
        return true;
      case RfbSecurity.None:
        // 3.8 sends a SecurityResult even for None; 3.3 and 3.7 go straight to ClientInit.
        this.state = this.flow === 8 ? St.SecurityResult : St.Done;
        return this.state !== St.Done;
      case RfbSecurity.VeNCrypt:
        this.state = St.VeServerVersion;
        return true;
      case RfbSecurity.Invalid:
        return this.securityFailed();
      default:
        this.state = St.Done;
        return false;
    }
  }

  private securityFailed(): boolean {
    this.counters.security_failures++;
    this.rec.security = 'failed';
    this.state = St.Done;
    return false;
  }

  private credential(tsSec: number, tsNsec: number, f: ReturnType<typeof credentialFields>): void {
    this.opts.emit({ type: 'credential.cleartext', ts_sec: tsSec, ts_nsec: tsNsec, ...f });
  }

  private finish(tsSec: number, tsNsec: number): void {
    this.emitted = true;
    this.pend[0].clear();
    this.pend[1].clear();
    const rec = this.rec;
    rec.ts_sec = tsSec;
    rec.ts_nsec = tsNsec;
    const t = this.chosen;
    const sub = this.subtype;
    if (t === RfbSecurity.VeNCrypt) rec.encrypted = sub >= 257 && sub <= 264;
    else rec.encrypted = ENCRYPTED_TYPES.has(t);
    if (t === RfbSecurity.None || sub === 257 || sub === 260) {
      rec.weak = true;
      rec.weak_reason = 'no-authentication';
    } else if (t === RfbSecurity.VncAuth) {
      rec.weak = true;
      rec.weak_reason = 'vnc-auth-without-tls';
    } else if (sub === 256) {
      rec.weak = true;
      rec.weak_reason = 'cleartext-password';
    } else if (t >= 0 && !rec.encrypted && rec.security !== 'failed' && !(t === RfbSecurity.VeNCrypt && sub < 0)) {
      rec.weak = true;
      rec.weak_reason = 'unencrypted';
    }
    if (this.incomplete) rec.incomplete = true;
    if (this.malformed) rec.malformed = true;
    this.opts.emit(rec);
  }
}
