import { probeTls, TlsStreamParser, type TlsHandshakeRecord, type TlsMetricsHooks } from '../../protocols/tls/index.js';
import { remoteAccessFromTls, tlsRemoteAccessRecord } from '../../protocols/remote/apps.js';
import type { AnalyzerEnvironment } from './environment.js';
import type { AnalyzerContext, TcpAnalyzerFactory } from './registry.js';

export interface TlsAnalyzerOptions {
  /** Counter for muvakt_tls_handshakes_total{version} (wired by the API). */
  metrics?: TlsMetricsHooks;
  /** Cap for one buffered handshake message (certificate chains). Default 64 KiB. */
  maxMessageLength?: number;
}

/**
 * TLS on any port, recognised by a ClientHello or ServerHello record. Emits one
 * `tls.handshake` event per connection (version, SNI, ALPN, suite, certificate, weak
 * verdict), then detaches: the encrypted records are never delivered, let alone copied.
 *
 * Labelled `dicom-tls` on a port the site declares as DICOM (LEV 6.4 asks for DICOM to be
 * protected; this is how it looks when it is), `tls` elsewhere.
 */
export function tlsAnalyzer(env: AnalyzerEnvironment, opts: TlsAnalyzerOptions = {}): TcpAnalyzerFactory {
  return {
    app: 'tls',
    encrypted: true,
    probe: (_dir, buf, off, len) => probeTls(buf, off, len),
    create(ctx) {
      if (env.dicomPorts.has(ctx.flow.sport)) ctx.setApp('dicom-tls', true);
      return new TlsStreamParser({
        emit: new TlsHandshakeOut(ctx),
        maxMessageLength: opts.maxMessageLength,
        metrics: opts.metrics,
      });
    },
  };
}

/**
 * The TLS parser for a connection a cleartext protocol upgraded (STARTTLS, STLS, AUTH TLS):
 * the same `tls.handshake` as direct TLS, while the flow keeps the upgraded protocol's label
 * (the cleartext analyzer already marked it encrypted at the server's go-ahead).
 */
export function upgradedTlsParser(ctx: AnalyzerContext, opts: TlsAnalyzerOptions = {}): TlsStreamParser {
  return new TlsStreamParser({
    emit: ctx,
    maxMessageLength: opts.maxMessageLength,
    metrics: opts.metrics,
  });
}

/** Receives a direct TLS connection's handshake: one small object per connection instead of a closure. */
class TlsHandshakeOut {
  constructor(private readonly ctx: AnalyzerContext) {}

  emit(rec: TlsHandshakeRecord): void {
    const ctx = this.ctx;
    // TeamViewer and AnyDesk hide inside TLS: their SNI, AnyDesk's own certificate or ALPN,
    // or the port names them (MU 4.7). The flow is relabelled before the handshake is
    // reported, so every event of the flow carries the one app it ends with.
    const remote = remoteAccessFromTls(rec, ctx.flow.sport);
    if (remote !== null) ctx.setApp(remote.protocol, true);
    ctx.emit(rec);
    if (remote !== null) ctx.emit(tlsRemoteAccessRecord(remote.protocol, remote.detection, rec.ts_sec, rec.ts_nsec));
  }
}
