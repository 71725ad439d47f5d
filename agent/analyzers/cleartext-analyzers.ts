/**
 * The cleartext protocol analyzers: HTTP/1.x, FTP control, SMB session start,
 * SMTP/POP3/IMAP logins and syslog over TCP; SNMP and syslog over UDP. Each is recognised by
 * content on any port; a UDP server port only changes how much content must agree. The
 * parsers live in protocols/cleartext/; here they get the flow's emit, the site's pseudonym
 * key, and (FTP AUTH TLS, STARTTLS) a way to mark the flow encrypted and hand the rest of the
 * connection to the TLS parser (StartTlsStream), which reports the upgraded handshake.
 */
import { ProbeVerdict } from '../../protocols/probe.js';
import { Direction } from '../../protocols/stream.js';
import { FtpStreamParser } from '../../protocols/cleartext/ftp.js';
import { HttpStreamParser, type HttpParserOptions } from '../../protocols/cleartext/http.js';
import { LdapStreamParser, probeLdapStartTls } from '../../protocols/cleartext/ldap.js';
import { MailStreamParser, type MailProtocol } from '../../protocols/cleartext/mail.js';
import { probeFtp, probeHttp, probeImap, probePop3, probeSmb, probeSmtp } from '../../protocols/cleartext/probes.js';
import type { CleartextEmit } from '../../protocols/cleartext/records.js';
import { SmbStreamParser } from '../../protocols/cleartext/smb.js';
import { looksLikeSnmp, parseSnmp, SnmpDatagramParser } from '../../protocols/cleartext/snmp.js';
import { looksLikePri, looksLikeSyslogStream, parseSyslogHeader, SyslogDatagramParser, SyslogStreamParser } from '../../protocols/cleartext/syslog.js';
import { StartTlsStream } from '../../protocols/tls/starttls.js';
import { probeTls } from '../../protocols/tls/probe.js';
import { scannerFor } from './phi-fallback.js';
import type { AnalyzerEnvironment } from './environment.js';
import { upgradedTlsParser } from './tls-analyzer.js';
import type { AnalyzerContext, TcpAnalyzerFactory, UdpAnalyzerFactory } from './registry.js';

export interface CleartextAnalyzerOptions {
  /** HTTP body bytes per connection scanned for fødselsnumre. Default: the environment's phiScanDepth (64 KiB). */
  httpPhiScanDepth?: number;
  /** Syslog message bytes per flow scanned for fødselsnumre. Default: every message whole. */
  syslogPhiScanDepth?: number;
}

/** Records become events as they are. */
function emitter(ctx: AnalyzerContext): CleartextEmit {
  return (rec) => ctx.emit(rec);
}

const verdict = (v: 'no' | 'partial' | 'yes') => (v === 'yes' ? ProbeVerdict.Yes : v === 'partial' ? ProbeVerdict.NeedMore : ProbeVerdict.No);

/**
 * HTTP/1.x requests and responses (request line or status line, either direction). A flow whose
 * exchanges are DICOMweb (QIDO-RS, WADO-RS, STOW-RS) is relabelled `dicomweb`, still unencrypted.
 */
export function httpAnalyzer(env: AnalyzerEnvironment, opts: CleartextAnalyzerOptions = {}): TcpAnalyzerFactory {
  // One options object for every connection (the parser keeps it); the flow's context is each
  // connection's sink: its records become the flow's events, and DICOMweb relabels the flow.
  const parserOpts: HttpParserOptions = { pseudonymize: env.pseudonymize, phiScanDepth: opts.httpPhiScanDepth ?? env.phiScanDepth };
  return {
    app: 'http',
    encrypted: false,
    probe: (_dir, buf, off, len) => probeHttp(buf, off, len),
    create: (ctx) => new HttpStreamParser(parserOpts, ctx),
  };
}

