import { DecodeStatus, type DecodedPacket } from '../packet.js';

/** Decodes the TCP header at out.l4Off (bounded by out.ipEnd) and its MSS / window-scale options. */
export function decodeTcp(buf: Buffer, out: DecodedPacket): DecodeStatus {
  const off = out.l4Off;
  const end = out.ipEnd;
  if (end - off < 20) return DecodeStatus.Truncated;
  const hlen = (buf[off + 12] >> 4) * 4;
  if (hlen < 20) return DecodeStatus.Malformed;
  if (end - off < hlen) return DecodeStatus.Truncated;
  out.sport = buf.readUInt16BE(off);
  out.dport = buf.readUInt16BE(off + 2);
  out.seq = buf.readUInt32BE(off + 4);
  out.ack = buf.readUInt32BE(off + 8);
  out.tcpFlags = buf[off + 13];
  out.window = buf.readUInt16BE(off + 14);
  out.payloadOff = off + hlen;
  out.payloadLen = end - off - hlen;
  if (hlen > 20 && !decodeTcpOptions(buf, off + 20, off + hlen, out)) return DecodeStatus.Malformed;
  return DecodeStatus.Ok;
}

function decodeTcpOptions(buf: Buffer, off: number, end: number, out: DecodedPacket): boolean {
  while (off < end) {
    const kind = buf[off];
    if (kind === 0) return true;
    if (kind === 1) {
      off++;
      continue;
    }
    if (end - off < 2) return false;
    const len = buf[off + 1];
    if (len < 2 || off + len > end) return false;
    if (kind === 2 && len === 4) out.tcpMss = buf.readUInt16BE(off + 2);
    else if (kind === 3 && len === 3) out.tcpWscale = buf[off + 2];
    off += len;
  }
  return true;
}
