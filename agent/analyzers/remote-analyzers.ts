/**
 * Remote-access analyzers (MU 4.7, LEV 10.1; GUIDE-MAP G7, G8, G13): SSH, RDP, VNC, Telnet
 * and TeamViewer, each recognised by content on any port; RDP and TeamViewer over UDP too, and
 * AnyDesk's LAN discovery announcement. Each labels its flow, emits exactly
 * one `remote_access` event per session — `initiator` is always `client`, the flow's `src` —
 * and `credential.cleartext` where a credential crosses the wire in the clear (Telnet login,
 * VNC Authentication, VeNCrypt Plain). The flow's `encrypted` flag follows what the session
 * actually negotiated (RDP standard security or VNC without TLS turn it off).
 *
 * AnyDesk's sessions (and TeamViewer over TLS) run inside TLS: the TLS analyzer recognises them with
 * `remoteAccessFromTls(sni, serverPort)` / `remoteAccessFromTlsSni(sni)` from here.
 */
import {
  AnyDeskDiscoveryDatagramParser,
  probeAnyDeskDiscovery,
  probeRdpConnectionRequest,
  probeRfb,
  probeSsh,
  probeRdpUdp,
  probeTeamViewer,
  probeTeamViewerUdp,
  probeTelnet,
  RdpUdpDatagramParser,
  TeamViewerUdpDatagramParser,
  RdpStreamParser,
  RfbStreamParser,
  SshStreamParser,
  TeamViewerStreamParser,
  TelnetStreamParser,
  type RemoteParserOptions,
  type RemoteRecord,
} from '../../protocols/remote/index.js';
import { ProbeVerdict } from '../../protocols/probe.js';
import { Direction, type StreamParser } from '../../protocols/stream.js';
import { StartTlsStream } from '../../protocols/tls/starttls.js';
import type { AnalyzerEnvironment } from './environment.js';
import { upgradedTlsParser } from './tls-analyzer.js';
import type { AnalyzerContext, TcpAnalyzerFactory, UdpAnalyzerFactory } from './registry.js';

export {
  remoteAccessFromPort,
  remoteAccessFromTls,
  remoteAccessFromTlsSni,
  REMOTE_ACCESS_TLS_PORTS,
  tlsRemoteAccessRecord,
  type TlsRemoteApp,
} from '../../protocols/remote/index.js';

/** Parser options that route records to the flow's events, relabelling it with the verdict. */
function options(env: AnalyzerEnvironment, ctx: AnalyzerContext, app: string): RemoteParserOptions {
  return {
    pseudonymize: env.pseudonymize,
    emit: (rec: RemoteRecord) => {
      if (rec.type === 'remote_access') {
        ctx.setApp(app, rec.encrypted);
        if (!ctx.flow.roleBySyn) rec.initiator_inferred = true;
      }
      ctx.emit(rec);
    },
  };
}

function factory(
  app: string,
  encrypted: boolean,
  probe: (dir: Direction, buf: Buffer, off: number, len: number) => ProbeVerdict,
  make: (opts: RemoteParserOptions, ctx: AnalyzerContext) => StreamParser,
  env: AnalyzerEnvironment,
): TcpAnalyzerFactory {
  return { app, encrypted, probe, create: (ctx) => make(options(env, ctx, app), ctx) };
}

/** SSH: the identification string, from either side. */
export function sshAnalyzer(env: AnalyzerEnvironment): TcpAnalyzerFactory {
  return factory('ssh', true, (_dir, buf, off, len) => probeSsh(buf, off, len), (o) => new SshStreamParser(o), env);
}

/** RDP: the client's X.224 Connection Request (with a cookie or RDP_NEG_REQ). */
export function rdpAnalyzer(env: AnalyzerEnvironment): TcpAnalyzerFactory {
  return factory(
    'rdp',
    false,
    (dir, buf, off, len) => (dir === Direction.ToServer ? probeRdpConnectionRequest(buf, off, len) : ProbeVerdict.No),
    (o, ctx) => new StartTlsStream(new RdpStreamParser(o), () => upgradedTlsParser(ctx)),
    env,
  );
}

