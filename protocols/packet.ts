/**
 * The decoded headers of one frame. A single instance is reused for every packet, so every
 * field is a number written by the decoders; nothing here allocates per packet.
 * Addresses are four 32-bit words each: IPv6 as is, IPv4 as the mapped form ::ffff:a.b.c.d,
 * which lets one flow key and one comparison serve both families.
 */
export class DecodedPacket {
  // link layer
  linkType = 0;
  /** Offset of the 6-byte source MAC in the frame, or -1 when the link has none. */
  srcMacOff = -1;
  dstMacOff = -1;
  /** 802.1Q/802.1ad tags, outermost first; 0 when absent. */
  vlanCount = 0;
  vlanOuter = 0;
  vlanInner = 0;
  etherType = 0;
  // network layer
  ipVersion = 0;
  ipOff = 0;
  /** One past the last byte of the IP datagram inside the captured frame (excludes Ethernet padding). */
  ipEnd = 0;
  /** True when the snaplen cut the datagram short. */
  ipTruncated = false;
  ttl = 0;
  src0 = 0;
  src1 = 0;
  src2 = 0;
  src3 = 0;
  dst0 = 0;
  dst1 = 0;
  dst2 = 0;
  dst3 = 0;
  l4Proto = 0;
  l4Off = 0;
  // fragmentation
  isFragment = false;
  fragId = 0;
  /** Byte offset of this fragment's payload in the original datagram. */
  fragOffset = 0;
  moreFragments = false;
  /** Offset of the fragmentable part's header (IPv6: where the Fragment header was). */
  fragHeaderEnd = 0;
  // transport layer
  sport = 0;
  dport = 0;
  tcpFlags = 0;
  seq = 0;
  ack = 0;
  window = 0;
  tcpMss = 0;
  tcpWscale = -1;
  payloadOff = 0;
  payloadLen = 0;
  /** Payload bytes on the wire that the capture did not keep (snaplen). */
  payloadMissing = 0;
  // encapsulation (protocols/link/tunnel.ts): the fields above describe the innermost packet
  /** Tunnel layers peeled so far. */
  encapDepth = 0;
  /** The outermost layer's EncapKind and its id (GRE key, ERSPAN session, VNI, TEID, PPPoE session; -1 = none). */
  encapKind = 0;
  encapId = -1;
  /** The layer peeled last, for counting per kind. */
  lastEncapKind = 0;
  /** The first IP header that carried a tunnel (0 = none), addresses as for src/dst. */
  outerIpVersion = 0;
  outerSrc0 = 0;
  outerSrc1 = 0;
  outerSrc2 = 0;
  outerSrc3 = 0;
  outerDst0 = 0;
  outerDst1 = 0;
  outerDst2 = 0;
  outerDst3 = 0;
  /** Set by a tunnel decoder: what it carries (an EtherType; 0x6558 for an Ethernet frame) and where. */
  innerType = 0;
  innerOff = 0;
  innerEnd = 0;
  /** The VLAN of a mirrored frame whose tag the mirror moved into its own header (ERSPAN II), else 0. */
  innerVlan = 0;

  resetEncap(): void {
    this.encapDepth = 0;
    this.encapKind = 0;
    this.encapId = -1;
    this.lastEncapKind = 0;
    this.outerIpVersion = 0;
    this.innerVlan = 0;
  }

  resetL3(): void {
    this.ipVersion = 0;
    this.isFragment = false;
    this.ipTruncated = false;
    this.l4Proto = 0;
    this.payloadLen = 0;
    this.payloadMissing = 0;
    this.sport = 0;
    this.dport = 0;
    this.tcpFlags = 0;
    this.tcpMss = 0;
    this.tcpWscale = -1;
  }
}

/** Outcome of one decoder. Anything but Ok is counted against that layer and ends the packet. */
export const enum DecodeStatus {
  Ok = 0,
  /** The frame ends before the header does (snaplen or a broken frame). */
  Truncated = 1,
  /** A header field is impossible (bad version, header length below minimum, …). */
  Malformed = 2,
  /** Valid but not something we decode further (ARP, LLDP, other link types…). */
  NotIp = 3,
}

export const enum IpProto {
  HopByHop = 0,
  Icmp = 1,
  Tcp = 6,
  Udp = 17,
  Ipv6Route = 43,
  Ipv6Frag = 44,
  Esp = 50,
  Ah = 51,
  Icmpv6 = 58,
  NoNext = 59,
  Ipv6Opts = 60,
  Mobility = 135,
}

export const enum TcpFlag {
  Fin = 0x01,
  Syn = 0x02,
  Rst = 0x04,
  Psh = 0x08,
  Ack = 0x10,
  Urg = 0x20,
}
