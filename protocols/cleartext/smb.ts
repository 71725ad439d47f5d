/**
 * SMB over TCP (NetBIOS session framing, port 445/139), as a StreamParser that reads only the
 * start of a session: the NEGOTIATE exchange (dialects offered and chosen, SMBv1, signing) and
 * the NTLMSSP AUTHENTICATE message of SESSION_SETUP, or an SMB1 session setup without extended
 * security (user name as a keyed pseudonym, domain, NTLMv1, null session). A login the server
 * refuses may be followed by another on the same connection (smbclient -N tries the local user
 * with no password, then a null session), so the record describes the login the server accepted,
 * or the last one tried. Each message is copied only up to 16 KiB and only while the session
 * start is read; then one `smb` record is emitted and the parser detaches, so file data is never
 * copied (of a capture of the client's side only, the header of its first request after the login
 * is read up to the command, which tells that the login went through).
 */
import type { Pseudonymize } from '../phi/pseudonym.js';
import { DETACH, type Direction, type StreamEndReason, type StreamParser } from '../stream.js';
import type { CleartextEmit, SmbRecord } from './records.js';
import { cleanText, holdsFnr } from './text.js';

export interface SmbParserOptions {
  emit: CleartextEmit;
  pseudonymize: Pseudonymize;
  /** Bytes of each message copied for parsing. Default 16 KiB. */
  maxCopy?: number;
  /** Messages per direction read before giving up on the session start. Default 16. */
  maxMessages?: number;
}

export interface SmbCounters {
  messages: number;
  smb1Messages: number;
  smb2Messages: number;
  /** SMB3 transform (encrypted) or compressed messages. */
  transformMessages: number;
  otherMessages: number;
  badFraming: number;
  malformed: number;
  gaps: number;
}

/** NetBIOS session message length cap (SMB2 allows 8 MiB writes plus headers). */
const MAX_NBSS = 16 * 1024 * 1024;
const NTLMSSP = Buffer.from('NTLMSSP\0', 'latin1');
/** STATUS_MORE_PROCESSING_REQUIRED: the session setup goes on with another leg. */
const MORE_PROCESSING_REQUIRED = 0xc0000016;
/** Bytes of a message that hold its command: the SMB2 header's Command at 12, SMB1's at 4. */
const COMMAND_BYTES = 14;
const SMB2_DIALECTS: Record<number, string> = {
  0x0202: '2.0.2',
  0x0210: '2.1',
  0x0222: '2.2.2',
  0x0224: '2.2.4',
  0x0300: '3.0',
  0x0302: '3.0.2',
  0x0310: '3.1',
  0x0311: '3.1.1',
  0x02ff: '2.???',
};

const enum St {
  Header,
  Body,
}

class Side {
  st = St.Header;
  readonly hdr = Buffer.alloc(4);
  hdrLen = 0;
  msgType = 0;
  msgLen = 0;
  /** Bytes of the current message still to come. */
  left = 0;
  msg: Buffer | null = null;
  copied = 0;
  messages = 0;
}

function dialectName(v: number): string {
  return SMB2_DIALECTS[v] ?? `0x${v.toString(16).padStart(4, '0')}`;
}

export class SmbStreamParser implements StreamParser {
  readonly counters: SmbCounters = { messages: 0, smb1Messages: 0, smb2Messages: 0, transformMessages: 0, otherMessages: 0, badFraming: 0, malformed: 0, gaps: 0 };
  private readonly emit: CleartextEmit;
  private readonly pseudonymize: Pseudonymize;
  private readonly maxCopy: number;
  private readonly maxMessages: number;
  private readonly sides: [Side, Side] = [new Side(), new Side()];
  private readonly rec: SmbRecord = { type: 'smb', ts_sec: 0, ts_nsec: 0, smb1: false };
  /** SMB1 dialect strings of the client's NEGOTIATE, for the server's index. */
  private smb1Dialects: string[] = [];
  private negotiated = false;
  /** The server accepted a login, or the client went on past one (a capture of its side only). */
  private authenticated = false;
  /** A login was sent and the server's answer to it is not yet seen. */
  private verdictPending = false;
  private seen = false;
  private ended = false;
  private tsSec = 0;
  private tsNsec = 0;

  constructor(opts: SmbParserOptions) {
    this.emit = opts.emit;
    this.pseudonymize = opts.pseudonymize;
    this.maxCopy = opts.maxCopy ?? 16 * 1024;
    this.maxMessages = opts.maxMessages ?? 16;
  }

  get bufferedBytes(): number {
    let n = 0;
    for (const s of this.sides) if (s.msg !== null) n += s.msg.length;
    return n;
  }

