/**
 * Syslog (RFC 3164 and RFC 5424) over UDP (a DatagramParser) and TCP (a StreamParser with
 * RFC 6587 octet-counting or LF framing). Reported: facility, severity, hostname, app-name/tag,
 * procid, msgid — device facts for the inventory — and fødselsnumre in the message as
 * `phi.observed` (MU annex #17: health data in technical logs). The message text is never
 * reported. A flow reports a `syslog` record for the first message of each distinct
 * header (format, facility, severity, hostname, app) and for every message that holds PHI;
 * the rest are counted.
 */
import type { Pseudonymize } from '../phi/pseudonym.js';
import { scanFnr } from '../phi/fodselsnummer.js';
import type { DatagramParser } from '../datagram.js';
import { DETACH, type Direction, type StreamEndReason, type StreamParser } from '../stream.js';
import { FnrStream, PhiAccumulator } from './phi-scan.js';
import { wireDirection, type CleartextEmit, type SyslogRecord } from './records.js';
import { holdsFnr } from './text.js';

export const FACILITIES = [
  'kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'authpriv', 'ftp',
  'ntp', 'security', 'console', 'solaris-cron', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7',
];
export const SEVERITIES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'];

export interface SyslogHeader {
  format: 'rfc3164' | 'rfc5424';
  pri: number;
  hostname?: string;
  appName?: string;
  procId?: string;
  msgId?: string;
}

/** Bytes of a message read for its header. */
export const SYSLOG_HEADER_BYTES = 512;
const MONTHS = /^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 0-3]\d \d\d:\d\d:\d\d(\.\d+)? /;
const ISO_TS = /^\d{4}-\d\d-\d\dT\S+ /;
const TAG = /^([A-Za-z0-9_.\/-]{1,48})(?:\[([^\]\s]{1,32})\])?:$/;

/** `<PRI>` at buf[off]: the PRI value and the index after '>', or null. */
export function readPri(buf: Uint8Array, off: number, len: number): [number, number] | null {
  if (len < 3 || buf[off] !== 0x3c) return null;
  let v = 0;
  let i = 1;
  for (; i < len && i <= 4; i++) {
    const c = buf[off + i];
    if (c === 0x3e) break;
    if (c < 0x30 || c > 0x39) return null;
    if (i === 2 && v === 0) return null; // leading zero
    v = v * 10 + (c - 0x30);
  }
  if (i === 1 || i > 4 || i >= len || buf[off + i] !== 0x3e || v > 191) return null;
  return [v, off + i + 1];
}

const FIELD_FORBIDDEN = '=!,;"\'#&*?<>`~$%{}';

function field(tok: string | undefined, max: number): string | undefined {
  if (tok === undefined || tok === '-' || tok === '') return undefined;
  let out = '';
  for (let i = 0; i < tok.length && out.length < max; i++) {
    const c = tok.charCodeAt(i);
    // `^` and `|` are HL7's separators: such a "field" is a piece of a message that slid into
    // the header (misframed or hostile), and may be a patient's name.
    // `=`, `!`, `,`, quotes and the like belong to message text (`password=…`), not to a host,
    // app, process or message id.
    if (c < 0x21 || c > 0x7e || c === 0x5e || c === 0x7c || FIELD_FORBIDDEN.includes(tok[i])) return undefined;
    out += tok[i];
  }
  // A header field holding an identity number is not a device fact; nor is a run of 11 or more
  // digits, where one may hide glued to other digits.
  return holdsFnr(out) || /[0-9]{11}/.test(out) ? undefined : out;
}

/** The header of one syslog message at buf[off, off+len); null if it is not syslog. */
export function parseSyslogHeader(buf: Buffer, off: number, len: number): SyslogHeader | null {
  const pri = readPri(buf, off, len);
  if (pri === null) return null;
  const p = pri[1];
  const end = off + Math.min(len, SYSLOG_HEADER_BYTES);
  const text = buf.toString('latin1', p, end);
  const h: SyslogHeader = { format: 'rfc3164', pri: pri[0] };
  if (/^[1-9]\d? /.test(text)) {
    h.format = 'rfc5424';
    const t = text.split(' ', 7);
    h.hostname = field(t[2], 255);
    h.appName = field(t[3], 48);
    h.procId = field(t[4], 128);
    h.msgId = field(t[5], 32);
    return h;
  }
  let rest = text;
  let ts = MONTHS.exec(rest);
  if (ts === null) ts = ISO_TS.exec(rest);
  if (ts !== null) rest = rest.slice(ts[0].length);
  const t = rest.split(' ', 3);
  let tag = TAG.exec(t[0] ?? '');
  if (tag === null && ts !== null) {
    // With a timestamp, the first word is the hostname unless it is already the tag.
    h.hostname = field(t[0], 255);
    tag = TAG.exec(t[1] ?? '');
  }
  if (tag !== null) {
    h.appName = field(tag[1], 48);
    h.procId = field(tag[2], 32);
  }
  return h;
}

