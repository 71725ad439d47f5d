/**
 * The FTP control channel (RFC 959, RFC 4217 AUTH TLS), as a StreamParser: USER/PASS become a
 * `credential.cleartext` record (username pseudonym, secret fingerprint, and whether the server
 * accepted it), the 220 banner gives the server software, and the connection is reported as
 * one `ftp` record. AUTH TLS accepted: TLS from there (`tlsFrom` tells StartTlsStream where it
 * begins), and the parser detaches. Once the login succeeded the record is reported; with
 * `onDataChannel` the parser then keeps reading the control lines for the data connections
 * they announce (PORT, EPRT, and the 227/229 replies to PASV/EPSV: ftp-data.ts), otherwise it
 * detaches. The data connections themselves are the agent's to follow.
 */
import type { Pseudonymize } from '../phi/pseudonym.js';
import { DETACH, type Direction, type StreamEndReason } from '../stream.js';
import type { UpgradableParser } from '../tls/starttls.js';
import { CredentialLog } from './credential-log.js';
import { LineBuffer } from './lines.js';
import type { CleartextEmit, CredentialRecord, FtpRecord } from './records.js';
import { parseEprtArgument, parseEpsvReply, parsePasvReply, parsePortArgument, type FtpDataEndpoint } from './ftp-data.js';
import { bannerSoftware } from './text.js';

export interface FtpParserOptions {
  emit: CleartextEmit;
  pseudonymize: Pseudonymize;
  /** AUTH TLS was accepted: the analyzer marks the flow encrypted. */
  onEncrypted?: () => void;
  /** A data connection was announced (PORT, EPRT, 227, 229). */
  onDataChannel?: (ep: FtpDataEndpoint) => void;
  /** Default 2 KiB. */
  maxLineLength?: number;
  /** Control lines read before the login succeeded, before giving up. Default 512. */
  maxLines?: number;
  /** Control lines read after the login while following data connections. Default 100,000. */
  maxSessionLines?: number;
}

export interface FtpCounters {
  commands: number;
  replies: number;
  longLines: number;
  badReplies: number;
  gaps: number;
  credentials: number;
  /** Data connections announced (PORT, EPRT, 227, 229). */
  dataChannels: number;
  /** PORT/EPRT arguments or 227/229 replies that did not parse. */
  badDataChannels: number;
}

const MAX_BANNER = 512;
const ANONYMOUS = new Set(['anonymous', 'ftp']);

export class FtpStreamParser implements UpgradableParser {
  readonly counters: FtpCounters = { commands: 0, replies: 0, longLines: 0, badReplies: 0, gaps: 0, credentials: 0, dataChannels: 0, badDataChannels: 0 };
  private readonly emit: CleartextEmit;
  private readonly creds: CredentialLog;
  private readonly onEncrypted: (() => void) | undefined;
  private readonly lines: [LineBuffer, LineBuffer];
  private readonly maxLines: number;
  private readonly maxSessionLines: number;
  private readonly onDataChannel: ((ep: FtpDataEndpoint) => void) | undefined;
  private linesSeen = 0;
  /** Logged in and following data connections: the record is out, lines are read for PORT/PASV. */
  private following = false;
  private reported = false;
  private banner: string | null = '';
  private software: string | undefined;
  /** Code of the multi-line reply in progress (-1: none). */
  private multi = -1;
  /** USER's argument until PASS (never leaves the parser). */
  private pendingUser: string | null = null;
  private anonymousUser = false;
  private pendingCred: CredentialRecord | null = null;
  private passSent = false;
  private authTlsAsked = false;
  private readonly rec: FtpRecord = { type: 'ftp', ts_sec: 0, ts_nsec: 0, cleartext_login: false, login_attempts: 0, auth_tls: false };
  private anonymous = false;
  private ended = false;
  /** Where TLS begins in the chunk that carried the server's go-ahead (UpgradableParser). */
  tlsFrom = -1;
  private tsSec = 0;
  private tsNsec = 0;

  constructor(opts: FtpParserOptions) {
    this.emit = opts.emit;
    this.creds = new CredentialLog(opts.pseudonymize, 'ftp', opts.emit);
    this.onEncrypted = opts.onEncrypted;
    const max = opts.maxLineLength ?? 2048;
    this.lines = [new LineBuffer(max), new LineBuffer(max)];
    this.maxLines = opts.maxLines ?? 512;
    this.maxSessionLines = opts.maxSessionLines ?? 100_000;
    this.onDataChannel = opts.onDataChannel;
  }

  get bufferedBytes(): number {
    return this.lines[0].capacity + this.lines[1].capacity;
  }

  data(dir: Direction, buf: Buffer, off: number, len: number, tsSec: number, tsNsec: number): number {
    if (this.ended) return DETACH;
    this.tsSec = tsSec;
    this.tsNsec = tsNsec;
    const lb = this.lines[dir];
    const end = off + len;
    let pos = off;
    while (pos < end) {
      const next = lb.take(buf, pos, end);
      if (next < 0) break;
      pos = next;
      if (lb.truncated) this.counters.longLines++;
      const done = dir === 0 ? this.command(lb) : this.reply(lb);
      if (done || ++this.linesSeen >= (this.following ? this.maxSessionLines : this.maxLines)) {
        if (this.rec.auth_tls) this.tlsFrom = pos;
        this.finish();
        return DETACH;
      }
    }
    return 0;
  }

