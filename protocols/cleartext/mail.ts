/**
 * SMTP, POP3 and IMAP up to their login, as one StreamParser with a protocol mode.
 *
 * Cleartext logins become `credential.cleartext` records: POP3 USER/PASS and IMAP LOGIN
 * (`password`), SASL PLAIN (`sasl-plain`) and LOGIN (`sasl-login`) in any of the three, with
 * the server's verdict when it was seen. STARTTLS/STLS accepted by the server means the rest is
 * TLS: the parser reports and detaches, saying where TLS begins (`tlsFrom`, for StartTlsStream). So it does once the login succeeded or the
 * session moved on to mail (MAIL/DATA, RETR, SELECT…): nothing more is needed, and message
 * bodies are never read. One `smtp`/`pop3`/`imap` record per connection.
 */
import type { Pseudonymize } from '../phi/pseudonym.js';
import { DETACH, type Direction, type StreamEndReason } from '../stream.js';
import type { UpgradableParser } from '../tls/starttls.js';
import type { CredentialKind } from '../credentials.js';
import { CredentialLog } from './credential-log.js';
import { LineBuffer } from './lines.js';
import type { CleartextEmit, CredentialRecord, MailRecord } from './records.js';
import { hostNameText } from '../phi/host-name.js';
import { bannerSoftware, cleanText, decodeBase64, holdsFnr } from './text.js';

const SASL_MECH = /^[A-Z0-9_-]{1,20}$/i;
const HELO_NAME = /^(?:\[[0-9A-Za-z:.]{2,64}\]|[A-Za-z0-9._-]{1,64})$/;

export type MailProtocol = 'smtp' | 'pop3' | 'imap';

export interface MailParserOptions {
  protocol: MailProtocol;
  emit: CleartextEmit;
  pseudonymize: Pseudonymize;
  /** STARTTLS/STLS was accepted: the analyzer marks the flow encrypted. */
  onEncrypted?: () => void;
  /** Default 4 KiB. */
  maxLineLength?: number;
  /** Lines read per connection before giving up. Default 256. */
  maxLines?: number;
}

export interface MailCounters {
  commands: number;
  replies: number;
  longLines: number;
  badSasl: number;
  /** IMAP literals above the 1 KiB we keep. */
  longLiterals: number;
  gaps: number;
  credentials: number;
}

const enum Sasl {
  None,
  Plain,
  Login1,
  Login2,
  Other,
}

type Pending = 'other' | 'starttls' | 'login' | 'auth';

const MAX_LITERAL = 1024;
const MAX_PENDING = 16;
const SMTP_MAIL = new Set(['MAIL', 'RCPT', 'DATA', 'BDAT']);
const POP3_MAIL = new Set(['STAT', 'LIST', 'RETR', 'UIDL', 'TOP', 'DELE']);
const IMAP_PREAUTH = new Set(['CAPABILITY', 'NOOP', 'ID', 'LOGIN', 'AUTHENTICATE', 'STARTTLS', 'LOGOUT', 'ENABLE', 'COMPRESS']);

export class MailStreamParser implements UpgradableParser {
  readonly counters: MailCounters = { commands: 0, replies: 0, longLines: 0, badSasl: 0, longLiterals: 0, gaps: 0, credentials: 0 };
  private readonly proto: MailProtocol;
  private readonly emit: CleartextEmit;
  private readonly creds: CredentialLog;
  private readonly onEncrypted: (() => void) | undefined;
  private readonly lines: [LineBuffer, LineBuffer];
  private readonly maxLines: number;
  private linesSeen = 0;
  private readonly rec: MailRecord;
  private banner = true;
  private software: string | undefined;
  private mechs: string[] = [];
  /** SMTP multi-line reply in progress. */
  private multi = -1;
  /** Client commands waiting for their final reply, oldest first (SMTP, POP3). */
  private readonly pending: Pending[] = [];
  /** IMAP: tag → what it concludes. */
  private imapTag: string | null = null;
  private imapPending: Pending = 'other';
  private sasl = Sasl.None;
  /** Raw values held only until the credential record is built. */
  private pendingUser: string | null = null;
  private saslUser: string | null = null;
  private pendingCred: CredentialRecord | null = null;
  // IMAP literals in the client direction.
  private literalLeft = 0;
  private literal: Buffer | null = null;
  private literalLen = 0;
  private imapArgs: string[] | null = null;
  private ended = false;
  /** Where TLS begins in the chunk that carried the server's go-ahead (UpgradableParser). */
  tlsFrom = -1;
  private tsSec = 0;
  private tsNsec = 0;