export interface SyslogCounters {
  messages: number;
  /** Messages reported as a `syslog` record (first of their header, or with PHI). */
  reported: number;
  notSyslog: number;
  phiMessages: number;
  longMessages: number;
  gaps: number;
  lostBytes: number;
}

export interface SyslogParserOptions {
  emit: CleartextEmit;
  pseudonymize: Pseudonymize;
  /**
   * Message bytes per flow scanned for fødselsnumre. Default: all of every message (syslog
   * lines are short and the point is to catch identifiers in logs that run for months).
   */
  phiScanDepth?: number;
  /** Distinct headers remembered per flow. Default 32. */
  maxHeaders?: number;
  /** Consecutive non-syslog messages before detaching. Default 16. */
  maxBad?: number;
}

/** Per flow: decides which messages become records, and emits them. */
class SyslogReporter {
  readonly counters: SyslogCounters = { messages: 0, reported: 0, notSyslog: 0, phiMessages: 0, longMessages: 0, gaps: 0, lostBytes: 0 };
  private readonly seen: string[] = [];
  private bad = 0;

  constructor(
    private readonly emit: CleartextEmit,
    private readonly maxHeaders: number,
    private readonly maxBad: number,
  ) {}

  /** False when the flow should be let go (too many non-syslog messages in a row). */
  message(dir: Direction, h: SyslogHeader | null, phi: PhiAccumulator | null, tsSec: number, tsNsec: number): boolean {
    this.counters.messages++;
    if (h === null) {
      this.counters.notSyslog++;
      return ++this.bad < this.maxBad;
    }
    this.bad = 0;
    const hasPhi = phi !== null && !phi.empty;
    const key = `${h.format}|${h.pri}|${h.hostname ?? ''}|${h.appName ?? ''}`;
    const fresh = !this.seen.includes(key);
    if (fresh && this.seen.length < this.maxHeaders) this.seen.push(key);
    if (!fresh && !hasPhi) return true;
    this.counters.reported++;
    const facility = h.pri >> 3;
    const severity = h.pri & 7;
    const r: SyslogRecord = {
      type: 'syslog',
      ts_sec: tsSec,
      ts_nsec: tsNsec,
      direction: wireDirection(dir),
      format: h.format,
      facility,
      facility_name: FACILITIES[facility],
      severity,
      severity_name: SEVERITIES[severity],
    };
    if (h.hostname !== undefined) r.hostname = h.hostname;
    if (h.appName !== undefined) r.app_name = h.appName;
    if (h.procId !== undefined) r.proc_id = h.procId;
    if (h.msgId !== undefined) r.msg_id = h.msgId;
    if (hasPhi) {
      this.counters.phiMessages++;
      r.phi_kinds = phi.kinds;
    }
    this.emit(r);
    if (hasPhi) {
      this.emit({
        type: 'phi.observed',
        ts_sec: tsSec,
        ts_nsec: tsNsec,
        protocol: 'syslog',
        direction: wireDirection(dir),
        kinds: phi.kinds,
        count: phi.occurrences,
        distinct: phi.distinct,
        pseudonyms: phi.pseudonyms,
        locations: ['message'],
      });
    }
    return true;
  }
}

/** Syslog over UDP: one message per datagram. */
export class SyslogDatagramParser implements DatagramParser {
  private readonly reporter: SyslogReporter;
  private readonly pseudonymize: Pseudonymize;
  private budget: number;

  constructor(opts: SyslogParserOptions) {
    this.reporter = new SyslogReporter(opts.emit, opts.maxHeaders ?? 32, opts.maxBad ?? 16);
    this.pseudonymize = opts.pseudonymize;
    this.budget = opts.phiScanDepth ?? Infinity;
  }

