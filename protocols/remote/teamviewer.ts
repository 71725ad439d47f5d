/**
 * TeamViewer's own protocol (TCP 5938, and tunnelled over 80/443 when 5938 is blocked).
 * Frames start with a two-byte magic — 0x17 0x24 (current clients) or 0x11 0x30 (old ones) —
 * and a command byte (CMD_IDENTIFY = 10, CMD_PING = 16 …; the names as bettercap and nDPI
 * know them). That is all the content there is to recognise: sessions are end-to-end
 * encrypted (RSA key exchange, AES), so the parser reads each side's first frame header and
 * detaches. Recognised by content on any port; ports are never needed.
 */
import { DETACH, Direction, type StreamEndReason, type StreamParser } from '../stream.js';
import { HandshakeBuffer, newRemoteAccess, SKIP_REST, type RemoteParserOptions } from './records.js';

export const TEAMVIEWER_MAGIC_V2 = 0x1724;
export const TEAMVIEWER_MAGIC_V1 = 0x1130;

const COMMAND_NAMES: Record<number, string> = {
  10: 'identify',
  11: 'request-connect',
  13: 'disconnect',
  15: 'connection-failed',
  16: 'ping',
  17: 'ping-ok',
  21: 'no-partner-connect',
  22: 'connect-to-waiting-thread',
  23: 'session-mode',
  24: 'request-routing-session',
  27: 'keepalive-beep',
  28: 'request-keepalive',
  36: 'ok',
  37: 'failed',
  40: 'request-keepalive2',
  90: 'data',
  92: 'data-encrypted',
  93: 'request-encryption',
  94: 'confirm-encryption',
  95: 'encryption-request-failed',
  96: 'request-no-encryption',
  102: 'auth-challenge',
  103: 'auth-response',
  104: 'auth-result',
};

export function teamViewerCommandName(c: number): string {
  return COMMAND_NAMES[c] ?? `cmd-${c}`;
}

/** 2 for 0x1724, 1 for 0x1130, 0 for anything else. */
export function teamViewerVersion(b0: number, b1: number): number {
  const m = (b0 << 8) | b1;
  return m === TEAMVIEWER_MAGIC_V2 ? 2 : m === TEAMVIEWER_MAGIC_V1 ? 1 : 0;
}

export interface TeamViewerCounters {
  bytes: number;
  headers: number;
  bad_magic: number;
  gaps: number;
}

export class TeamViewerStreamParser implements StreamParser {
  readonly counters: TeamViewerCounters = { bytes: 0, headers: 0, bad_magic: 0, gaps: 0 };
  private readonly opts: RemoteParserOptions;
  private readonly hdr: [HandshakeBuffer, HandshakeBuffer] = [new HandshakeBuffer(3), new HandshakeBuffer(3)];
  private readonly seen = [false, false];
  private readonly command = [-1, -1];
  private version = 0;
  private emitted = false;
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
    if (!this.seen[dir]) {
      const h = this.hdr[dir];
      h.fill(3, buf, off, Math.min(len, buf.length - off));
      if (h.len < 3) return 0;
      this.seen[dir] = true;
      const v = teamViewerVersion(h.buf[0], h.buf[1]);
      if (v === 0) this.counters.bad_magic++;
      else {
        this.counters.headers++;
        if (this.version === 0) this.version = v;
        this.command[dir] = h.buf[2];
      }
    }
    if (this.seen[0] && this.seen[1]) {
      this.finish(tsSec, tsNsec);
      return DETACH;
    }
    return SKIP_REST;
  }

  gap(dir: Direction, _len: number): void {
    this.counters.gaps++;
    this.seen[dir] = true;
    if (this.seen[0] && this.seen[1] && !this.emitted) this.finish(this.lastSec, this.lastNsec);
  }

  end(_reason: StreamEndReason): void {
    if (!this.emitted) this.finish(this.lastSec, this.lastNsec);
  }

  private finish(tsSec: number, tsNsec: number): void {
    this.emitted = true;
    const rec = newRemoteAccess('teamviewer', true, tsSec, tsNsec);
    if (this.version !== 0) rec.teamviewer_version = this.version;
    if (this.command[Direction.ToServer] >= 0) rec.client_command = teamViewerCommandName(this.command[Direction.ToServer]);
    if (this.command[Direction.ToClient] >= 0) rec.server_command = teamViewerCommandName(this.command[Direction.ToClient]);
    if (this.command[0] < 0 || this.command[1] < 0) rec.incomplete = true;
    this.opts.emit(rec);
  }
}