/** FTP control channel: a 220 greeting naming FTP, or an FTP-only first command (USER, AUTH TLS, FEAT…). */
export function ftpAnalyzer(env: AnalyzerEnvironment): TcpAnalyzerFactory {
  return {
    app: 'ftp',
    encrypted: false,
    probe: (dir, buf, off, len) => probeFtp(dir === Direction.ToClient, buf, off, len),
    create: (ctx) =>
      new StartTlsStream(
        new FtpStreamParser({
          emit: emitter(ctx),
          pseudonymize: env.pseudonymize,
          onEncrypted: () => {
            ctx.setApp('ftp', true);
            ctx.expectFtpTlsSession?.();
          },
          onDataChannel: ctx.expectFtpDataEndpoint === undefined ? undefined : (ep) => ctx.expectFtpDataEndpoint!(ep),
        }),
        () => upgradedTlsParser(ctx),
      ),
  };
}

/**
 * An FTP data connection that opens with TLS (AUTH TLS with PROT P): the TLS parser reports its
 * handshake, and the flow is `ftp-data`, encrypted.
 */
export function ftpDataTlsAnalyzer(): TcpAnalyzerFactory {
  return {
    app: 'ftp-data',
    encrypted: true,
    probe: (_dir, buf, off, len) => probeTls(buf, off, len),
    create: (ctx) => {
      const f = ctx.flow;
      // A TLS session's candidate becomes its data connection only now that it opened with TLS.
      if (f.ftpDataCandidate !== null) {
        f.controlFlowId = f.ftpDataCandidate;
        f.ftpDataCandidate = null;
        ctx.setApp('ftp-data', true);
      }
      return upgradedTlsParser(ctx);
    },
  };
}

/**
 * An FTP data connection in the clear: a file as it is, read by the same PHI scanner as any
 * cleartext stream (`phi.observed` with protocol ftp-data).
 */
export function ftpDataClearAnalyzer(env: AnalyzerEnvironment): TcpAnalyzerFactory {
  return {
    app: 'ftp-data',
    encrypted: false,
    // Anything but the first bytes of a TLS record, which decide nothing yet.
    probe: (_dir, buf, off, len) => (probeTls(buf, off, len) === ProbeVerdict.NeedMore ? ProbeVerdict.NeedMore : ProbeVerdict.Yes),
    create: (ctx) => scannerFor(ctx, env),
  };
}

/** SMB1/SMB2/3 over NetBIOS session framing: dialects, SMBv1, NTLMSSP user. */
export function smbAnalyzer(env: AnalyzerEnvironment): TcpAnalyzerFactory {
  return {
    app: 'smb',
    encrypted: false,
    probe: (_dir, buf, off, len) => probeSmb(buf, off, len),
    create: (ctx) => new SmbStreamParser({ emit: emitter(ctx), pseudonymize: env.pseudonymize }),
  };
}

function mailAnalyzer(
  env: AnalyzerEnvironment,
  protocol: MailProtocol,
  probe: (toClient: boolean, buf: Buffer, off: number, len: number) => ProbeVerdict,
): TcpAnalyzerFactory {
  return {
    app: protocol,
    encrypted: false,
    probe: (dir, buf, off, len) => probe(dir === Direction.ToClient, buf, off, len),
    create: (ctx) =>
      new StartTlsStream(new MailStreamParser({ protocol, emit: emitter(ctx), pseudonymize: env.pseudonymize, onEncrypted: () => ctx.setApp(protocol, true) }), () =>
        upgradedTlsParser(ctx),
      ),
  };
}

/** SMTP: a 220 greeting naming SMTP/ESMTP, or EHLO/HELO from the client. */
export function smtpAnalyzer(env: AnalyzerEnvironment): TcpAnalyzerFactory {
  return mailAnalyzer(env, 'smtp', probeSmtp);
}

/** POP3: "+OK" greeting. */
export function pop3Analyzer(env: AnalyzerEnvironment): TcpAnalyzerFactory {
  return mailAnalyzer(env, 'pop3', probePop3);
}

/** IMAP: "* OK" / "* PREAUTH" greeting. */
export function imapAnalyzer(env: AnalyzerEnvironment): TcpAnalyzerFactory {
  return mailAnalyzer(env, 'imap', probeImap);
}