  get counters(): SyslogCounters {
    return this.reporter.counters;
  }

  datagram(dir: Direction, buf: Buffer, off: number, len: number, tsSec: number, tsNsec: number): number {
    const h = parseSyslogHeader(buf, off, len);
    let phi: PhiAccumulator | null = null;
    if (h !== null && this.budget > 0) {
      const n = Math.min(len, this.budget);
      this.budget -= n;
      if (scanFnr(buf, off, n) > 0) {
        phi = new PhiAccumulator(this.pseudonymize);
        phi.scan(buf, off, n);
      }
    }
    return this.reporter.message(dir, h, phi, tsSec, tsNsec) ? 0 : DETACH;
  }

  end(): void {}
}

const enum St {
  Start,
  Count,
  Message,
  Lost,
}

/** Octet counts above this are read up to it and the rest is skipped. */
const MAX_MESSAGE = 64 * 1024;
const MAX_LOST = 64 * 1024;
const FOREVER = 2 ** 50;

/** Syslog over TCP (RFC 6587): octet-counting ("LEN <PRI>…") or LF-terminated messages. */
export class SyslogStreamParser implements StreamParser {
  private readonly reporter: SyslogReporter;
  private readonly pseudonymize: Pseudonymize;
  private budget: number;
  private st = St.Start;
  /** Octet counting: message bytes still to come (-1 for LF framing). */
  private left = -1;
  private count = 0;
  private countDigits = 0;
  private readonly hdr = Buffer.alloc(SYSLOG_HEADER_BYTES);
  private hdrLen = 0;
  private msgLen = 0;
  private readonly fnr = new FnrStream();
  private acc: PhiAccumulator | null = null;
  private lost = 0;
  private ended = false;
  private tsSec = 0;
  private tsNsec = 0;

  constructor(opts: SyslogParserOptions) {
    this.reporter = new SyslogReporter(opts.emit, opts.maxHeaders ?? 32, opts.maxBad ?? 16);
    this.pseudonymize = opts.pseudonymize;
    this.budget = opts.phiScanDepth ?? Infinity;
  }

  get counters(): SyslogCounters {
    return this.reporter.counters;
  }

  get bufferedBytes(): number {
    return this.hdr.length;
  }

  data(dir: Direction, buf: Buffer, off: number, len: number, tsSec: number, tsNsec: number): number {
    if (this.ended) return DETACH;
    // The collector has nothing to say; whatever it sends is not syslog.
    if (dir === 1) return FOREVER;
    this.tsSec = tsSec;
    this.tsNsec = tsNsec;
    const end = off + len;
    let pos = off;
    while (pos < end) {
      const c = buf[pos];
      switch (this.st) {
        case St.Start:
          if (c === 0x0a || c === 0x0d || c === 0x20 || c === 0x00) {
            pos++;
          } else if (c >= 0x31 && c <= 0x39) {
            this.st = St.Count;
            this.count = 0;
            this.countDigits = 0;
          } else if (c === 0x3c) {
            this.begin(-1);
          } else {
            this.st = St.Lost;
          }
          break;
        case St.Count:
          pos++;
          if (c >= 0x30 && c <= 0x39 && this.countDigits < 9) {
            this.count = this.count * 10 + (c - 0x30);
            this.countDigits++;
          } else if (c === 0x20 && this.countDigits > 0) {
            this.begin(this.count);
          } else {
            this.st = St.Lost;
          }
          break;
        case St.Lost: {
          let i = pos;
          while (i < end && buf[i] !== 0x0a) i++;
          this.lost += i - pos;
          this.reporter.counters.lostBytes += i - pos;
          if (this.lost > MAX_LOST) return this.finish();
          pos = i;
          if (i < end) {
            pos++;
            this.st = St.Start;
          }
          break;
        }
        default: {
          // Message bytes up to the count or the LF.
          let stop: number;
          let done: boolean;
          if (this.left >= 0) {
            stop = pos + Math.min(this.left, end - pos);
            this.left -= stop - pos;
            done = this.left === 0;
          } else {
            stop = pos;
            while (stop < end && buf[stop] !== 0x0a) stop++;
            done = stop < end;
          }
          this.take(buf, pos, stop);
          pos = done && this.left < 0 ? stop + 1 : stop;
          if (!done) {
            if (this.left > 0 && this.msgLen >= MAX_MESSAGE) {
              // The rest of an over-long counted message is not read.
              const skip = this.left;
              this.msgLen += skip;
              this.left = 0;
              if (!this.messageEnd()) return this.finish();
              return skip;
            }
            break;
          }
          if (!this.messageEnd()) return this.finish();
          break;
        }
      }
    }
    return 0;
  }