  gap(dir: Direction, _len: number): void {
    this.counters.gaps++;
    this.lines[dir].reset();
    if (dir === 1) this.multi = -1;
  }

  end(_reason: StreamEndReason): void {
    this.finish();
  }

  private command(lb: LineBuffer): boolean {
    this.counters.commands++;
    const text = lb.text(0, Math.min(lb.lineLen, 512));
    const sp = text.indexOf(' ');
    const verb = (sp < 0 ? text : text.slice(0, sp)).toUpperCase();
    const arg = sp < 0 ? '' : text.slice(sp + 1);
    switch (verb) {
      case 'USER':
        this.flushCred();
        this.pendingUser = arg;
        this.anonymousUser = ANONYMOUS.has(arg.toLowerCase());
        this.passSent = false;
        break;
      case 'PASS':
        this.rec.login_attempts++;
        this.passSent = true;
        if (this.anonymousUser) {
          this.anonymous = true;
        } else {
          this.flushCred();
          this.rec.cleartext_login = true;
          this.counters.credentials++;
          this.pendingCred = this.creds.record('password', this.pendingUser ?? undefined, arg, this.tsSec, this.tsNsec);
        }
        this.pendingUser = null;
        break;
      case 'AUTH':
        this.authTlsAsked = /^(TLS|SSL|TLS-C|TLS-P)$/i.test(arg.trim());
        break;
      case 'PORT':
        this.dataChannel(parsePortArgument(arg));
        break;
      case 'EPRT':
        this.dataChannel(parseEprtArgument(arg));
        break;
      default:
        break;
    }
    return false;
  }

  private reply(lb: LineBuffer): boolean {
    const b = lb.line;
    const o = lb.lineOff;
    const n = lb.lineLen;
    const isCode = n >= 3 && isDigit(b[o]) && isDigit(b[o + 1]) && isDigit(b[o + 2]) && (n === 3 || b[o + 3] === 0x20 || b[o + 3] === 0x2d);
    const code = isCode ? (b[o] - 0x30) * 100 + (b[o + 1] - 0x30) * 10 + (b[o + 2] - 0x30) : -1;
    if (this.banner !== null && (code === 220 || (this.multi === 220 && code < 0))) {
      if (this.banner.length < MAX_BANNER) this.banner += lb.text(isCode ? 4 : 0, Math.min(n, MAX_BANNER)) + ' ';
    }
    if (this.multi >= 0) {
      // Inside a multi-line reply: only "<code> " ends it.
      if (code === this.multi && b[o + 3] !== 0x2d) this.multi = -1;
      else return false;
    } else if (!isCode) {
      this.counters.badReplies++;
      return false;
    } else if (n > 3 && b[o + 3] === 0x2d) {
      this.multi = code;
      return false;
    }
    this.counters.replies++;
    if (code === 227) this.dataChannel(parsePasvReply(lb.text(4, Math.min(n, 512))));
    else if (code === 229) this.dataChannel(parseEpsvReply(lb.text(4, Math.min(n, 512))));
    return this.finalReply(code);
  }

  private dataChannel(ep: FtpDataEndpoint | null): void {
    if (this.onDataChannel === undefined) return;
    if (ep === null) {
      this.counters.badDataChannels++;
      return;
    }
    this.counters.dataChannels++;
    this.onDataChannel(ep);
  }

  private finalReply(code: number): boolean {
    if (this.banner !== null && code === 220) {
      this.software = bannerSoftware(this.banner);
      this.banner = null;
      return false;
    }
    this.banner = null;
    if (this.authTlsAsked) {
      this.authTlsAsked = false;
      if (code === 234 || code === 334) {
        this.rec.auth_tls = true;
        this.onEncrypted?.();
        return true;
      }
      return false;
    }
    if (!this.passSent || code < 200 || (code >= 300 && code < 400)) return false;
    this.passSent = false;
    const ok = code < 300;
    this.rec.login = ok ? 'success' : 'failure';
    if (this.pendingCred !== null) {
      this.pendingCred.success = ok;
      this.flushCred();
    }
    if (!ok) return false;
    // Logged in: everything the record says is known. Data connections are announced from here on.
    this.report();
    if (this.onDataChannel === undefined) return true;
    this.following = true;
    return false;
  }

  private flushCred(): void {
    if (this.pendingCred === null) return;
    this.creds.report(this.pendingCred);
    this.pendingCred = null;
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.report();
    // A later login on a followed session: its credential goes out on its own.
    this.flushCred();
  }

  private report(): void {
    if (this.reported) return;
    this.reported = true;
    this.flushCred();
    this.pendingUser = null;
    const r = this.rec;
    r.ts_sec = this.tsSec;
    r.ts_nsec = this.tsNsec;
    if (this.software !== undefined) r.server_software = this.software;
    if (this.anonymous) r.anonymous = true;
    this.emit(r);
  }
}

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