  constructor(opts: MailParserOptions) {
    this.proto = opts.protocol;
    this.emit = opts.emit;
    this.creds = new CredentialLog(opts.pseudonymize, opts.protocol, opts.emit);
    this.onEncrypted = opts.onEncrypted;
    const max = opts.maxLineLength ?? 4096;
    this.lines = [new LineBuffer(max), new LineBuffer(max)];
    this.maxLines = opts.maxLines ?? 256;
    this.rec = { type: opts.protocol, ts_sec: 0, ts_nsec: 0, starttls: false, cleartext_login: false };
  }

  get bufferedBytes(): number {
    return this.lines[0].capacity + this.lines[1].capacity + (this.literal === null ? 0 : this.literal.length);
  }

  data(dir: Direction, buf: Buffer, off: number, len: number, tsSec: number, tsNsec: number): number {
    if (this.ended) return DETACH;
    this.tsSec = tsSec;
    this.tsNsec = tsNsec;
    const lb = this.lines[dir];
    const end = off + len;
    let pos = off;
    while (pos < end) {
      if (dir === 0 && this.literalLeft > 0) {
        const n = Math.min(this.literalLeft, end - pos);
        const keep = Math.min(n, MAX_LITERAL - this.literalLen);
        if (keep > 0) {
          this.literal ??= Buffer.allocUnsafe(MAX_LITERAL);
          buf.copy(this.literal, this.literalLen, pos, pos + keep);
          this.literalLen += keep;
        }
        this.literalLeft -= n;
        pos += n;
        if (this.literalLeft === 0) this.imapArgs!.push(this.literal === null ? '' : this.literal.toString('utf8', 0, this.literalLen));
        continue;
      }
      const next = lb.take(buf, pos, end);
      if (next < 0) break;
      pos = next;
      if (lb.truncated) this.counters.longLines++;
      const done = dir === 0 ? this.clientLine(lb) : this.serverLine(lb);
      if (done || ++this.linesSeen >= this.maxLines) {
        if (this.rec.starttls) this.tlsFrom = pos;
        this.finish();
        return DETACH;
      }
    }
    return 0;
  }

  gap(dir: Direction, _len: number): void {
    this.counters.gaps++;
    this.lines[dir].reset();
    if (dir === 0) {
      this.literalLeft = 0;
      this.imapArgs = null;
      this.sasl = Sasl.None;
    } else {
      this.multi = -1;
    }
  }

  end(_reason: StreamEndReason): void {
    this.finish();
  }

  // ---- client ----

  private clientLine(lb: LineBuffer): boolean {
    const text = lb.text();
    if (this.sasl !== Sasl.None && this.saslStep(text.trim())) return false;
    this.counters.commands++;
    if (this.proto === 'imap') return this.imapCommand(text);
    const sp = text.indexOf(' ');
    const verb = (sp < 0 ? text : text.slice(0, sp)).toUpperCase();
    const arg = sp < 0 ? '' : text.slice(sp + 1);
    let kind: Pending = 'other';
    switch (verb) {
      case 'EHLO':
      case 'HELO':
        if (this.proto === 'smtp') {
          const h = cleanText(arg, 64);
          // A domain or an address literal (RFC 5321 §4.1.1.1); other text is not the client's name.
          if (HELO_NAME.test(h) && hostNameText(h) === h && !holdsFnr(h)) this.rec.helo = h;
        }
        break;
      case 'STARTTLS':
      case 'STLS':
        kind = 'starttls';
        break;
      case 'USER':
        if (this.proto === 'pop3') {
          this.pendingUser = arg;
          this.addMech('USER');
        }
        break;
      case 'PASS':
        if (this.proto === 'pop3') {
          this.credential('password', this.pendingUser ?? undefined, arg);
          this.pendingUser = null;
          kind = 'login';
        }
        break;
      case 'APOP':
        if (this.proto === 'pop3') {
          this.addMech('APOP');
          kind = 'login';
        }
        break;
      case 'AUTH':
        this.auth(arg);
        kind = 'auth';
        break;
      default:
        if ((this.proto === 'smtp' && SMTP_MAIL.has(verb)) || (this.proto === 'pop3' && POP3_MAIL.has(verb))) return true;
    }
    if (this.pending.length < MAX_PENDING) this.pending.push(kind);
    return false;
  }

