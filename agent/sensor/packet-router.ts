import { decodeInnerEthernet, decodeLink, isSupportedLinkType } from '../../protocols/link/link.js';
import { decodeIpTunnel, decodeUdpTunnel, isTunnelProto, isTunnelUdp, MAX_ENCAP_DEPTH, TunnelEtherType } from '../../protocols/link/tunnel.js';
import { EtherType } from '../../protocols/link/link.js';
import { decodeIpv4 } from '../../protocols/ip/ipv4.js';
import { decodeIpv6 } from '../../protocols/ip/ipv6.js';
import { decodeUdp } from '../../protocols/transport/udp.js';
import { DecodeStatus, DecodedPacket, IpProto } from '../../protocols/packet.js';
import type { PacketRecord } from '../capture/packet-record.js';
import { flowKeyHash, remix } from '../flows/flow-table.js';

/** First fragments remembered, so the later fragments of a datagram follow the first. */
const FRAGMENT_ROUTES = 8192;

/**
 * Which analysis worker a frame goes to: the worker that holds its flow. The frame is decoded
 * as far as the pipeline would key its flow — through VLAN tags and tunnels to the innermost IP
 * header and its ports — and the flow table's own symmetric hash of that key picks the worker,
 * so both directions of a flow, and the same conversation seen through two mirrors, meet in one
 * worker.
 *
 * IP fragments: the first fragment carries the ports and is routed like its datagram would be;
 * the later fragments of that datagram (same addresses, protocol and IP id) follow it to the
 * same worker, where they are reassembled. A later fragment seen before its first is routed by
 * the addresses alone, and a fragmented tunnel packet by its outer header: in those two cases
 * the datagram may be rebuilt in another worker than its flow's other packets (docs/pipeline.md).
 * Frames that make no flow (non-IP, undecodable, ICMP) go by their addresses or to worker 0;
 * the pipeline only counts those.
 *
 * Allocates nothing for an unfragmented frame; a fragment costs one string key.
 */
export class PacketRouter {
  private readonly d = new DecodedPacket();
  private readonly fragmentRoutes = new Map<string, number>();

  constructor(readonly workers: number) {}

  route(rec: PacketRecord): number {
    if (!isSupportedLinkType(rec.linkType)) return 0;
    const d = this.d;
    const buf = rec.buf;
    let end = rec.off + rec.capLen;
    let status = decodeLink(rec.linkType, buf, rec.off, end, d);
    if (status !== DecodeStatus.Ok) return 0;
    if (d.encapDepth !== 0) end = d.innerEnd;
    for (;;) {
      d.resetL3();
      status = d.etherType === EtherType.Ipv4 ? decodeIpv4(buf, end, d) : decodeIpv6(buf, end, d);
      if (status !== DecodeStatus.Ok) return 0;
      if (d.isFragment) return this.fragment(buf, d);
      const proto = d.l4Proto;
      if (proto === IpProto.Tcp || proto === IpProto.Udp) {
        if (d.l4Off + 4 > d.ipEnd) return 0;
        d.sport = buf.readUInt16BE(d.l4Off);
        d.dport = buf.readUInt16BE(d.l4Off + 2);
        if (proto === IpProto.Tcp || !isTunnelUdp(d.sport, d.dport)) return this.pick(d);
        if (decodeUdp(buf, d) !== DecodeStatus.Ok) return 0;
        status = decodeUdpTunnel(buf, d);
        if (status === DecodeStatus.NotIp) return this.pick(d);
      } else if (isTunnelProto(proto)) {
        status = decodeIpTunnel(buf, d);
        if (status === DecodeStatus.NotIp) return 0;
      } else {
        d.sport = d.dport = 0;
        return this.pick(d);
      }
      if (status !== DecodeStatus.Ok || d.encapDepth > MAX_ENCAP_DEPTH) return 0;
      end = d.innerEnd;
      if (d.innerType === TunnelEtherType.Ethernet) {
        if (decodeInnerEthernet(buf, d.innerOff, end, d) !== DecodeStatus.Ok) return 0;
        if (d.encapDepth > MAX_ENCAP_DEPTH) return 0;
        end = d.innerEnd;
      } else {
        d.etherType = d.innerType;
        d.ipOff = d.innerOff;
      }
    }
  }

  private pick(d: DecodedPacket): number {
    return (remix(flowKeyHash(d)) >>> 0) % this.workers;
  }

  private fragment(buf: Buffer, d: DecodedPacket): number {
    const key = `${d.src0},${d.src1},${d.src2},${d.src3},${d.dst0},${d.dst1},${d.dst2},${d.dst3},${d.l4Proto},${d.fragId},${d.vlanOuter},${d.vlanInner}`;
    const routes = this.fragmentRoutes;
    if (d.fragOffset === 0) {
      const proto = d.l4Proto;
      if ((proto === IpProto.Tcp || proto === IpProto.Udp) && d.l4Off + 4 <= d.ipEnd) {
        d.sport = buf.readUInt16BE(d.l4Off);
        d.dport = buf.readUInt16BE(d.l4Off + 2);
      } else {
        d.sport = d.dport = 0;
      }
      const w = this.pick(d);
      if (routes.size >= FRAGMENT_ROUTES) {
        const oldest = routes.keys().next().value;
        if (oldest !== undefined) routes.delete(oldest);
      }
      routes.delete(key);
      routes.set(key, w);
      return w;
    }
    const w = routes.get(key);
    if (w !== undefined) return w;
    d.sport = d.dport = 0;
    return this.pick(d);
  }
}
