import { DhcpParser, probeDhcp, type DhcpRecord } from '../../protocols/cleartext/dhcp.js';
import { DnsParser, probeDns, type DnsRecord } from '../../protocols/cleartext/dns.js';
import type { UdpAnalyzerFactory } from './registry.js';

/** DNS and DHCP: not judged by any rule, but they name devices for the inventory. */
export function dnsAnalyzer(): UdpAnalyzerFactory {
  return {
    app: 'dns',
    encrypted: false,
    probe: (_dir, buf, off, len, port) => probeDns(buf, off, len, port),
    create: (ctx) => new DnsParser((r: DnsRecord) => ctx.emit(r)),
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
