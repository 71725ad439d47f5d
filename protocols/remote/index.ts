/** The remote-access parsers' public surface, for the agent's analyzer registry. */
export { probeRdp, probeRdpConnectionRequest, probeRfb, probeSsh, probeTeamViewer, probeTelnet } from './probes.js';
export { SshStreamParser, SSH_MAX_BANNER, type SshCounters } from './ssh.js';
export { RdpStreamParser, MAX_TPKT, requestedProtocolNames, selectedProtocolName, type RdpCounters } from './rdp.js';
export { RfbStreamParser, rfbSecurityName, type RfbCounters } from './rfb.js';
export { TelnetStreamParser, telnetOptionName, type TelnetCounters, type TelnetParserOptions } from './telnet.js';
export { TeamViewerStreamParser, teamViewerCommandName, type TeamViewerCounters } from './teamviewer.js';
export {
  remoteAccessFromAlpn,
  remoteAccessFromCertificate,
  remoteAccessFromPort,
  remoteAccessFromTls,
  remoteAccessFromTlsSni,
  REMOTE_ACCESS_TLS_PORTS,
  tlsRemoteAccessRecord,
  type TlsRemoteApp,
  type TlsRemoteFacts,
} from './apps.js';
export { asciiField, SKIP_REST, type RemoteAccessRecord, type RemoteCredentialRecord, type RemoteDetection, type RemoteParserOptions, type RemoteProtocol, type RemoteRecord } from './records.js';
export {
  looksLikeTeamViewerUdp,
  parseRdpUdpSyn,
  probeRdpUdp,
  probeTeamViewerUdp,
  RdpUdpDatagramParser,
  TeamViewerUdpDatagramParser,
  RDPUDP_FLAG_ACK,
  RDPUDP_FLAG_CORRELATION_ID,
  RDPUDP_FLAG_SYN,
  RDPUDP_FLAG_SYNEX,
  RDPUDP_FLAG_SYNLOSSY,
  RDPUDP_MTU_MAX,
  RDPUDP_MTU_MIN,
  TEAMVIEWER_UDP_PORT,
  type RdpUdpSyn,
} from './udp.js';
export {
  AnyDeskDiscoveryDatagramParser,
  ANYDESK_DISCOVERY_MAGIC,
  ANYDESK_DISCOVERY_PORTS,
  parseAnyDeskDiscovery,
  probeAnyDeskDiscovery,
  type AnyDeskDiscovery,
} from './anydesk-discovery.js';