  private imapCommand(text: string): boolean {
    const lit = /\{(\d{1,9})\+?\}$/.exec(text);
    const body = lit ? text.slice(0, lit.index) : text;
    const args = imapTokens(body, this.imapArgs ?? []);
    if (lit) {
      const n = Number(lit[1]);
      if (n > MAX_LITERAL) this.counters.longLiterals++;
      this.imapArgs = args;
      this.literalLeft = n;
      this.literalLen = 0;
      if (n === 0) args.push('');
      return false;
    }
    this.imapArgs = null;
    if (args.length < 2) return false;
    const tag = args[0];
    const cmd = args[1].toUpperCase();
    switch (cmd) {
      case 'LOGIN':
        this.addMech('LOGIN');
        this.credential('password', args[2], args[3]);
        this.imapTag = tag;
        this.imapPending = 'login';
        break;
      case 'AUTHENTICATE':
        this.auth(args.slice(2).join(' '));
        this.imapTag = tag;
        this.imapPending = 'auth';
        break;
      case 'STARTTLS':
        this.imapTag = tag;
        this.imapPending = 'starttls';
        break;
      default:
        if (!IMAP_PREAUTH.has(cmd)) return true;
    }
    args.length = 0;
    return false;
  }

  /** AUTH / AUTHENTICATE <mechanism> [initial response]. */
  private auth(arg: string): void {
    const parts = arg.trim().split(/\s+/);
    const mech = (parts[0] ?? '').toUpperCase().slice(0, 20);
    if (mech === '') return;
    this.addMech(mech);
    const ir = parts[1];
    if (mech === 'PLAIN') {
      this.sasl = Sasl.Plain;
      if (ir !== undefined && ir !== '=') this.saslStep(ir);
    } else if (mech === 'LOGIN') {
      this.sasl = Sasl.Login1;
      if (ir !== undefined && ir !== '=') this.saslStep(ir);
    } else {
      this.sasl = Sasl.Other;
    }
  }

  /** A client line while a SASL exchange runs. False if the line is not a SASL response. */
  private saslStep(text: string): boolean {
    if (text === '*') {
      this.sasl = Sasl.None;
      return true;
    }
    if (this.sasl === Sasl.Other) {
      if (/^[A-Za-z0-9+/=]*$/.test(text)) return true;
      this.sasl = Sasl.None;
      return false;
    }
    const raw = decodeBase64(text);
    if (raw === null) {
      // Not a SASL response: the client moved on (the server refused the mechanism).
      this.sasl = Sasl.None;
      this.counters.badSasl++;
      return false;
    }
    switch (this.sasl) {
      case Sasl.Plain: {
        const parts = raw.toString('utf8').split('\0');
        this.sasl = Sasl.None;
        if (parts.length !== 3) {
          this.counters.badSasl++;
          return true;
        }
        this.credential('sasl-plain', parts[1] || parts[0], parts[2]);
        return true;
      }
      case Sasl.Login1:
        this.saslUser = raw.toString('utf8');
        this.sasl = Sasl.Login2;
        return true;
      case Sasl.Login2:
        this.credential('sasl-login', this.saslUser ?? undefined, raw.toString('utf8'));
        this.saslUser = null;
        this.sasl = Sasl.None;
        return true;
      default:
        return true;
    }
  }

  private credential(kind: CredentialKind, user: string | undefined, secret: string | undefined): void {
    this.flushCred();
    this.counters.credentials++;
    this.rec.cleartext_login = true;
    this.pendingCred = this.creds.record(kind, user, secret, this.tsSec, this.tsNsec);
  }

  private addMech(m: string): void {
    // A SASL mechanism name is 1–20 of A–Z, 0–9, `-` and `_` (RFC 4422 §3.1); anything else is other text.
    if (!SASL_MECH.test(m)) return;
    if (!this.mechs.includes(m) && this.mechs.length < 8) this.mechs.push(m);
  }

  // ---- server ----

  private serverLine(lb: LineBuffer): boolean {
    const text = lb.text(0, Math.min(lb.lineLen, 1024));
    switch (this.proto) {
      case 'smtp':
        return this.smtpReply(text);
      case 'pop3':
        return this.pop3Reply(text);
      default:
        return this.imapReply(text);
    }
  }

