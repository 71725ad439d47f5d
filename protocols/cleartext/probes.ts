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