  data(dir: Direction, buf: Buffer, off: number, len: number, tsSec: number, tsNsec: number): number {
    if (this.ended) return DETACH;
    this.tsSec = tsSec;
    this.tsNsec = tsNsec;
    const s = this.sides[dir];
    const end = off + len;
    let pos = off;
    while (pos < end) {
      if (s.st === St.Header) {
        const n = Math.min(4 - s.hdrLen, end - pos);
        buf.copy(s.hdr, s.hdrLen, pos, pos + n);
        s.hdrLen += n;
        pos += n;
        if (s.hdrLen < 4) break;
        s.hdrLen = 0;
        const type = s.hdr[0];
        const length = (s.hdr[1] << 16) | (s.hdr[2] << 8) | s.hdr[3];
        if ((type !== 0x00 && (type < 0x81 || type > 0x85)) || length > MAX_NBSS) {
          this.counters.badFraming++;
          return this.finish();
        }
        s.msgType = type;
        s.msgLen = length;
        s.left = length;
        s.copied = 0;
        if (length === 0) continue;
        s.st = St.Body;
        if (type === 0x00) {
          const need = Math.min(length, this.maxCopy);
          if (s.msg === null || s.msg.length < need) s.msg = Buffer.allocUnsafe(need);
        }
        continue;
      }
      // Body: copy the head of a session message, skip the rest.
      const n = Math.min(s.left, end - pos);
      if (s.msgType === 0x00) {
        const take = Math.min(n, this.maxCopy - s.copied);
        if (take > 0) {
          buf.copy(s.msg!, s.copied, pos, pos + take);
          s.copied += take;
          // A client that sends anything but a session setup after its login has been let in;
          // stop at that message's header so what it carries (file data) is not copied.
          if (dir === 0 && this.verdictPending && s.copied >= COMMAND_BYTES && s.copied - take < COMMAND_BYTES && !isSessionStart(s.msg!)) {
            this.authenticated = true;
            return this.finish();
          }
        }
      }
      pos += n;
      s.left -= n;
      const full = s.msgType !== 0x00 || s.copied === Math.min(s.msgLen, this.maxCopy);
      if (s.left > 0 && !full) continue;
      let skip = 0;
      if (s.left > 0) {
        // Everything we copy is in: the rest of the message is dropped by the reassembler.
        skip = s.left;
        s.left = 0;
      }
      s.st = St.Header;
      if (s.msgType === 0x00 && this.message(dir, s)) return this.finish();
      if (skip > 0) return skip;
    }
    return 0;
  }

  gap(_dir: Direction, _len: number): void {
    this.counters.gaps++;
    // Framing across a hole cannot be trusted: report what the session start showed.
    if (!this.ended) this.finish();
  }

  end(_reason: StreamEndReason): void {
    this.finish();
  }

  /** One session message (its first maxCopy bytes). True when the session start is fully read. */
  private message(dir: Direction, s: Side): boolean {
    this.counters.messages++;
    s.messages++;
    const m = s.msg!;
    const n = s.copied;
    if (n >= 4 && m[1] === 0x53 && m[2] === 0x4d && m[3] === 0x42) {
      if (m[0] === 0xfe) this.smb2(dir, m, n);
      else if (m[0] === 0xff) this.smb1(dir, m, n);
      else if (m[0] === 0xfd || m[0] === 0xfc) this.counters.transformMessages++;
      else this.counters.otherMessages++;
    } else {
      this.counters.otherMessages++;
    }
    if (this.negotiated && this.authenticated) return true;
    return this.sides[0].messages >= this.maxMessages || this.sides[1].messages >= this.maxMessages || this.counters.transformMessages > 0;
  }

  private smb2(dir: Direction, m: Buffer, n: number): void {
    this.counters.smb2Messages++;
    if (n < 64) {
      this.counters.malformed++;
      return;
    }
    this.seen = true;
    const cmd = m.readUInt16LE(12);
    const response = (m.readUInt32LE(16) & 1) !== 0 || dir === 1;
    if (cmd === 0) {
      if (!response) {
        if (n < 100) return void this.counters.malformed++;
        const count = Math.min(m.readUInt16LE(66), 64);
        const names: string[] = [];
        for (let i = 0; i < count && 100 + 2 * i + 2 <= n; i++) names.push(dialectName(m.readUInt16LE(100 + 2 * i)));
        this.rec.dialects_offered = names;
      } else {
        if (n < 70) return void this.counters.malformed++;
        this.rec.signing_required = (m.readUInt16LE(66) & 0x02) !== 0;
        const d = m.readUInt16LE(68);
        this.rec.dialect = dialectName(d);
        // 2.??? means "upgrade to SMB2 and negotiate again"; the real answer follows.
        if (d !== 0x02ff) this.negotiated = true;
      }
    } else if (cmd === 1) {
      if (response) {
        this.verdict(m.readUInt32LE(8));
        this.challenge(m, 64, n);
      } else {
        this.ntlm(m, 64, n);
      }
    }
  }

