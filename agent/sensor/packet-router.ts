import { decodeInnerEthernet, decodeLink, isSupportedLinkType } from '../../protocols/link/link.js';
import { decodeIpTunnel, decodeUdpTunnel, isTunnelProto, isTunnelUdp, MAX_ENCAP_DEPTH, TunnelEtherType } from '../../protocols/link/tunnel.js';
import { EtherType } from '../../protocols/link/link.js';
import { decodeIpv4 } from '../../protocols/ip/ipv4.js';
import { decodeIpv6 } from '../../protocols/ip/ipv6.js';
import { decodeUdp } from '../../protocols/transport/udp.js';
import { DecodeStatus, DecodedPacket, IpProto } from '../../protocols/packet.js';
import type { PacketRecord } from '../capture/packet-record.js';
import { flowKeyHash, remix } from '../flows/flow-table.js';

/**
 * Which analysis worker a frame goes to: the worker that holds its conversation. The frame is
 * decoded as far as the pipeline would key its flow — through VLAN tags and tunnels to the
 * innermost IP header — and the flow table's own symmetric hash of that key, with the ports left
 * out, picks the worker. Both directions of a flow, the same conversation seen through two
 * mirrors, every flow between two addresses (an FTP control connection and its data connections,
 * a DICOM association and the C-STORE associations it triggers) and every fragment of a datagram
 * meet in one worker. The price is balance: one busy address pair cannot be spread over workers.
 *
 * A fragmented tunnel packet is routed by its outer header, so its inner datagram may be rebuilt
 * in another worker than its flow's other packets (docs/pipeline.md). Frames that make no flow
 * (non-IP, undecodable) go to worker 0; the pipeline only counts those.
 *
 * Allocates nothing.
 */
export class PacketRouter {
  private readonly d = new DecodedPacket();

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
      if (d.isFragment) return this.pick(d);
      const proto = d.l4Proto;
      if (proto === IpProto.Tcp || proto === IpProto.Udp) {
        if (d.l4Off + 4 > d.ipEnd) return 0;
        if (proto === IpProto.Tcp) return this.pick(d);
        d.sport = buf.readUInt16BE(d.l4Off);
        d.dport = buf.readUInt16BE(d.l4Off + 2);
        if (!isTunnelUdp(d.sport, d.dport)) return this.pick(d);
        if (decodeUdp(buf, d) !== DecodeStatus.Ok) return 0;
        status = decodeUdpTunnel(buf, d);
        if (status === DecodeStatus.NotIp) return this.pick(d);
      } else if (isTunnelProto(proto)) {
        status = decodeIpTunnel(buf, d);
        if (status === DecodeStatus.NotIp) return 0;
      } else {
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

  /** The flow hash of the address pair, protocol and VLAN tags: ports are left out. */
  private pick(d: DecodedPacket): number {
    d.sport = d.dport = 0;
    return (remix(flowKeyHash(d)) >>> 0) % this.workers;
  }
}