  private smtpReply(text: string): boolean {
    const m = /^(\d{3})([ -]|$)/.exec(text);
    if (m === null) return false;
    const code = Number(m[1]);
    const rest = text.slice(4);
    if (this.banner && code === 220) this.software ??= bannerSoftware(rest);
    if (/^STARTTLS\b/i.test(rest)) this.rec.starttls_offered = true;
    if (m[2] === '-') {
      this.multi = code;
      return false;
    }
    this.multi = -1;
    this.counters.replies++;
    if (this.banner && code === 220) {
      this.banner = false;
      return false;
    }
    this.banner = false;
    if (code === 334) return false; // SASL continuation: the exchange goes on
    const kind = this.pending.shift() ?? 'other';
    return this.conclude(kind, code < 400, kind === 'starttls' ? code === 220 : code < 400);
  }

  private pop3Reply(text: string): boolean {
    if (/^STLS\s*$/i.test(text)) this.rec.starttls_offered = true;
    const ok = text.startsWith('+OK');
    if (!ok && !text.startsWith('-ERR')) return false; // continuation or multi-line data
    this.counters.replies++;
    if (this.banner) {
      this.banner = false;
      if (ok) this.software = bannerSoftware(text.slice(3));
      return false;
    }
    const kind = this.pending.shift() ?? 'other';
    return this.conclude(kind, ok, ok);
  }

  private imapReply(text: string): boolean {
    if (text.startsWith('* ')) {
      if (/\bSTARTTLS\b/i.test(text) && /CAPABILITY/i.test(text)) this.rec.starttls_offered = true;
      if (this.banner && /^\* (OK|PREAUTH|BYE)\b/i.test(text)) {
        this.banner = false;
        this.software = bannerSoftware(text.replace(/\[[^\]]*\]/, ''));
      }
      return false;
    }
    if (text.startsWith('+')) return false;
    const sp = text.indexOf(' ');
    if (sp <= 0 || this.imapTag === null || text.slice(0, sp) !== this.imapTag) return false;
    this.counters.replies++;
    const ok = /^OK\b/i.test(text.slice(sp + 1));
    const kind = this.imapPending;
    this.imapTag = null;
    this.imapPending = 'other';
    return this.conclude(kind, ok, ok);
  }

  /** The final reply to a command: ends a login, a SASL exchange or a STARTTLS request. */
  private conclude(kind: Pending, ok: boolean, accepted: boolean): boolean {
    switch (kind) {
      case 'starttls':
        if (!accepted) return false;
        this.rec.starttls = true;
        this.onEncrypted?.();
        return true;
      case 'login':
      case 'auth':
        this.sasl = Sasl.None;
        this.saslUser = null;
        this.rec.login = ok ? 'success' : 'failure';
        if (this.pendingCred !== null) {
          this.pendingCred.success = ok;
          this.flushCred();
        }
        return ok;
      default:
        return false;
    }
  }

  private flushCred(): void {
    if (this.pendingCred === null) return;
    this.creds.report(this.pendingCred);
    this.pendingCred = null;
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.flushCred();
    this.pendingUser = null;
    this.saslUser = null;
    this.imapArgs = null;
    this.literal = null;
    const r = this.rec;
    r.ts_sec = this.tsSec;
    r.ts_nsec = this.tsNsec;
    if (this.software !== undefined) r.server_software = this.software;
    if (this.mechs.length > 0) r.auth_mechanisms = this.mechs;
    this.emit(r);
  }
}

/** IMAP atoms and quoted strings of a command line, appended to `out`. */
function imapTokens(s: string, out: string[]): string[] {
  let i = 0;
  const n = s.length;
  while (i < n && out.length < 16) {
    while (i < n && s[i] === ' ') i++;
    if (i >= n) break;
    if (s[i] === '"') {
      let v = '';
      i++;
      while (i < n && s[i] !== '"') {
        if (s[i] === '\\' && i + 1 < n) i++;
        v += s[i++];
      }
      i++;
      out.push(v);
    } else {
      const j = s.indexOf(' ', i);
      const e = j < 0 ? n : j;
      out.push(s.slice(i, e));
      i = e;
    }
  }
  return out;
}