  private smb1(dir: Direction, m: Buffer, n: number): void {
    this.counters.smb1Messages++;
    if (n < 35) {
      this.counters.malformed++;
      return;
    }
    this.seen = true;
    const cmd = m[4];
    const response = (m[9] & 0x80) !== 0 || dir === 1;
    if (response || cmd !== 0x72) this.rec.smb1 = true;
    const wc = m[32];
    const bcOff = 33 + 2 * wc;
    if (cmd === 0x72) {
      if (!response) {
        if (bcOff + 2 > n) return void this.counters.malformed++;
        const bc = m.readUInt16LE(bcOff);
        const end = Math.min(n, bcOff + 2 + bc);
        const names: string[] = [];
        let p = bcOff + 2;
        while (p < end && names.length < 16) {
          if (m[p] !== 0x02) break;
          let z = p + 1;
          while (z < end && m[z] !== 0) z++;
          names.push(cleanText(m.toString('latin1', p + 1, Math.min(z, p + 33)), 32));
          p = z + 1;
        }
        this.smb1Dialects = names;
        this.rec.dialects_offered = names;
        if (names.some((d) => !d.startsWith('SMB 2.'))) this.rec.smb1_offered = true;
      } else {
        if (wc < 1) return void this.counters.malformed++;
        const idx = m.readUInt16LE(33);
        if (idx !== 0xffff && idx < this.smb1Dialects.length) this.rec.dialect = this.smb1Dialects[idx];
        this.negotiated = true;
      }
    } else if (cmd === 0x73 && response) {
      // Status: an NT status, or a DOS error class and code; zero is success in both.
      this.verdict(m.readUInt32LE(5));
      this.challenge(m, 32, n);
    } else if (cmd === 0x73) {
      // Thirteen words: the pre-NTLMSSP request, whose challenge responses sit in the message itself.
      if (wc === 13) this.legacySessionSetup(m, n);
      else this.ntlm(m, 32, n);
    }
  }

  /**
   * SMB1 SESSION_SETUP_ANDX without extended security ([MS-CIFS] 2.2.4.53.1): OEM and Unicode
   * password fields, then the account name and domain. A 24-byte response is NTLMv1 (or LM); no
   * name and no response is a null session. The password fields are never read as text.
   */
  private legacySessionSetup(m: Buffer, n: number): void {
    if (n < 61) return void this.counters.malformed++;
    const oemLen = m.readUInt16LE(47);
    const uniLen = m.readUInt16LE(49);
    const unicode = (m.readUInt16LE(10) & 0x8000) !== 0;
    const end = Math.min(n, 61 + m.readUInt16LE(59));
    this.newLogin();
    let p = 61 + oemLen + uniLen;
    if (p > end) return void this.counters.malformed++;
    const read = (max: number): string | null => {
      if (unicode && p % 2 === 1) p++;
      let z = p;
      if (unicode) while (z + 1 < end && (m[z] !== 0 || m[z + 1] !== 0)) z += 2;
      else while (z < end && m[z] !== 0) z++;
      if (z >= end) return null;
      const text = m.toString(unicode ? 'utf16le' : 'latin1', p, Math.min(z, p + max));
      p = z + (unicode ? 2 : 1);
      return text;
    };
    const user = read(512);
    const domain = user === null ? null : read(128);
    const nt = uniLen > 0 ? uniLen : oemLen;
    if (nt === 24) this.rec.ntlm_v1 = true;
    if ((user === null || user === '') && uniLen === 0 && oemLen <= 1) this.rec.anonymous = true;
    if (user) this.rec.username_pseudonym = this.pseudonymize('username', user);
    const d = domain ? cleanText(domain, 64) : '';
    if (d !== '' && !holdsFnr(d)) this.rec.ntlm_domain = d;
  }

  /**
   * A login begins: what the one before it said about the user no longer holds. An NTLMv1
   * response stays noted: it went over the wire, and the client that sent it is set up for NTLMv1.
   */
  private newLogin(): void {
    delete this.rec.username_pseudonym;
    delete this.rec.ntlm_domain;
    delete this.rec.anonymous;
    delete this.rec.client_os_version;
    this.verdictPending = true;
  }

  /** The server's status for a SESSION_SETUP: success ends the session start, a refusal waits for another login. */
  private verdict(status: number): void {
    if (!this.verdictPending || status === MORE_PROCESSING_REQUIRED) return;
    this.verdictPending = false;
    if (status === 0) this.authenticated = true;
  }

