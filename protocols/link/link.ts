import { DecodeStatus, type DecodedPacket } from '../packet.js';
import { decodePppoeSession } from './tunnel.js';

/** LINKTYPE_* values from the tcpdump.org registry that we decode. */
export const enum LinkType {
  Null = 0,
  Ethernet = 1,
  Raw = 101,
  /** OpenBSD's DLT_RAW number; seen in old captures. */
  RawAlt12 = 12,
  RawAlt14 = 14,
  Loop = 108,
  LinuxSll = 113,
  Ipv4 = 228,
  Ipv6 = 229,
  LinuxSll2 = 276,
}

export const enum EtherType {
  Ipv4 = 0x0800,
  Arp = 0x0806,
  Vlan = 0x8100,
  QinQ = 0x88a8,
  /** Pre-standard QinQ tag some switches still send. */
  QinQOld = 0x9100,
  Ipv6 = 0x86dd,
  PppoeSession = 0x8864,
}

export function isSupportedLinkType(lt: number): boolean {
  switch (lt) {
    case LinkType.Null:
    case LinkType.Ethernet:
    case LinkType.Raw:
    case LinkType.RawAlt12:
    case LinkType.RawAlt14:
    case LinkType.Loop:
    case LinkType.LinuxSll:
    case LinkType.Ipv4:
    case LinkType.Ipv6:
    case LinkType.LinuxSll2:
      return true;
    default:
      return false;
  }
}

/**
 * Decodes the link layer (and any VLAN tags) of one frame. On Ok, `out.etherType` says what
 * follows and `out.ipOff` where it starts.
 */
export function decodeLink(linkType: number, buf: Buffer, off: number, end: number, out: DecodedPacket): DecodeStatus {
  out.linkType = linkType;
  // A stale 0x8864 would make the caller count a later link error as a PPPoE one.
  out.etherType = 0;
  out.resetEncap();
  out.vlanCount = 0;
  out.vlanOuter = 0;
  out.vlanInner = 0;
  out.srcMacOff = -1;
  out.dstMacOff = -1;
  switch (linkType) {
    case LinkType.Ethernet: {
      if (end - off < 14) return DecodeStatus.Truncated;
      out.dstMacOff = off;
      out.srcMacOff = off + 6;
      return decodeEtherType(buf.readUInt16BE(off + 12), buf, off + 14, end, out);
    }
    case LinkType.LinuxSll: {
      if (end - off < 16) return DecodeStatus.Truncated;
      if (buf.readUInt16BE(off + 4) === 6) out.srcMacOff = off + 6;
      return decodeEtherType(buf.readUInt16BE(off + 14), buf, off + 16, end, out);
    }
    case LinkType.LinuxSll2: {
      if (end - off < 20) return DecodeStatus.Truncated;
      if (buf[off + 11] === 6) out.srcMacOff = off + 12;
      return decodeEtherType(buf.readUInt16BE(off), buf, off + 20, end, out);
    }
    case LinkType.Null:
    case LinkType.Loop: {
      if (end - off < 4) return DecodeStatus.Truncated;
      // DLT_NULL stores the address family in the writer's byte order; LOOP in network order.
      let af = linkType === LinkType.Loop ? buf.readUInt32BE(off) : buf.readUInt32LE(off);
      if (linkType === LinkType.Null && af > 0xffff) af = buf.readUInt32BE(off);
      out.ipOff = off + 4;
      if (af === 2) {
        out.etherType = EtherType.Ipv4;
        return DecodeStatus.Ok;
      }
      // BSDs disagree on AF_INET6: 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS), 10 (Linux).
      if (af === 24 || af === 28 || af === 30 || af === 10) {
        out.etherType = EtherType.Ipv6;
        return DecodeStatus.Ok;
      }
      out.etherType = 0;
      return DecodeStatus.NotIp;
    }
    case LinkType.Raw:
    case LinkType.RawAlt12:
    case LinkType.RawAlt14:
    case LinkType.Ipv4:
    case LinkType.Ipv6: {
      if (end - off < 1) return DecodeStatus.Truncated;
      const v = buf[off] >> 4;
      out.ipOff = off;
      if (v === 4) out.etherType = EtherType.Ipv4;
      else if (v === 6) out.etherType = EtherType.Ipv6;
      else return DecodeStatus.Malformed;
      return DecodeStatus.Ok;
    }
    default:
      out.etherType = 0;
      return DecodeStatus.NotIp;
  }
}

function decodeEtherType(type: number, buf: Buffer, off: number, end: number, out: DecodedPacket): DecodeStatus {
  // Unwrap any number of tags but keep the outer two: a SPAN of a trunk shows 802.1Q, a
  // provider bridge 802.1ad + 802.1Q.
  while (type === EtherType.Vlan || type === EtherType.QinQ || type === EtherType.QinQOld) {
    if (end - off < 4) return DecodeStatus.Truncated;
    const vid = buf.readUInt16BE(off) & 0x0fff;
    if (out.vlanCount === 0) out.vlanOuter = vid;
    else if (out.vlanCount === 1) out.vlanInner = vid;
    out.vlanCount++;
    type = buf.readUInt16BE(off + 2);
    off += 4;
  }
  out.etherType = type;
  out.ipOff = off;
  if (type === EtherType.Ipv4 || type === EtherType.Ipv6) return DecodeStatus.Ok;
  if (type !== EtherType.PppoeSession) return DecodeStatus.NotIp;
  // A failed PPPoE header leaves etherType at 0x8864 so the caller can count it as encapsulation.
  const status = decodePppoeSession(buf, off, end, out);
  if (status !== DecodeStatus.Ok) return status;
  out.etherType = out.innerType;
  out.ipOff = out.innerOff;
  return DecodeStatus.Ok;
}

/**
 * The Ethernet frame a tunnel carries (gretap, ERSPAN, VXLAN) at `off`. Its MACs and VLAN tags
 * replace the outer ones: they are the mirrored device's, the outer ones the mirror's transport.
 */
export function decodeInnerEthernet(buf: Buffer, off: number, end: number, out: DecodedPacket): DecodeStatus {
  out.vlanCount = 0;
  out.vlanOuter = 0;
  out.vlanInner = 0;
  out.srcMacOff = -1;
  out.dstMacOff = -1;
  if (end - off < 14) return DecodeStatus.Truncated;
  out.dstMacOff = off;
  out.srcMacOff = off + 6;
  const vlan = out.innerVlan;
  out.innerVlan = 0;
  const status = decodeEtherType(buf.readUInt16BE(off + 12), buf, off + 14, end, out);
  if (vlan !== 0 && out.vlanCount === 0) {
    out.vlanCount = 1;
    out.vlanOuter = vlan;
  }
  return status;
}
