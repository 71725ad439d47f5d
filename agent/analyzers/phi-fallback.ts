import { ProbeVerdict } from '../../protocols/probe.js';
import { PayloadPhiScanner, type PayloadPhiRecord } from '../../protocols/phi/payload-scanner.js';
import type { AnalyzerEnvironment } from './environment.js';
import type { AnalyzerContext, TcpAnalyzerFactory, UdpAnalyzerFactory } from './registry.js';
import { protoName } from '../events/format.js';

export function scannerFor(ctx: AnalyzerContext, env: AnalyzerEnvironment): PayloadPhiScanner {
  const f = ctx.flow;
  return new PayloadPhiScanner({
    // The protocol is what the flow is known as: a port label (syslog) or just tcp/udp.
    protocol: f.app !== 'unknown' ? f.app : protoName(f.proto),
    pseudonymize: env.pseudonymize,
    depth: env.phiScanDepth,
    emit: (rec: PayloadPhiRecord) => ctx.emit(rec),
  });
}

/**
 * Cleartext streams and datagrams no analyzer claimed are still scanned for national identity
 * numbers up to a depth per flow: patient data in technical logs and vendor call-home traffic
 * (MU annex #16, #17) travels in protocols nobody decodes.
 */
export function phiFallbackTcp(env: AnalyzerEnvironment): TcpAnalyzerFactory {
  return { app: 'unknown', encrypted: false, probe: () => ProbeVerdict.No, create: (ctx) => scannerFor(ctx, env) };
}

export function phiFallbackUdp(env: AnalyzerEnvironment): UdpAnalyzerFactory {
  return { app: 'unknown', encrypted: false, probe: () => ProbeVerdict.No, create: (ctx) => scannerFor(ctx, env) };
}
