import { ProbeVerdict } from '../probe.js';

function startsWithAscii(buf: Buffer, off: number, len: number, text: string): ProbeVerdict {
  const n = Math.min(len, text.length);
  for (let i = 0; i < n; i++) if (buf[off + i] !== text.charCodeAt(i)) return ProbeVerdict.No;
  return len >= text.length ? ProbeVerdict.Yes : ProbeVerdict.NeedMore;
}

/** SSH identification string (RFC 4253 §4.2), sent by both sides. */
export function probeSsh(buf: Buffer, off: number, len: number): ProbeVerdict {
  return startsWithAscii(buf, off, len, 'SSH-');
}

/** RFB (VNC) protocol version banner "RFB 003.008\n", sent by the server first. */
export function probeRfb(buf: Buffer, off: number, len: number): ProbeVerdict {
  const v = startsWithAscii(buf, off, len, 'RFB ');
  if (v !== ProbeVerdict.Yes) return v;
  if (len < 12) return ProbeVerdict.NeedMore;
  return buf[off + 7] === 0x2e && buf[off + 11] === 0x0a ? ProbeVerdict.Yes : ProbeVerdict.No;
}

/** RDP: a TPKT header (version 3) carrying an X.224 Connection Request or Confirm. */
export function probeRdp(buf: Buffer, off: number, len: number): ProbeVerdict {
  if (len < 1) return ProbeVerdict.NeedMore;
  if (buf[off] !== 3) return ProbeVerdict.No;
  if (len < 7) return ProbeVerdict.NeedMore;
  if (buf[off + 1] !== 0) return ProbeVerdict.No;
  const tpktLen = buf.readUInt16BE(off + 2);
  const li = buf[off + 4];
  const code = buf[off + 5] & 0xf0;
  if (tpktLen < 11 || li + 5 > tpktLen) return ProbeVerdict.No;
  return code === 0xe0 || code === 0xd0 ? ProbeVerdict.Yes : ProbeVerdict.No;
}
