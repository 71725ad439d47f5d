import * as Type from 'typebox';
import { type Static } from 'typebox';
import { closed, flowEventSchema, oneOf, Strings, WireDirectionSchema, type RecordOf } from './common.js';

/**
 * Cleartext protocols. Field names follow Suricata EVE where it has a name for the fact.
 * Nothing here is a payload value: no password, username, message text, body, query value
 * or free-text banner.
 */

export const HttpEventSchema = flowEventSchema('http', 'One per HTTP/1.x request–response exchange', {
  http_method: Type.Optional(Type.String()),
  hostname: Type.Optional(Type.String({ description: 'Host header' })),
  url: Type.Optional(Type.String({ description: 'The path, without query string or fragment; identity numbers replaced by {fnr}' })),
  query_params: Type.Optional(Strings('Names of the query parameters (never their values)')),
  http_protocol: Type.Optional(Type.String({ description: 'e.g. HTTP/1.1' })),
  http_user_agent: Type.Optional(Type.String()),
  http_request_content_type: Type.Optional(Type.String()),
  request_length: Type.Optional(Type.Integer({ description: 'Request body bytes (declared or counted)' })),
  status: Type.Optional(Type.Integer()),
  http_content_type: Type.Optional(Type.String({ description: 'Response content type' })),
  length: Type.Optional(Type.Integer({ description: 'Response body bytes (declared or counted)' })),
  http_server: Type.Optional(Type.String({ description: 'Server header' })),
  auth_scheme: Type.Optional(Type.String({ description: 'Authorization scheme sent (basic, digest, bearer, ntlm, negotiate …)' })),
  health_content: Type.Optional(Type.String({ description: 'HL7 v2 / FHIR content type on the request or the response' })),
  phi_kinds: Type.Optional(Strings('Identity-number kinds found in this exchange (details in phi.observed)')),
  incomplete: Type.Optional(Type.Boolean({ description: 'The request was not answered' })),
  tunnel: Type.Optional(Type.Boolean({ description: 'The exchange switched protocol (101, CONNECT): the rest of the flow was not read' })),
});
export type HttpEvent = Static<typeof HttpEventSchema>;

const login = Type.Optional(oneOf(['success', 'failure'], 'Result of the last login attempt seen'));

export const FtpEventSchema = flowEventSchema('ftp', 'One per FTP control connection, at its login (or its end). The data connections it announces (PORT, EPRT, PASV, EPSV) are flows of app ftp-data whose flow.control_flow_id is this flow\'s id; after AUTH TLS they are TLS connections between the same hosts', {
  server_software: Type.Optional(Type.String({ description: 'Product named in the 220 banner (never the banner text)' })),
  anonymous: Type.Optional(Type.Boolean({ description: 'USER anonymous/ftp' })),
  cleartext_login: Type.Boolean({ description: 'USER/PASS were sent in cleartext' }),
  login,
  login_attempts: Type.Integer(),
  auth_tls: Type.Boolean({ description: 'AUTH TLS/SSL was accepted: the control channel is encrypted from there on' }),
});
export type FtpEvent = Static<typeof FtpEventSchema>;

const mailFields = {
  server_software: Type.Optional(Type.String({ description: 'Product named in the greeting' })),
  starttls: Type.Boolean({ description: 'STARTTLS/STLS accepted: encrypted from there on' }),
  starttls_offered: Type.Optional(Type.Boolean({ description: 'The server advertised STARTTLS/STLS' })),
  auth_mechanisms: Type.Optional(Strings('AUTH mechanisms the client used, plus USER/LOGIN for the plain commands')),
  cleartext_login: Type.Boolean(),
  login,
  helo: Type.Optional(Type.String({ description: 'SMTP: the EHLO/HELO name' })),
};
export const SmtpEventSchema = flowEventSchema('smtp', 'One per SMTP session', mailFields);
export const Pop3EventSchema = flowEventSchema('pop3', 'One per POP3 session', mailFields);
export const ImapEventSchema = flowEventSchema('imap', 'One per IMAP session', mailFields);
export type SmtpEvent = Static<typeof SmtpEventSchema>;
export type Pop3Event = Static<typeof Pop3EventSchema>;
export type ImapEvent = Static<typeof ImapEventSchema>;

