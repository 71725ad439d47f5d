import { DecodeStatus, IpProto, type DecodedPacket } from '../packet.js';

/** More extension headers than this in one packet is an evasion attempt, not a real stack. */
const MAX_EXTENSION_HEADERS = 16;

/** Decodes an IPv6 header and walks its extension headers to the upper-layer protocol. */
export function decodeIpv6(buf: Buffer, end: number, out: DecodedPacket): DecodeStatus {
  const off = out.ipOff;
  if (end - off < 40) return DecodeStatus.Truncated;
  if (buf[off] >> 4 !== 6) return DecodeStatus.Malformed;
  const payloadLen = buf.readUInt16BE(off + 4);
  // Payload length 0 means a jumbogram (or TSO on the capturing host): trust the frame.
  const declaredEnd = payloadLen === 0 ? end : off + 40 + payloadLen;
  out.ipVersion = 6;
  out.ipEnd = declaredEnd < end ? declaredEnd : end;
  out.ipTruncated = declaredEnd > end;
  out.payloadMissing = declaredEnd > end ? declaredEnd - end : 0;
  out.ttl = buf[off + 7];
  out.src0 = buf.readUInt32BE(off + 8);
  out.src1 = buf.readUInt32BE(off + 12);
  out.src2 = buf.readUInt32BE(off + 16);
  out.src3 = buf.readUInt32BE(off + 20);
  out.dst0 = buf.readUInt32BE(off + 24);
  out.dst1 = buf.readUInt32BE(off + 28);
  out.dst2 = buf.readUInt32BE(off + 32);
  out.dst3 = buf.readUInt32BE(off + 36);
  let next = buf[off + 6];
  let p = off + 40;
  const limit = out.ipEnd;
  for (let i = 0; i < MAX_EXTENSION_HEADERS; i++) {
    switch (next) {
      case IpProto.HopByHop:
      case IpProto.Ipv6Route:
      case IpProto.Ipv6Opts:
      case IpProto.Mobility: {
        if (limit - p < 8) return DecodeStatus.Truncated;
        const len = (buf[p + 1] + 1) * 8;
        if (limit - p < len) return DecodeStatus.Truncated;
        next = buf[p];
        p += len;
        break;
      }
      case IpProto.Ah: {
        if (limit - p < 8) return DecodeStatus.Truncated;
        const len = (buf[p + 1] + 2) * 4;
        if (limit - p < len) return DecodeStatus.Truncated;
        next = buf[p];
        p += len;
        break;
      }
      case IpProto.Ipv6Frag: {
        if (limit - p < 8) return DecodeStatus.Truncated;
        const w = buf.readUInt16BE(p + 2);
        const fragOffset = w & 0xfff8;
        const more = (w & 1) !== 0;
        next = buf[p];
        p += 8;
        if (fragOffset !== 0 || more) {
          out.isFragment = true;
          out.fragId = buf.readUInt32BE(p - 4);
          out.fragOffset = fragOffset;
          out.moreFragments = more;
          out.fragHeaderEnd = p;
          out.l4Proto = next;
          out.l4Off = p;
          return DecodeStatus.Ok;
        }
        // An atomic fragment (offset 0, no more): the payload is complete, keep walking.
        break;
      }
      default:
        // Upper layer, ESP (opaque) or No Next Header.
        out.l4Proto = next;
        out.l4Off = p;
        return DecodeStatus.Ok;
    }
  }
  return DecodeStatus.Malformed;
}
