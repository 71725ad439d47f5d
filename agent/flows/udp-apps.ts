/**
 * The label a UDP flow starts with, from its well-known port (the UDP analyzers read the
 * datagrams by content). A label here is a hint, not a finding: rules that depend
 * on a protocol wait for its analyzer.
 */
const UDP_APPS = new Map<number, string>([
  [53, 'dns'],
  [67, 'dhcp'],
  [68, 'dhcp'],
  [69, 'tftp'],
  [123, 'ntp'],
  [137, 'netbios'],
  [138, 'netbios'],
  [161, 'snmp'],
  [162, 'snmp'],
  [514, 'syslog'],
  [546, 'dhcpv6'],
  [547, 'dhcpv6'],
  [1900, 'ssdp'],
  [3478, 'stun'],
  [5060, 'sip'],
  [5353, 'mdns'],
  [6514, 'syslog'],
]);

export function udpAppForPorts(clientPort: number, serverPort: number): string {
  return UDP_APPS.get(serverPort) ?? UDP_APPS.get(clientPort) ?? 'unknown';
}