export const SmbEventSchema = flowEventSchema('smb', 'One per SMB session start', {
  dialects_offered: Type.Optional(Strings('Dialects the client offered (SMB1 strings or SMB2 revisions like 3.1.1)')),
  dialect: Type.Optional(Type.String({ description: 'The dialect the server chose' })),
  smb1: Type.Boolean({ description: 'The session speaks SMBv1' }),
  smb1_offered: Type.Optional(Type.Boolean({ description: 'The client offered an SMB1 dialect' })),
  signing_required: Type.Optional(Type.Boolean()),
  username_pseudonym: Type.Optional(Type.String({ description: 'NTLMSSP user, keyed: of the login the server accepted, or of the last one tried when none was' })),
  ntlm_domain: Type.Optional(Type.String()),
  ntlm_v1: Type.Optional(Type.Boolean({ description: 'NTLMv1 response: crackable (in any login tried on the connection)' })),
  anonymous: Type.Optional(Type.Boolean({ description: 'Null session: the login the server accepted, or the last one tried, had no user and no response' })),
  server_os_version: Type.Optional(Type.String({ description: 'Windows version major.minor.build from the NTLMSSP CHALLENGE VERSION field (the server); absent for build 0, which no Windows release has (Samba sends 6.1.0)' })),
  client_os_version: Type.Optional(Type.String({ description: 'Windows version major.minor.build from the NTLMSSP AUTHENTICATE VERSION field (the client); absent for build 0, which no Windows release has (Samba sends 6.1.0)' })),
});
export type SmbEvent = Static<typeof SmbEventSchema>;

export const SnmpEventSchema = flowEventSchema('snmp', 'One per SNMP message', {
  direction: WireDirectionSchema,
  version: Type.String({ description: '1, 2c or 3' }),
  pdu_type: Type.Optional(Type.String()),
  error_status: Type.Optional(Type.Integer()),
  varbind_count: Type.Optional(Type.Integer()),
  oids: Type.Optional(Strings('First variable names (dotted OIDs, at most 4)')),
  security_level: Type.Optional(Type.String({ description: 'v3: noAuthNoPriv, authNoPriv or authPriv' })),
  username_pseudonym: Type.Optional(Type.String({ description: 'v3 USM user name, keyed' })),
  phi_kinds: Type.Optional(Strings('Identity-number kinds in the values (details in phi.observed)')),
});
export type SnmpEvent = Static<typeof SnmpEventSchema>;

export const SyslogEventSchema = flowEventSchema('syslog', 'One per syslog message (the text is never reported)', {
  direction: WireDirectionSchema,
  format: oneOf(['rfc3164', 'rfc5424'], 'Header format'),
  facility: Type.Integer(),
  facility_name: Type.String(),
  severity: Type.Integer(),
  severity_name: Type.String(),
  hostname: Type.Optional(Type.String()),
  app_name: Type.Optional(Type.String()),
  proc_id: Type.Optional(Type.String()),
  msg_id: Type.Optional(Type.String()),
  phi_kinds: Type.Optional(Strings('Identity-number kinds in the message text (details in phi.observed)')),
});
export type SyslogEvent = Static<typeof SyslogEventSchema>;

export const DnsAnswerSchema = closed(
  { rrname: Type.String(), rrtype: Type.String(), rdata: Type.String(), ttl: Type.Integer() },
  'An answer record',
);

export const DnsEventSchema = flowEventSchema('dns', 'A DNS query or response, reduced to the names an address answers to', {
  dns_type: oneOf(['query', 'response'], 'Query or response'),
  id: Type.Integer(),
  rrname: Type.String({ description: 'The question\'s name' }),
  rrtype: Type.String({ description: 'The question\'s type (A, AAAA, PTR …)' }),
  rcode: Type.Optional(Type.String()),
  answers: Type.Optional(Type.Array(DnsAnswerSchema)),
});
export type DnsEvent = Static<typeof DnsEventSchema>;

export const DhcpEventSchema = flowEventSchema('dhcp', 'A DHCP message: what a device says about itself', {
  dhcp_type: Type.String({ description: 'discover, offer, request, ack, nak, release, inform, decline, or bootp' }),
  client_mac: Type.String(),
  hostname: Type.Optional(Type.String({ description: 'Option 12' })),
  vendor_class: Type.Optional(Type.String({ description: 'Option 60' })),
  requested_ip: Type.Optional(Type.String({ description: 'Option 50' })),
  assigned_ip: Type.Optional(Type.String({ description: 'yiaddr' })),
  params: Type.Optional(Type.Array(Type.Integer(), { description: 'Option 55: parameters requested' })),
});
export type DhcpEvent = Static<typeof DhcpEventSchema>;

export type HttpRecord = RecordOf<HttpEvent>;
export type FtpRecord = RecordOf<FtpEvent>;
export type MailRecord = RecordOf<SmtpEvent> | RecordOf<Pop3Event> | RecordOf<ImapEvent>;
export type SmbRecord = RecordOf<SmbEvent>;
export type SnmpRecord = RecordOf<SnmpEvent>;
export type SyslogRecord = RecordOf<SyslogEvent>;
export type DnsRecord = RecordOf<DnsEvent>;
export type DhcpRecord = RecordOf<DhcpEvent>;
