import * as Type from 'typebox';
import { type Static } from 'typebox';
import { flowEventSchema, oneOf, Strings, type RecordOf } from './common.js';

export const REMOTE_PROTOCOLS = ['rdp', 'vnc', 'ssh', 'teamviewer', 'anydesk', 'telnet'] as const;

/** One per remote-access session (MU 4.7, LEV 10.1). Banners and versions are device facts. */
export const RemoteAccessEventSchema = flowEventSchema('remote_access', 'One per remote-access session (SSH, RDP, VNC, Telnet, TeamViewer, AnyDesk)', {
  protocol: oneOf(REMOTE_PROTOCOLS, 'The remote-access protocol'),
  encrypted: Type.Boolean({ description: 'The session\'s transport is known to be encrypted (an incomplete session is not claimed to be)' }),
  initiator: Type.Literal('client', { description: 'Who opened the session: always the flow\'s client (src)' }),
  transport: Type.Optional(Type.Literal('udp', { description: 'The session runs over UDP (RDP\'s UDP transport MS-RDPEUDP, TeamViewer over UDP, AnyDesk\'s LAN discovery); absent over TCP' })),
  discovery: Type.Optional(Type.Literal(true, { description: 'AnyDesk: a LAN discovery announcement (UDP, 50001–50003 by default), not a session: AnyDesk runs on the announcing host and can be reached; the announcement is cleartext, its host and user names are not reported' })),
  initiator_inferred: Type.Optional(Type.Boolean({ description: 'The capture missed the TCP handshake: the client was inferred' })),
  detection: oneOf(['content', 'sni', 'certificate', 'alpn', 'port'], 'How it was recognised: by its bytes, by TLS SNI, by the TLS certificate it presented (AnyDesk\'s own), by a TLS ALPN protocol named after it, or only by its well-known port'),
  weak: Type.Boolean({ description: 'A weakness of the session itself (cleartext, standard RDP security, VNC auth without TLS, SSH-1 …)' }),
  weak_reason: Type.Optional(Type.String()),
  incomplete: Type.Optional(Type.Boolean({ description: 'The connection ended (or lost bytes) before all facts were seen' })),
  malformed: Type.Optional(Type.Boolean({ description: 'The handshake did not parse' })),
  client_banner: Type.Optional(Type.String({ description: 'SSH identification string / RFB ProtocolVersion' })),
  server_banner: Type.Optional(Type.String()),
  client_software: Type.Optional(Type.String()),
  server_software: Type.Optional(Type.String()),
  client_comments: Type.Optional(Type.String()),
  server_comments: Type.Optional(Type.String()),
  protocol_version: Type.Optional(Type.String({ description: 'SSH "2.0"; RFB "3.8"; RDP over UDP: the RDPUDP version of its SYNEX payload ("1", "2", "3")' })),
  security: Type.Optional(Type.String({ description: 'RDP security class (over UDP: rdpeudp-reliable, TLS inside, or rdpeudp-lossy, DTLS inside), VNC security type, or Telnet none / telnet-encrypt' })),
  requested_protocols: Type.Optional(Strings('RDP: RDP_NEG_REQ requestedProtocols')),
  selected_protocol: Type.Optional(Type.String({ description: 'RDP: RDP_NEG_RSP selectedProtocol' })),
  negotiation_failure: Type.Optional(Type.String({ description: 'RDP: RDP_NEG_FAILURE code name' })),
  routing_token: Type.Optional(Type.Boolean({ description: 'RDP: the cookie carried a routing token instead of a username' })),
  username_pseudonym: Type.Optional(Type.String({ description: 'RDP mstshash cookie as a keyed pseudonym' })),
  security_types: Type.Optional(Strings('VNC: security types the server offered')),
  vencrypt_subtype: Type.Optional(Type.String({ description: 'VNC: VeNCrypt subtype chosen by the client' })),
  auth_result: Type.Optional(oneOf(['ok', 'failed'], 'VNC SecurityResult')),
  options: Type.Optional(Strings('Telnet: options in effect')),
  login_prompt: Type.Optional(Type.Boolean({ description: 'Telnet: the server asked for a login name or password' })),
  login_attempts: Type.Optional(Type.Integer({ description: 'Telnet: passwords typed at a password prompt' })),
  teamviewer_version: Type.Optional(Type.Integer({ description: 'TeamViewer: protocol generation by frame magic' })),
  client_command: Type.Optional(Type.String()),
  server_command: Type.Optional(Type.String()),
});
export type RemoteAccessEvent = Static<typeof RemoteAccessEventSchema>;
export type RemoteAccessRecord = RecordOf<RemoteAccessEvent>;
export type RemoteProtocol = (typeof REMOTE_PROTOCOLS)[number];