  /**
   * NTLMSSP CHALLENGE (type 2) from the server: only its VERSION field ([MS-NLMP] 2.2.2.10), the
   * server's Windows version, which the end-of-support rule reads. Present only when the server
   * sets NTLMSSP_NEGOTIATE_VERSION.
   */
  private challenge(m: Buffer, from: number, n: number): void {
    const at = m.subarray(0, n).indexOf(NTLMSSP, from);
    if (at < 0 || at + 56 > n || m.readUInt32LE(at + 8) !== 2 || (m.readUInt16LE(at + 12) > 0 && m.readUInt32LE(at + 16) < 56)) return;
    const v = ntlmVersion(m, at + 48, m.readUInt32LE(at + 20));
    if (v) this.rec.server_os_version = v;
  }

  /** NTLMSSP AUTHENTICATE (type 3) somewhere in m[from, n). */
  private ntlm(m: Buffer, from: number, n: number): void {
    const at = m.subarray(0, n).indexOf(NTLMSSP, from);
    if (at < 0 || at + 64 > n) return;
    const type = m.readUInt32LE(at + 8);
    if (type !== 3) return;
    this.newLogin();
    const field = (o: number): [number, number] | null => {
      const len = m.readUInt16LE(at + o);
      const offset = m.readUInt32LE(at + o + 4);
      if (len === 0) return [0, 0];
      if (at + offset + len > n) return null;
      return [at + offset, len];
    };
    const flags = m.readUInt32LE(at + 60);
    const unicode = (flags & 1) !== 0;
    const str = (f: [number, number] | null, max: number) =>
      f === null || f[1] === 0 ? '' : m.toString(unicode ? 'utf16le' : 'latin1', f[0], f[0] + Math.min(f[1], max));
    const nt = field(20);
    const userField = field(36);
    const user = str(userField, 512);
    const domainField = field(28);
    // A domain that runs into the user name's bytes (a bad length or offset) would carry the user
    // name out in clear: it is not reported.
    const overlaps = domainField !== null && userField !== null && userField[1] > 0 && domainField[0] < userField[0] + userField[1] && userField[0] < domainField[0] + domainField[1];
    const domain = overlaps ? '' : cleanText(str(domainField, 128), 64);
    if (nt !== null && nt[1] === 24) this.rec.ntlm_v1 = true;
    if (user === '' && (nt === null || nt[1] === 0)) this.rec.anonymous = true;
    if (user !== '') this.rec.username_pseudonym = this.pseudonymize('username', user);
    if (domain !== '' && !holdsFnr(domain)) this.rec.ntlm_domain = domain;
    if (nt === null) this.counters.malformed++;
    // The VERSION field sits before the payload: only where every payload offset leaves room for it.
    const clear = (o: number) => m.readUInt16LE(at + o) === 0 || m.readUInt32LE(at + o + 4) >= 72;
    if (at + 72 <= n && clear(12) && clear(20) && clear(28) && clear(36)) {
      const v = ntlmVersion(m, at + 64, flags);
      if (v) this.rec.client_os_version = v;
    }
  }

  private finish(): number {
    if (!this.ended) {
      this.ended = true;
      this.sides[0].msg = this.sides[1].msg = null;
      if (this.seen) {
        this.rec.ts_sec = this.tsSec;
        this.rec.ts_nsec = this.tsNsec;
        this.emit(this.rec);
      }
    }
    return DETACH;
  }
}

const NTLMSSP_NEGOTIATE_VERSION = 0x02000000;

/** The VERSION structure ([MS-NLMP] 2.2.2.10) as major.minor.build, when the flags say it is there and it looks like one. */
function ntlmVersion(m: Buffer, o: number, flags: number): string | null {
  if ((flags & NTLMSSP_NEGOTIATE_VERSION) === 0) return null;
  const major = m[o];
  const minor = m[o + 1];
  const build = m.readUInt16LE(o + 2);
  // NTLMSSP_REVISION_W2K3 (15) is the only revision Windows sends; anything else is not a version.
  // Samba sends 6.1 with build 0 whatever it runs on, and no Windows release has build 0: that
  // is not a Windows version either (it would name every Samba host Windows 7).
  if (m[o + 7] !== 0x0f || major === 0 || major > 20 || build === 0) return null;
  return `${major}.${minor}.${build}`;
}

/** NEGOTIATE or SESSION_SETUP, in SMB2 or SMB1: what a client may send while its login awaits the answer. */
function isSessionStart(m: Buffer): boolean {
  if (m[1] !== 0x53 || m[2] !== 0x4d || m[3] !== 0x42) return false;
  if (m[0] === 0xfe) {
    const cmd = m.readUInt16LE(12);
    return cmd === 0 || cmd === 1;
  }
  if (m[0] === 0xff) return m[4] === 0x72 || m[4] === 0x73;
  return false;
}
