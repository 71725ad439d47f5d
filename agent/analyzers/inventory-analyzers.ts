import { DhcpParser, probeDhcp, type DhcpRecord } from '../../protocols/cleartext/dhcp.js';
import { DnsParser, DnsTcpParser, probeDns, probeDnsTcp, type DnsRecord } from '../../protocols/cleartext/dns.js';
import { Direction } from '../../protocols/stream.js';
import { ProbeVerdict } from '../../protocols/probe.js';
import type { TcpAnalyzerFactory, UdpAnalyzerFactory } from './registry.js';

/** DNS and DHCP: not judged by any rule, but they name devices for the inventory. */
export function dnsAnalyzer(): UdpAnalyzerFactory {
  return {
    app: 'dns',
    encrypted: false,
    probe: (_dir, buf, off, len, port) => probeDns(buf, off, len, port),
    create: (ctx) => new DnsParser((r: DnsRecord) => ctx.emit(r)),
  };
}

/** DNS over TCP (large answers, zone transfers, resolvers that prefer it): the same `dns` events as over UDP. */
export function dnsTcpAnalyzer(): TcpAnalyzerFactory {
  return {
    app: 'dns',
    encrypted: false,
    probe: (dir, buf, off, len) => (dir === Direction.ToServer ? probeDnsTcp(buf, off, len) : ProbeVerdict.No),
    create: (ctx) => new DnsTcpParser((r: DnsRecord) => ctx.emit(r)),
  };
}

export function dhcpAnalyzer(): UdpAnalyzerFactory {
  return {
    app: 'dhcp',
    encrypted: false,
    probe: (_dir, buf, off, len, port) => probeDhcp(buf, off, len, port),
    create: (ctx) => new DhcpParser((r: DhcpRecord) => ctx.emit(r)),
  };
}
