import { ProbeVerdict } from '../probe.js';

const HTTP_METHODS = ['GET ', 'POST ', 'PUT ', 'HEAD ', 'DELETE ', 'OPTIONS ', 'PATCH ', 'CONNECT ', 'HTTP/1.'];

/** An HTTP/1.x request line or status line. */
export function probeHttp(buf: Buffer, off: number, len: number): ProbeVerdict {
  let anyPrefix = false;
  for (const m of HTTP_METHODS) {
    const n = Math.min(len, m.length);
    let ok = true;
    for (let i = 0; i < n; i++) {
      if (buf[off + i] !== m.charCodeAt(i)) {
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    if (len >= m.length) return ProbeVerdict.Yes;
    anyPrefix = true;
  }
  return anyPrefix ? ProbeVerdict.NeedMore : ProbeVerdict.No;
}

/** SMB over TCP 445: a NetBIOS session message holding an SMB1 (0xFF) or SMB2/3 (0xFE) header. */
export function probeSmb(buf: Buffer, off: number, len: number): ProbeVerdict {
  if (len < 1) return ProbeVerdict.NeedMore;
  if (buf[off] !== 0) return ProbeVerdict.No;
  if (len < 8) return ProbeVerdict.NeedMore;
  const m = buf[off + 4];
  if ((m !== 0xff && m !== 0xfe) || buf[off + 5] !== 0x53 || buf[off + 6] !== 0x4d || buf[off + 7] !== 0x42) return ProbeVerdict.No;
  return ProbeVerdict.Yes;
}

// ---- server-first text protocols: the greeting decides, the client's first command breaks ties ----

/** The first line of buf[off, off+len) as latin1, or null while it is incomplete (and short). */
function firstLine(buf: Buffer, off: number, len: number): string | null {
  const n = Math.min(len, 200);
  for (let i = 0; i < n; i++) if (buf[off + i] === 0x0a) return buf.toString('latin1', off, off + i);
  return len >= 200 ? buf.toString('latin1', off, off + n) : null;
}

/** What a "220" greeting says about itself: FTP and SMTP both greet with 220. */
function greeting220(buf: Buffer, off: number, len: number): 'ftp' | 'smtp' | 'unknown' | 'no' | 'partial' {
  const head = '220';
  for (let i = 0; i < Math.min(len, 3); i++) if (buf[off + i] !== head.charCodeAt(i)) return 'no';
  if (len < 4) return 'partial';
  if (buf[off + 3] !== 0x20 && buf[off + 3] !== 0x2d) return 'no';
  const line = firstLine(buf, off, len);
  if (line === null) return 'partial';
  if (/smtp/i.test(line)) return 'smtp';
  if (/ftp/i.test(line)) return 'ftp';
  if (/postfix|exim|sendmail|\bmail\b|\bmta\b/i.test(line)) return 'smtp';
  return 'unknown';
}

/** Client commands that only FTP sends first. */
const FTP_FIRST = /^(USER |AUTH (TLS|SSL)|FEAT\r?$|SYST\r?$|OPTS |CLNT |HOST |PWD\r?$)/i;
const SMTP_FIRST = /^(EHLO|HELO|LHLO) /i;

function clientFirst(buf: Buffer, off: number, len: number, re: RegExp): ProbeVerdict {
  const line = firstLine(buf, off, len);
  if (line === null) {
    // Not a full line yet: an uppercase word so far could still become the command.
    for (let i = 0; i < Math.min(len, 5); i++) {
      const c = buf[off + i];
      if (!((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x20)) return ProbeVerdict.No;
    }
    return ProbeVerdict.NeedMore;
  }
  return re.test(line) ? ProbeVerdict.Yes : ProbeVerdict.No;
}

/** FTP control: a 220 greeting that names FTP, or an FTP-only first command from the client. */
export function probeFtp(toClient: boolean, buf: Buffer, off: number, len: number): ProbeVerdict {
  if (!toClient) return clientFirst(buf, off, len, FTP_FIRST);
  const g = greeting220(buf, off, len);
  if (g === 'ftp') return ProbeVerdict.Yes;
  if (g === 'no' || g === 'smtp') return ProbeVerdict.No;
  // A neutral greeting: wait for the client's first command.
  return ProbeVerdict.NeedMore;
}

/** SMTP: a 220 greeting that names SMTP, or EHLO/HELO from the client. */
export function probeSmtp(toClient: boolean, buf: Buffer, off: number, len: number): ProbeVerdict {
  if (!toClient) return clientFirst(buf, off, len, SMTP_FIRST);
  const g = greeting220(buf, off, len);
  if (g === 'smtp') return ProbeVerdict.Yes;
  if (g === 'no' || g === 'ftp') return ProbeVerdict.No;
  return ProbeVerdict.NeedMore;
}

function greetingPrefix(buf: Buffer, off: number, len: number, prefixes: string[]): ProbeVerdict {
  let partial = false;
  for (const p of prefixes) {
    const n = Math.min(len, p.length);
    let ok = true;
    for (let i = 0; i < n; i++) {
      if (buf[off + i] !== p.charCodeAt(i)) {
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    if (len < p.length) {
      partial = true;
      continue;
    }
    return ProbeVerdict.Yes;
  }
  return partial ? ProbeVerdict.NeedMore : ProbeVerdict.No;
}

/** POP3: the server greets with "+OK" (the client direction never decides). */
export function probePop3(toClient: boolean, buf: Buffer, off: number, len: number): ProbeVerdict {
  if (!toClient) return ProbeVerdict.No;
  return greetingPrefix(buf, off, len, ['+OK ', '+OK\r', '+OK\n']);
}

/** IMAP: the server greets with "* OK", "* PREAUTH" or "* BYE". */
export function probeImap(toClient: boolean, buf: Buffer, off: number, len: number): ProbeVerdict {
  if (!toClient) return ProbeVerdict.No;
  return greetingPrefix(buf, off, len, ['* OK ', '* PREAUTH ', '* BYE ']);
}
