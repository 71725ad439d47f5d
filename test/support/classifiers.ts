import { ProbeVerdict } from '../../protocols/probe.js';
import { DETACH, Direction, type StreamParser } from '../../protocols/stream.js';
import { probeTls } from '../../protocols/tls/probe.js';
import { probeHttp, probeSmb } from '../../protocols/cleartext/probes.js';
import type { TcpAnalyzerFactory } from '../../agent/analyzers/registry.js';

type Probe = (buf: Buffer, off: number, len: number) => ProbeVerdict;

/** A parser for protocols we only label so far: it has nothing to read, so it detaches at once. */
const LABEL_ONLY: StreamParser = {
  data: () => DETACH,
  gap: () => {},
  end: () => {},
};

/**
 * An analyzer that recognises a protocol by content and labels the flow, without parsing it
 * further. The protocol issues replace these with full analyzers under the same app names.
 */
export function labelOnlyAnalyzer(app: string, encrypted: boolean, probe: Probe, dirs: 'both' | 'client' | 'server' = 'both'): TcpAnalyzerFactory {
  return {
    app,
    encrypted,
    probe(dir, buf, off, len) {
      if (dirs === 'client' && dir !== Direction.ToServer) return ProbeVerdict.No;
      if (dirs === 'server' && dir !== Direction.ToClient) return ProbeVerdict.No;
      return probe(buf, off, len);
    },
    create: () => LABEL_ONLY,
  };
}

/**
 * TLS recognised and labelled only (the benchmark's foundation baseline; the real analyzer is
 * tls-analyzer.ts), `dicom-tls` on a port the site declares as DICOM (LEV 6.4 asks for DICOM to
 * be protected; this is how it looks when it is).
 */
export function tlsLabelAnalyzer(dicomPorts: ReadonlySet<number>): TcpAnalyzerFactory {
  return {
    app: 'tls',
    encrypted: true,
    probe: (_dir, buf, off, len) => probeTls(buf, off, len),
    create(ctx) {
      if (dicomPorts.has(ctx.flow.sport)) ctx.setApp('dicom-tls', true);
      return LABEL_ONLY;
    },
  };
}

/** Content-recognised protocols that have no full analyzer yet. */
export function labelOnlyAnalyzers(): TcpAnalyzerFactory[] {
  return [
    labelOnlyAnalyzer('http', false, probeHttp),
    labelOnlyAnalyzer('smb', false, probeSmb),
  ];
}
