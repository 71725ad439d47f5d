/**
 * Decapsulation of what mirror ports and remote mirroring deliver: PPPoE sessions, GRE (plain,
 * transparent Ethernet bridging, ERSPAN types I–III), VXLAN, IP-in-IP (ipip, sit, ip6tnl) and
 * GTP-U. Each decoder reads one tunnel header at a known offset and, on Ok, says what it
 * carries (`out.innerType`: an EtherType, Ethernet for bridged frames) and where
 * (`out.innerOff` … `out.innerEnd`). The caller (the pipeline) peels layer after layer up to a
 * bounded depth, so the inner flow is the one analysed. Like the other decoders these write
 * numbers into the one DecodedPacket and allocate nothing.
 */
import { DecodeStatus, type DecodedPacket } from '../packet.js';

/** Layers peeled from one frame at most: a deeper stack is a crafted frame, not a mirror. */
export const MAX_ENCAP_DEPTH = 4;

export const enum EncapKind {
  None = 0,
  Pppoe = 1,
  /** GRE carrying IPv4/IPv6. */
  Gre = 2,
  /** GRE carrying Ethernet (0x6558): Linux gretap, RSPAN over GRE. */
  Gretap = 3,
  /** ERSPAN type I: GRE 0x88be without a sequence number or ERSPAN header. */
  Erspan1 = 4,
  Erspan2 = 5,
  Erspan3 = 6,
  Vxlan = 7,
  /** IPv4 in IPv4. */
  Ipip = 8,
  /** IPv6 in IPv4 (6in4). */
  Sit = 9,
  /** IPv4 or IPv6 in IPv6. */
  Ip6tnl = 10,
  GtpU = 11,
}

/** Names by EncapKind: the `kind` label of the metrics and the `flow.tunnel.kind` of events. */
export const ENCAP_KIND_NAMES = ['none', 'pppoe', 'gre', 'gretap', 'erspan1', 'erspan2', 'erspan3', 'vxlan', 'ipip', 'sit', 'ip6tnl', 'gtpu'] as const;
export const ENCAP_KIND_COUNT = ENCAP_KIND_NAMES.length;

export const enum TunnelEtherType {
  Ipv4 = 0x0800,
  Ipv6 = 0x86dd,
  /** Transparent Ethernet bridging: a whole Ethernet frame follows. */
  Ethernet = 0x6558,
  PppoeSession = 0x8864,
  Erspan12 = 0x88be,
  Erspan3 = 0x22eb,
}

export const enum TunnelPort {
  Vxlan = 4789,
  GtpU = 2152,
}

export const enum TunnelProto {
  Ipv4 = 4,
  Ipv6 = 41,
  Gre = 47,
}

const GRE_C = 0x8000;
const GRE_R = 0x4000;
const GRE_K = 0x2000;
const GRE_S = 0x1000;
const GTP_G_PDU = 255;
/** GTP-U extension headers one packet may chain before we call it malformed. */
const MAX_GTP_EXTENSIONS = 8;

/** True for an IP protocol number that may be a tunnel (the UDP ones are told by port). */
export function isTunnelProto(proto: number): boolean {
  return proto === TunnelProto.Gre || proto === TunnelProto.Ipv4 || proto === TunnelProto.Ipv6;
}

/** True for a UDP port pair that may carry a tunnel. */
export function isTunnelUdp(sport: number, dport: number): boolean {
  return dport === TunnelPort.Vxlan || dport === TunnelPort.GtpU || sport === TunnelPort.GtpU;
}

/**
 * Records one peeled layer: the outermost one's kind and id stay in the packet (and so in the
 * flow), and the outer addresses are those of the first IP header that carried a tunnel.
 */
function peeled(out: DecodedPacket, kind: EncapKind, id: number, ipCarried: boolean): void {
  if (out.encapDepth === 0) {
    out.encapKind = kind;
    out.encapId = id;
  }
  if (ipCarried && out.outerIpVersion === 0) {
    out.outerIpVersion = out.ipVersion;
    out.outerSrc0 = out.src0;
    out.outerSrc1 = out.src1;
    out.outerSrc2 = out.src2;
    out.outerSrc3 = out.src3;
    out.outerDst0 = out.dst0;
    out.outerDst1 = out.dst1;
    out.outerDst2 = out.dst2;
    out.outerDst3 = out.dst3;
  }
  out.encapDepth++;
  out.lastEncapKind = kind;
}

/**
 * PPPoE session stage (after EtherType 0x8864) at `off`. Ok with `out.innerType` IPv4/IPv6;
 * NotIp for PPP control traffic (LCP, IPCP, authentication) that carries no flow.
 */
