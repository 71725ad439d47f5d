/**
 * What the cleartext parsers emit. Field names follow the event contract in docs/events.md
 * (`credential.cleartext`, `phi.observed`) and, for protocol events, Suricata EVE where it has
 * a name for the fact. The agent adds `ts` and `flow` and drops `ts_sec`/`ts_nsec`.
 *
 * Nothing here is a payload value: no password, no username, no message text, no body, no
 * query value, no free-text banner. Usernames and identifiers appear as keyed pseudonyms,
 * secrets as keyed fingerprints.
 */
import type { CredentialFields } from '../credentials.js';

export type WireDirection = 'to_server' | 'to_client';

interface RecordBase {
  ts_sec: number;
  ts_nsec: number;
}

export interface CredentialRecord extends RecordBase, CredentialFields {
  type: 'credential.cleartext';
  /** The server's answer to the login, when it was seen. */
  success?: boolean;
  /** SNMP: `1` or `2c`. */
  snmp_version?: string;
}

export interface CleartextPhiRecord extends RecordBase {
  type: 'phi.observed';
  protocol: string;
  direction: WireDirection;
  /** e.g. ["fodselsnummer"] */
  kinds: string[];
  /** Valid numbers seen, repeats included (as the payload fallback scanner counts). */
  count: number;
  /** Distinct identifiers among them (at most 32 are pseudonymised). */
  distinct: number;
  /** Keyed pseudonyms, never the values. */
  pseudonyms: string[];
  /** Where in the message: body, url, headers, message (syslog), value (SNMP). */
  locations?: string[];
  /** HTTP: the request this belongs to (path without query values). */
  http_method?: string;
  url?: string;
  /** HTTP: content type of the message that carried it. */
  content_type?: string;
}

export interface HttpRecord extends RecordBase {
  type: 'http';
  http_method?: string;
  hostname?: string;
  /** The path, without query string or fragment; valid fødselsnumre in it replaced by `{fnr}`. */
  url?: string;
  /** Names of the query parameters (never their values). */
  query_params?: string[];
  /** Request line version, e.g. HTTP/1.1. */
  http_protocol?: string;
  http_user_agent?: string;
  http_request_content_type?: string;
  /** Request body bytes (declared or counted). */
  request_length?: number;
  status?: number;
  http_content_type?: string;
  /** Response body bytes (declared or counted). */
  length?: number;
  http_server?: string;
  /** Authorization scheme sent (basic, digest, bearer, ntlm, negotiate…). */
  auth_scheme?: string;
  /** HL7 v2 / FHIR content type on the request or the response. */
  health_content?: string;
  /** fødselsnummer kinds found in this exchange (details in phi.observed). */
  phi_kinds?: string[];
  /** The request was not answered (connection ended, or response lost). */
  incomplete?: boolean;
  /** The exchange switched protocol (101, CONNECT tunnel): the rest of the flow was not read. */
  tunnel?: boolean;
}

export interface FtpRecord extends RecordBase {
  type: 'ftp';
  /** Product named in the 220 banner (never the banner text). */
  server_software?: string;
  /** USER anonymous/ftp. */
  anonymous?: boolean;
  /** USER/PASS were sent in cleartext. */
  cleartext_login: boolean;
  /** Result of the last login attempt seen. */
  login?: 'success' | 'failure';
  login_attempts: number;
  /** AUTH TLS/SSL was accepted: the control channel is encrypted from here on. */
  auth_tls: boolean;
}

export interface MailRecord extends RecordBase {
  type: 'smtp' | 'pop3' | 'imap';
  server_software?: string;
  /** STARTTLS/STLS accepted: encrypted from here on. */
  starttls: boolean;
  /** Server advertised STARTTLS/STLS. */
  starttls_offered?: boolean;
  /** AUTH/AUTHENTICATE mechanisms the client used, plus `USER`/`LOGIN` for the plain commands. */
  auth_mechanisms?: string[];
  cleartext_login: boolean;
  login?: 'success' | 'failure';
  /** SMTP: the EHLO/HELO name. */
  helo?: string;
}

export interface SmbRecord extends RecordBase {
  type: 'smb';
  /** Dialects the client offered (SMB1 strings or SMB2 revisions like "3.1.1"). */
  dialects_offered?: string[];
  /** The dialect the server chose. */
  dialect?: string;
  /** The session speaks SMBv1 (server answered in SMB1). */
  smb1: boolean;
  /** The client offered an SMB1 dialect (multi-protocol negotiate). */
  smb1_offered?: boolean;
  signing_required?: boolean;
  /** NTLMSSP AUTHENTICATE user, keyed. */
  username_pseudonym?: string;
  ntlm_domain?: string;
  /** NTLMv1 response (24-byte NT response): crackable. */
  ntlm_v1?: boolean;
  /** Null session (empty user, empty response). */
  anonymous?: boolean;
}

export interface SnmpRecord extends RecordBase {
  type: 'snmp';
  direction: WireDirection;
  /** "1", "2c" or "3". */
  version: string;
  pdu_type?: string;
  error_status?: number;
  varbind_count?: number;
  /** First variable names (dotted OIDs, at most 4, at most 16 arcs each). */
  oids?: string[];
  /** v3 msgFlags: noAuthNoPriv | authNoPriv | authPriv. */
  security_level?: string;
  /** v3 USM user name, keyed. */
  username_pseudonym?: string;
  phi_kinds?: string[];
}

export interface SyslogRecord extends RecordBase {
  type: 'syslog';
  direction: WireDirection;
  format: 'rfc3164' | 'rfc5424';
  facility: number;
  facility_name: string;
  severity: number;
  severity_name: string;
  hostname?: string;
  app_name?: string;
  proc_id?: string;
  msg_id?: string;
  /** fødselsnummer kinds in the message text (details in phi.observed; the text is never reported). */
  phi_kinds?: string[];
}

export type CleartextRecord =
  | CredentialRecord
  | CleartextPhiRecord
  | HttpRecord
  | FtpRecord
  | MailRecord
  | SmbRecord
  | SnmpRecord
  | SyslogRecord;

export type CleartextEmit = (rec: CleartextRecord) => void;

export function wireDirection(dir: number): WireDirection {
  return dir === 0 ? 'to_server' : 'to_client';
}
