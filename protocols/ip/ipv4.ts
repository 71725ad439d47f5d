import { DecodeStatus, type DecodedPacket } from '../packet.js';

/** Decodes an IPv4 header at out.ipOff. Checksums are not verified: mirror ports and offload break them. */
export function decodeIpv4(buf: Buffer, end: number, out: DecodedPacket): DecodeStatus {
  const off = out.ipOff;
  if (end - off < 20) return DecodeStatus.Truncated;
  const vihl = buf[off];
  if (vihl >> 4 !== 4) return DecodeStatus.Malformed;
  const hlen = (vihl & 0x0f) * 4;
  if (hlen < 20) return DecodeStatus.Malformed;
  if (end - off < hlen) return DecodeStatus.Truncated;
  let total = buf.readUInt16BE(off + 2);
  // A zero total length is what a capture on a TSO-offloading sender shows: trust the frame.
  if (total === 0) total = end - off;
  if (total < hlen) return DecodeStatus.Malformed;
  if (hlen > 20 && !ipv4OptionsWellFormed(buf, off + 20, off + hlen)) return DecodeStatus.Malformed;
  out.ipVersion = 4;
  const declaredEnd = off + total;
  out.ipEnd = declaredEnd < end ? declaredEnd : end;
  out.ipTruncated = declaredEnd > end;
  out.payloadMissing = declaredEnd > end ? declaredEnd - end : 0;
  out.ttl = buf[off + 8];
  out.l4Proto = buf[off + 9];
  out.src0 = 0;
  out.src1 = 0;
  out.src2 = 0xffff;
  out.src3 = buf.readUInt32BE(off + 12);
  out.dst0 = 0;
  out.dst1 = 0;
  out.dst2 = 0xffff;
  out.dst3 = buf.readUInt32BE(off + 16);
  out.l4Off = off + hlen;
  const fragWord = buf.readUInt16BE(off + 6);
  const fragOffset = (fragWord & 0x1fff) * 8;
  const more = (fragWord & 0x2000) !== 0;
  if (fragOffset !== 0 || more) {
    out.isFragment = true;
    out.fragId = buf.readUInt16BE(off + 4);
    out.fragOffset = fragOffset;
    out.moreFragments = more;
    out.fragHeaderEnd = off + hlen;
  }
  return DecodeStatus.Ok;
}

function ipv4OptionsWellFormed(buf: Buffer, off: number, end: number): boolean {
  while (off < end) {
    const type = buf[off];
    if (type === 0) return true; // end of option list
    if (type === 1) {
      off++; // no-operation
      continue;
    }
    if (end - off < 2) return false;
    const len = buf[off + 1];
    if (len < 2 || off + len > end) return false;
    off += len;
  }
  return true;
}