export function decodePppoeSession(buf: Buffer, off: number, end: number, out: DecodedPacket): DecodeStatus {
  if (end - off < 8) return DecodeStatus.Truncated;
  // Version 1, type 1; code 0 is the session stage (discovery uses 0x8863).
  if (buf[off] !== 0x11 || buf[off + 1] !== 0) return DecodeStatus.Malformed;
  const session = buf.readUInt16BE(off + 2);
  const len = buf.readUInt16BE(off + 4);
  if (len < 2) return DecodeStatus.Malformed;
  const declaredEnd = off + 6 + len;
  // PPP protocol field compression (RFC 1661 §6.5) leaves one byte when it is odd.
  let proto = buf[off + 6];
  let inner = off + 7;
  if ((proto & 1) === 0) {
    proto = buf.readUInt16BE(off + 6);
    inner = off + 8;
  }
  if (proto === 0x21) out.innerType = TunnelEtherType.Ipv4;
  else if (proto === 0x57) out.innerType = TunnelEtherType.Ipv6;
  else return DecodeStatus.NotIp;
  out.innerOff = inner;
  out.innerEnd = declaredEnd < end ? declaredEnd : end;
  peeled(out, EncapKind.Pppoe, session, false);
  return DecodeStatus.Ok;
}

/**
 * The IP payload at out.l4Off … out.ipEnd as a tunnel, for l4Proto GRE, IPv4 or IPv6.
 * NotIp when it is GRE we do not open (PPTP, MPLS, keepalives…): an ordinary IP packet then.
 */
export function decodeIpTunnel(buf: Buffer, out: DecodedPacket): DecodeStatus {
  const proto = out.l4Proto;
  if (proto === TunnelProto.Gre) return decodeGre(buf, out.l4Off, out.ipEnd, out);
  if (proto !== TunnelProto.Ipv4 && proto !== TunnelProto.Ipv6) return DecodeStatus.NotIp;
  if (out.ipEnd - out.l4Off < 1) return DecodeStatus.Truncated;
  const v = buf[out.l4Off] >> 4;
  if ((proto === TunnelProto.Ipv4 && v !== 4) || (proto === TunnelProto.Ipv6 && v !== 6)) return DecodeStatus.Malformed;
  out.innerType = v === 4 ? TunnelEtherType.Ipv4 : TunnelEtherType.Ipv6;
  out.innerOff = out.l4Off;
  out.innerEnd = out.ipEnd;
  peeled(out, out.ipVersion === 6 ? EncapKind.Ip6tnl : v === 4 ? EncapKind.Ipip : EncapKind.Sit, -1, true);
  return DecodeStatus.Ok;
}

/** GRE (RFC 2784/2890) at `off`, and the ERSPAN header behind it when there is one. */
export function decodeGre(buf: Buffer, off: number, end: number, out: DecodedPacket): DecodeStatus {
  if (end - off < 4) return DecodeStatus.Truncated;
  const flags = buf.readUInt16BE(off);
  // Version 1 is PPTP's enhanced GRE (PPP inside, control on TCP 1723): not a mirror.
  if ((flags & 7) !== 0) return (flags & 7) === 1 ? DecodeStatus.NotIp : DecodeStatus.Malformed;
  // Source routing was deprecated with RFC 2784; nothing sends it but a crafted frame.
  if ((flags & GRE_R) !== 0) return DecodeStatus.Malformed;
  const type = buf.readUInt16BE(off + 2);
  let p = off + 4;
  if ((flags & GRE_C) !== 0) p += 4;
  let key = -1;
  if ((flags & GRE_K) !== 0) {
    if (end - p < 4) return DecodeStatus.Truncated;
    key = buf.readUInt32BE(p);
    p += 4;
  }
  if ((flags & GRE_S) !== 0) p += 4;
  if (end - p < 0) return DecodeStatus.Truncated;
  out.innerEnd = end;
  switch (type) {
    case TunnelEtherType.Ipv4:
    case TunnelEtherType.Ipv6:
      out.innerType = type;
      out.innerOff = p;
      peeled(out, EncapKind.Gre, key, true);
      return DecodeStatus.Ok;
    case TunnelEtherType.Ethernet:
      out.innerType = TunnelEtherType.Ethernet;
      out.innerOff = p;
      peeled(out, EncapKind.Gretap, key, true);
      return DecodeStatus.Ok;
    case TunnelEtherType.Erspan12: {
      if ((flags & GRE_S) === 0) {
        // Type I has no header of its own: the mirrored frame follows GRE.
        out.innerType = TunnelEtherType.Ethernet;
        out.innerOff = p;
        peeled(out, EncapKind.Erspan1, key, true);
        return DecodeStatus.Ok;
      }
      if (end - p < 8) return DecodeStatus.Truncated;
      if (buf[p] >> 4 !== 1) return DecodeStatus.Malformed;
      // En 1 (ISL) or 2 (802.1Q): the switch took the tag off the copy and put its VLAN here.
      const en = (buf[p + 2] >> 3) & 3;
      if (en === 1 || en === 2) out.innerVlan = buf.readUInt16BE(p) & 0x0fff;
      out.innerType = TunnelEtherType.Ethernet;
      out.innerOff = p + 8;
      peeled(out, EncapKind.Erspan2, buf.readUInt16BE(p + 2) & 0x3ff, true);
      return DecodeStatus.Ok;
    }
    case TunnelEtherType.Erspan3: {
      if (end - p < 12) return DecodeStatus.Truncated;
      if (buf[p] >> 4 !== 2) return DecodeStatus.Malformed;
      const session = buf.readUInt16BE(p + 2) & 0x3ff;
      const w2 = buf.readUInt16BE(p + 10);
      // Frame type: 0 Ethernet, 2 IP without its link header; others (PPP, HDLC…) we leave.
      const ft = (w2 >> 10) & 0x1f;
      let inner = p + 12;
      // O: an 8-byte platform-specific subheader follows.
      if ((w2 & 1) !== 0) inner += 8;
      if (end - inner < 0) return DecodeStatus.Truncated;
      if (ft === 0) out.innerType = TunnelEtherType.Ethernet;
      else if (ft === 2) {
        if (end - inner < 1) return DecodeStatus.Truncated;
        const v = buf[inner] >> 4;
        if (v === 4) out.innerType = TunnelEtherType.Ipv4;
        else if (v === 6) out.innerType = TunnelEtherType.Ipv6;
        else return DecodeStatus.Malformed;
      } else return DecodeStatus.NotIp;
      out.innerOff = inner;
      peeled(out, EncapKind.Erspan3, session, true);
      return DecodeStatus.Ok;
    }
    default:
      return DecodeStatus.NotIp;
  }
}