  gap(dir: Direction, len: number): void {
    if (dir === 1 || this.ended) return;
    this.reporter.counters.gaps++;
    if (this.st === St.Message && this.left >= len) {
      this.left -= len;
      this.msgLen += len;
      this.fnr.poison();
      if (this.left === 0 && !this.messageEnd()) this.finish();
      return;
    }
    if (this.st === St.Message) this.messageEnd();
    this.st = St.Lost;
    this.lost = 0;
  }

  end(_reason: StreamEndReason): void {
    if (this.ended) return;
    // An LF-framed sender may not end its last message with LF.
    if (this.st === St.Message && this.msgLen > 0) this.messageEnd();
    this.ended = true;
  }

  private begin(count: number): void {
    this.st = St.Message;
    this.left = count;
    this.hdrLen = 0;
    this.msgLen = 0;
    this.lost = 0;
    if (this.budget > 0) {
      this.acc ??= new PhiAccumulator(this.pseudonymize);
      this.fnr.begin(this.acc, 'message');
    }
  }

  private take(buf: Buffer, from: number, to: number): void {
    const n = to - from;
    if (n <= 0) return;
    if (this.hdrLen < SYSLOG_HEADER_BYTES) {
      const k = Math.min(n, SYSLOG_HEADER_BYTES - this.hdrLen);
      buf.copy(this.hdr, this.hdrLen, from, from + k);
      this.hdrLen += k;
    }
    if (this.budget > 0 && this.msgLen < MAX_MESSAGE) {
      const k = Math.min(n, this.budget, MAX_MESSAGE - this.msgLen);
      this.fnr.push(buf, from, k);
      this.budget -= k;
    }
    this.msgLen += n;
  }

  /** False when the flow should be let go. */
  private messageEnd(): boolean {
    this.st = St.Start;
    let len = this.hdrLen;
    if (len > 0 && this.hdr[len - 1] === 0x0d) len--;
    const h = parseSyslogHeader(this.hdr, 0, len);
    let phi: PhiAccumulator | null = null;
    if (this.acc !== null) {
      this.fnr.flush();
      if (!this.acc.empty) {
        phi = this.acc;
        // The reported accumulator now belongs to its record; the next message gets a fresh one.
        this.acc = null;
      }
    }
    if (this.msgLen > MAX_MESSAGE) this.reporter.counters.longMessages++;
    return this.reporter.message(0, h, phi, this.tsSec, this.tsNsec);
  }

  private finish(): number {
    this.ended = true;
    return DETACH;
  }
}

/** Syslog over TCP from the client's first bytes: `<PRI>` or an octet count followed by `<PRI>`. */
export function looksLikeSyslogStream(buf: Buffer, off: number, len: number): 'no' | 'partial' | 'yes' {
  let i = off;
  const end = off + len;
  if (i < end && buf[i] >= 0x31 && buf[i] <= 0x39) {
    let d = 0;
    while (i < end && buf[i] >= 0x30 && buf[i] <= 0x39 && d < 9) {
      i++;
      d++;
    }
    if (i === end) return 'partial';
    if (buf[i] !== 0x20) return 'no';
    i++;
  }
  return looksLikePri(buf, i, end - i);
}

/** `<PRI>` followed by a printable byte. */
export function looksLikePri(buf: Buffer, off: number, len: number): 'no' | 'partial' | 'yes' {
  if (len === 0) return 'partial';
  if (buf[off] !== 0x3c) return 'no';
  for (let i = 1; i < len && i <= 4; i++) {
    const c = buf[off + i];
    if (c === 0x3e) {
      const pri = readPri(buf, off, len);
      if (pri === null) return 'no';
      if (pri[1] >= off + len) return 'partial';
      const n = buf[pri[1]];
      return n >= 0x20 && n <= 0x7e ? 'yes' : 'no';
    }
    if (c < 0x30 || c > 0x39) return 'no';
  }
  return len <= 4 ? 'partial' : 'no';
}
