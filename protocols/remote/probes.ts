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

/**
 * RDP's first PDU, stricter than probeRdp: a TPKT whose X.224 Connection Request fills it
 * exactly (LI + 5 = TPKT length), DST-REF 0, and a variable part that is empty, a
 * `Cookie:` or an RDP_NEG_REQ (MS-RDPBCGR §2.2.1.1). ISO transport on 102 (S7comm, MMS)
 * uses the same CR, but with TSAP parameters (0xC0–0xC2) instead.
 */
export function probeRdpConnectionRequest(buf: Buffer, off: number, len: number): ProbeVerdict {
  if (len < 1) return ProbeVerdict.NeedMore;
  if (buf[off] !== 3) return ProbeVerdict.No;
  if (len < 11) return ProbeVerdict.NeedMore;
  if (buf[off + 1] !== 0) return ProbeVerdict.No;
  const tpktLen = buf.readUInt16BE(off + 2);
  const li = buf[off + 4];
  if (tpktLen < 11 || li + 5 !== tpktLen) return ProbeVerdict.No;
  if ((buf[off + 5] & 0xf0) !== 0xe0 || buf[off + 6] !== 0 || buf[off + 7] !== 0) return ProbeVerdict.No;
  if (tpktLen === 11) return ProbeVerdict.Yes;
  if (len < 12) return ProbeVerdict.NeedMore;
  const v = buf[off + 11];
  if (v === 0x01) return ProbeVerdict.Yes;
  if (v !== 0x43) return ProbeVerdict.No;
  return startsWithAscii(buf, off + 11, len - 11, 'Cookie:');
}

/**
 * Telnet: a stream that opens with option negotiation, `sequences` commands of
 * IAC WILL/WONT/DO/DONT <option> in a row (an IAC SB after the first also counts). Servers
 * open with one; a client's first bytes are weaker evidence, so callers ask for two there.
 */
export function probeTelnet(buf: Buffer, off: number, len: number, sequences = 1): ProbeVerdict {
  let p = 0;
  for (let i = 0; i < sequences; i++) {
    if (len - p < 1) return ProbeVerdict.NeedMore;
    if (buf[off + p] !== 0xff) return ProbeVerdict.No;
    if (len - p < 2) return ProbeVerdict.NeedMore;
    const c = buf[off + p + 1];
    if (c < 0xfb || c > 0xfe) return i > 0 && c === 0xfa ? ProbeVerdict.Yes : ProbeVerdict.No;
    if (len - p < 3) return ProbeVerdict.NeedMore;
    p += 3;
  }
  return ProbeVerdict.Yes;
}

/**
 * TeamViewer's frame header: magic 0x17 0x24 (or 0x11 0x30 in old versions) and a known
 * command code (10–113), as nDPI and libprotoident recognise it.
 */
export function probeTeamViewer(buf: Buffer, off: number, len: number): ProbeVerdict {
  if (len < 1) return ProbeVerdict.NeedMore;
  const b0 = buf[off];
  if (b0 !== 0x17 && b0 !== 0x11) return ProbeVerdict.No;
  if (len < 2) return ProbeVerdict.NeedMore;
  const b1 = buf[off + 1];
  if (!((b0 === 0x17 && b1 === 0x24) || (b0 === 0x11 && b1 === 0x30))) return ProbeVerdict.No;
  if (len < 3) return ProbeVerdict.NeedMore;
  const cmd = buf[off + 2];
  return cmd >= 10 && cmd <= 113 ? ProbeVerdict.Yes : ProbeVerdict.No;
}