/**
 * The UDP payload (out.payloadOff, out.payloadLen) as VXLAN or GTP-U, told by port. NotIp when
 * it is GTP-U signalling (echo, error indication, end marker): an ordinary UDP flow then.
 */
export function decodeUdpTunnel(buf: Buffer, out: DecodedPacket): DecodeStatus {
  const off = out.payloadOff;
  const end = off + out.payloadLen;
  if (out.dport === TunnelPort.Vxlan) {
    if (end - off < 8) return DecodeStatus.Truncated;
    // RFC 7348: the I flag says the VNI is valid; without it this is not VXLAN.
    if ((buf[off] & 0x08) === 0) return DecodeStatus.Malformed;
    out.innerType = TunnelEtherType.Ethernet;
    out.innerOff = off + 8;
    out.innerEnd = end;
    peeled(out, EncapKind.Vxlan, buf.readUInt32BE(off + 4) >>> 8, true);
    return DecodeStatus.Ok;
  }
  return decodeGtpU(buf, off, end, out);
}

/** GTP-U (3GPP TS 29.281) at `off`; a G-PDU carries one IP packet. */
export function decodeGtpU(buf: Buffer, off: number, end: number, out: DecodedPacket): DecodeStatus {
  if (end - off < 8) return DecodeStatus.Truncated;
  const b0 = buf[off];
  // Version 1 with PT set; PT 0 is GTP' (charging), which carries no user traffic.
  if (b0 >> 5 !== 1 || (b0 & 0x10) === 0) return DecodeStatus.Malformed;
  if (buf[off + 1] !== GTP_G_PDU) return DecodeStatus.NotIp;
  const len = buf.readUInt16BE(off + 2);
  const teid = buf.readUInt32BE(off + 4);
  const declaredEnd = off + 8 + len;
  const limit = declaredEnd < end ? declaredEnd : end;
  let p = off + 8;
  if ((b0 & 0x07) !== 0) {
    // Any of E, S, PN: sequence number, N-PDU number and next-extension type are all present.
    if (limit - p < 4) return DecodeStatus.Truncated;
    let next = (b0 & 0x04) !== 0 ? buf[p + 3] : 0;
    p += 4;
    for (let i = 0; next !== 0; i++) {
      if (i === MAX_GTP_EXTENSIONS) return DecodeStatus.Malformed;
      if (limit - p < 4) return DecodeStatus.Truncated;
      const extLen = buf[p] * 4;
      if (extLen === 0) return DecodeStatus.Malformed;
      if (limit - p < extLen) return DecodeStatus.Truncated;
      next = buf[p + extLen - 1];
      p += extLen;
    }
  }
  if (limit - p < 1) return DecodeStatus.Truncated;
  const v = buf[p] >> 4;
  if (v === 4) out.innerType = TunnelEtherType.Ipv4;
  else if (v === 6) out.innerType = TunnelEtherType.Ipv6;
  else return DecodeStatus.Malformed;
  out.innerOff = p;
  out.innerEnd = limit;
  peeled(out, EncapKind.GtpU, teid, true);
  return DecodeStatus.Ok;
}
