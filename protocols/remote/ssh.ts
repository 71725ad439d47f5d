/**
 * SSH identification strings (RFC 4253 §4.2) from both sides of a connection, then detach:
 * everything after them is key exchange and encrypted packets, which are skipped, not copied.
 *
 * "SSH-protoversion-softwareversion SP comments CR LF", at most 255 bytes with the line end.
 * A server may send other lines first; those are counted and skipped (bounded). A line that
 * runs past the limit, or a direction that never shows an identification string, costs a
 * counter and ends the parse of that direction.
 */
import { DETACH, Direction, type StreamEndReason, type StreamParser } from '../stream.js';
import { asciiField, newRemoteAccess, SKIP_REST, type RemoteAccessRecord, type RemoteParserOptions } from './records.js';

/** RFC 4253: the identification string including CR LF. */
export const SSH_MAX_BANNER = 255;
/** Lines before the identification string (RFC 4253 allows a server to send them). */
const MAX_PRE_LINES = 64;
const MAX_PRE_BYTES = 8192;

export interface SshCounters {
  bytes: number;
  banners: number;
  pre_banner_lines: number;
  banner_too_long: number;
  pre_banner_overflow: number;
  gaps: number;
}

const enum St {
  Line,
  /** Inside a pre-banner line too long to keep: drop bytes up to its LF. */
  Discard,
  Done,
  Failed,
}

interface Banner {
  text: string;
  proto: string;
  software: string;
  comments: string;
}

class DirState {
  state = St.Line;
  readonly line = Buffer.alloc(SSH_MAX_BANNER);
  lineLen = 0;
  preLines = 0;
  preBytes = 0;
  banner: Banner | null = null;
}

function parseBanner(line: Buffer, len: number): Banner {
  const text = asciiField(line, 0, len);
  // "SSH-" proto "-" software [" " comments]
  const dash = text.indexOf('-', 4);
  const proto = dash < 0 ? text.slice(4) : text.slice(4, dash);
  const rest = dash < 0 ? '' : text.slice(dash + 1);
  const sp = rest.indexOf(' ');
  return { text, proto, software: sp < 0 ? rest : rest.slice(0, sp), comments: sp < 0 ? '' : rest.slice(sp + 1) };
}

function isSsh2(proto: string): boolean {
  return proto === '2.0' || proto === '1.99';
}

export class SshStreamParser implements StreamParser {
  readonly counters: SshCounters = { bytes: 0, banners: 0, pre_banner_lines: 0, banner_too_long: 0, pre_banner_overflow: 0, gaps: 0 };
  private readonly opts: RemoteParserOptions;
  private readonly dirs: [DirState, DirState] = [new DirState(), new DirState()];
  private emitted = false;
  private malformed = false;
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
    while (p < end && (d.state === St.Line || d.state === St.Discard)) p = this.scan(d, buf, p, end);
    if (this.bothSettled()) {
      this.finish(tsSec, tsNsec);
      return DETACH;
    }
    return d.state === St.Done || d.state === St.Failed ? SKIP_REST : 0;
  }

  gap(dir: Direction, _len: number): void {
    this.counters.gaps++;
    const d = this.dirs[dir];
    // A line with a hole in it is not an identification string we can report.
    if (d.state === St.Line || d.state === St.Discard) {
      d.state = St.Failed;
      this.malformed = true;
    }
  }

  end(_reason: StreamEndReason): void {
    if (!this.emitted) this.finish(this.lastSec, this.lastNsec);
  }

  /** Consumes bytes of one line (or all of the chunk); returns the position after them. */
  private scan(d: DirState, buf: Buffer, p: number, end: number): number {
    const lf = buf.indexOf(0x0a, p);
    const stop = lf < 0 || lf >= end ? end : lf;
    const n = stop - p;
    if (d.state === St.Discard) {
      d.preBytes += n + (stop < end ? 1 : 0);
      if (stop < end) d.state = St.Line;
      if (d.preBytes > MAX_PRE_BYTES) this.overflow(d);
      return stop < end ? stop + 1 : end;
    }
    const room = SSH_MAX_BANNER - d.lineLen;
    if (n > room) {
      buf.copy(d.line, d.lineLen, p, p + room);
      d.lineLen += room;
      if (this.isBannerLine(d)) {
        // An identification string longer than RFC 4253 allows.
        this.counters.banner_too_long++;
        this.malformed = true;
        d.state = St.Failed;
        return end;
      }
      // A long pre-banner line: drop it, keeping only the count.
      d.preLines++;
      this.counters.pre_banner_lines++;
      d.preBytes += d.lineLen;
      d.lineLen = 0;
      d.state = St.Discard;
      if (d.preBytes > MAX_PRE_BYTES || d.preLines > MAX_PRE_LINES) this.overflow(d);
      return p + room;
    }
    buf.copy(d.line, d.lineLen, p, stop);
    d.lineLen += n;
    if (stop === end) return end;
    this.line(d);
    return stop + 1;
  }

  private isBannerLine(d: DirState): boolean {
    const l = d.line;
    return d.lineLen >= 4 && l[0] === 0x53 && l[1] === 0x53 && l[2] === 0x48 && l[3] === 0x2d;
  }

  /** A complete line (LF seen, not included). */
  private line(d: DirState): void {
    let n = d.lineLen;
    if (n > 0 && d.line[n - 1] === 0x0d) n--;
    if (this.isBannerLine(d)) {
      d.banner = parseBanner(d.line, n);
      d.state = St.Done;
      this.counters.banners++;
    } else {
      d.preLines++;
      d.preBytes += d.lineLen + 1;
      this.counters.pre_banner_lines++;
      if (d.preLines > MAX_PRE_LINES || d.preBytes > MAX_PRE_BYTES) this.overflow(d);
    }
    d.lineLen = 0;
  }

  private overflow(d: DirState): void {
    this.counters.pre_banner_overflow++;
    this.malformed = true;
    d.state = St.Failed;
  }

  private bothSettled(): boolean {
    const a = this.dirs[0].state;
    const b = this.dirs[1].state;
    return (a === St.Done || a === St.Failed) && (b === St.Done || b === St.Failed);
  }

  private finish(tsSec: number, tsNsec: number): void {
    this.emitted = true;
    const c = this.dirs[Direction.ToServer].banner;
    const s = this.dirs[Direction.ToClient].banner;
    const rec: RemoteAccessRecord = newRemoteAccess('ssh', true, tsSec, tsNsec);
    if (c !== null) {
      rec.client_banner = c.text;
      rec.client_software = c.software;
      if (c.comments !== '') rec.client_comments = c.comments;
    }
    if (s !== null) {
      rec.server_banner = s.text;
      rec.server_software = s.software;
      if (s.comments !== '') rec.server_comments = s.comments;
    }
    // Both speak SSH-2 ("2.0", or "1.99" = both 1 and 2): 2.0; otherwise the older side decides.
    let version: string | undefined;
    if (c !== null && s !== null) version = isSsh2(c.proto) && isSsh2(s.proto) ? '2.0' : isSsh2(c.proto) ? s.proto : c.proto;
    else version = (c ?? s)?.proto;
    if (version !== undefined) {
      rec.protocol_version = version;
      if (version.startsWith('1.') && version !== '1.99') {
        rec.weak = true;
        rec.weak_reason = 'ssh-1';
      }
    }
    if (c === null || s === null) rec.incomplete = true;
    if (this.malformed) rec.malformed = true;
    this.opts.emit(rec);
  }
}