/** VNC: the server's "RFB xxx.yyy\n" (the server speaks first). */
export function vncAnalyzer(env: AnalyzerEnvironment): TcpAnalyzerFactory {
  return factory(
    'vnc',
    false,
    (dir, buf, off, len) => (dir === Direction.ToClient ? probeRfb(buf, off, len) : ProbeVerdict.No),
    (o) => new RfbStreamParser(o),
    env,
  );
}

/**
 * Telnet has no client greeting: the server's first bytes are option negotiation
 * (IAC DO/WILL …). A client that opens with two negotiations in a row is accepted too.
 * A server that negotiates nothing and only prints `login:` is not recognised: that text
 * alone is no signature.
 */
export function telnetAnalyzer(env: AnalyzerEnvironment): TcpAnalyzerFactory {
  return factory(
    'telnet',
    false,
    (dir, buf, off, len) => probeTelnet(buf, off, len, dir === Direction.ToClient ? 1 : 2),
    (o) => new TelnetStreamParser(o),
    env,
  );
}

/** TeamViewer: frame magic 0x17 0x24 / 0x11 0x30 and a command code, from either side. */
export function teamViewerAnalyzer(env: AnalyzerEnvironment): TcpAnalyzerFactory {
  return factory('teamviewer', true, (_dir, buf, off, len) => probeTeamViewer(buf, off, len), (o) => new TeamViewerStreamParser(o), env);
}

/** All of them, in probe order (content signatures are disjoint, so order is only cost). */
export function remoteAnalyzers(env: AnalyzerEnvironment): TcpAnalyzerFactory[] {
  return [sshAnalyzer(env), rdpAnalyzer(env), vncAnalyzer(env), telnetAnalyzer(env), teamViewerAnalyzer(env)];
}

/**
 * RDP's UDP transport (MS-RDPEUDP), by its SYN / SYN+ACK layout on any port. The flow becomes
 * `rdp`, as over TCP, so the remote-access rules judge it alike.
 */
export function rdpUdpAnalyzer(env: AnalyzerEnvironment): UdpAnalyzerFactory {
  return {
    app: 'rdp',
    encrypted: true,
    probe: (dir, buf, off, len) => probeRdpUdp(dir, buf, off, len),
    create: (ctx) => new RdpUdpDatagramParser(options(env, ctx, 'rdp')),
  };
}

/** TeamViewer over UDP: its datagram header, with 5938 as one of the ports. */
export function teamViewerUdpAnalyzer(env: AnalyzerEnvironment): UdpAnalyzerFactory {
  return {
    app: 'teamviewer',
    encrypted: true,
    probe: (_dir, buf, off, len, serverPort, clientPort) => probeTeamViewerUdp(buf, off, len, serverPort, clientPort),
    create: (ctx) => new TeamViewerUdpDatagramParser(options(env, ctx, 'teamviewer')),
  };
}

/**
 * AnyDesk's LAN discovery: the announcement's chain of fields, and the port it names being one of
 * the flow's. The flow becomes `anydesk`, as AnyDesk over TLS does, so the remote-access rules
 * judge it alike; the datagram is cleartext, so it is not encrypted.
 */
export function anyDeskDiscoveryAnalyzer(env: AnalyzerEnvironment): UdpAnalyzerFactory {
  return {
    app: 'anydesk',
    encrypted: false,
    probe: (_dir, buf, off, len, serverPort, clientPort) => probeAnyDeskDiscovery(buf, off, len, serverPort, clientPort),
    create: (ctx) => new AnyDeskDiscoveryDatagramParser(options(env, ctx, 'anydesk')),
  };
}

/** The UDP forms of remote access. */
export function remoteUdpAnalyzers(env: AnalyzerEnvironment): UdpAnalyzerFactory[] {
  return [rdpUdpAnalyzer(env), teamViewerUdpAnalyzer(env), anyDeskDiscoveryAnalyzer(env)];
}