/** LDAP that opens with StartTLS: the flow is `ldap`, and its TLS handshake is read (StartTlsStream). */
export function ldapStartTlsAnalyzer(): TcpAnalyzerFactory {
  return {
    app: 'ldap',
    encrypted: false,
    probe: (dir, buf, off, len) => (dir === Direction.ToServer ? probeLdapStartTls(buf, off, len) : ProbeVerdict.No),
    create: (ctx) => new StartTlsStream(new LdapStreamParser({ onEncrypted: () => ctx.setApp('ldap', true) }), () => upgradedTlsParser(ctx)),
  };
}

/** Syslog over TCP (RFC 6587): the client starts with `<PRI>` or an octet count and `<PRI>`. */
export function syslogTcpAnalyzer(env: AnalyzerEnvironment, opts: CleartextAnalyzerOptions = {}): TcpAnalyzerFactory {
  return {
    app: 'syslog',
    encrypted: false,
    probe: (dir, buf, off, len) => (dir === Direction.ToServer ? verdict(looksLikeSyslogStream(buf, off, len)) : ProbeVerdict.No),
    create: (ctx) => new SyslogStreamParser({ emit: emitter(ctx), pseudonymize: env.pseudonymize, phiScanDepth: opts.syslogPhiScanDepth }),
  };
}

const SNMP_PORTS = new Set([161, 162]);
const SYSLOG_PORTS = new Set([514]);

/**
 * SNMP v1/v2c/v3 over UDP. Content must be a BER SEQUENCE spanning the datagram with version
 * 0, 1 or 3; away from 161/162 the whole message must parse as well.
 */
export function snmpAnalyzer(env: AnalyzerEnvironment): UdpAnalyzerFactory {
  return {
    app: 'snmp',
    encrypted: false,
    probe(_dir, buf, off, len, serverPort) {
      if (!looksLikeSnmp(buf, off, len)) return ProbeVerdict.No;
      if (SNMP_PORTS.has(serverPort)) return ProbeVerdict.Yes;
      const m = parseSnmp(buf, off, len);
      return m.status === 'ok' || m.status === 'encrypted' ? ProbeVerdict.Yes : ProbeVerdict.No;
    },
    create: (ctx) => new SnmpDatagramParser({ emit: emitter(ctx), pseudonymize: env.pseudonymize }),
  };
}

/**
 * Syslog over UDP. Content must start with a valid `<PRI>`; away from 514 the header must
 * also be recognisable (RFC 5424 version, or an RFC 3164 timestamp or tag).
 */
export function syslogUdpAnalyzer(env: AnalyzerEnvironment, opts: CleartextAnalyzerOptions = {}): UdpAnalyzerFactory {
  return {
    app: 'syslog',
    encrypted: false,
    probe(_dir, buf, off, len, serverPort) {
      if (looksLikePri(buf, off, len) !== 'yes') return ProbeVerdict.No;
      if (SYSLOG_PORTS.has(serverPort)) return ProbeVerdict.Yes;
      const h = parseSyslogHeader(buf, off, len);
      return h !== null && (h.format === 'rfc5424' || h.appName !== undefined) ? ProbeVerdict.Yes : ProbeVerdict.No;
    },
    create: (ctx) => new SyslogDatagramParser({ emit: emitter(ctx), pseudonymize: env.pseudonymize, phiScanDepth: opts.syslogPhiScanDepth }),
  };
}

/** All TCP cleartext analyzers, in a sensible probe order. */
export function cleartextTcpAnalyzers(env: AnalyzerEnvironment, opts: CleartextAnalyzerOptions = {}): TcpAnalyzerFactory[] {
  return [httpAnalyzer(env, opts), smbAnalyzer(env), ftpAnalyzer(env), smtpAnalyzer(env), pop3Analyzer(env), imapAnalyzer(env), syslogTcpAnalyzer(env, opts), ldapStartTlsAnalyzer()];
}

/** All UDP cleartext analyzers. */
export function cleartextUdpAnalyzers(env: AnalyzerEnvironment, opts: CleartextAnalyzerOptions = {}): UdpAnalyzerFactory[] {
  return [snmpAnalyzer(env), syslogUdpAnalyzer(env, opts)];
}
