import { DecodeStatus, type DecodedPacket } from '../packet.js';

/** Decodes the UDP header at out.l4Off; the payload is bounded by the UDP length when it is sane. */
export function decodeUdp(buf: Buffer, out: DecodedPacket): DecodeStatus {
  const off = out.l4Off;
  const end = out.ipEnd;
  if (end - off < 8) return DecodeStatus.Truncated;
  out.sport = buf.readUInt16BE(off);
  out.dport = buf.readUInt16BE(off + 2);
  const len = buf.readUInt16BE(off + 4);
  // Length 0 is legal for IPv6 jumbograms; a length below 8 is not.
  if (len !== 0 && len < 8) return DecodeStatus.Malformed;
  out.payloadOff = off + 8;
  const avail = end - off - 8;
  out.payloadLen = len === 0 || len - 8 > avail ? avail : len - 8;
  return DecodeStatus.Ok;
}
