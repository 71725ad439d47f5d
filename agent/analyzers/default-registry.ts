import { labelOnlyAnalyzers } from './classifiers.js';
import { tlsAnalyzer } from './tls-analyzer.js';
import { remoteAnalyzers } from './remote-analyzers.js';
import { dicomAnalyzer } from './dicom-analyzer.js';
import type { AnalyzerEnvironment } from './environment.js';
import { hl7Analyzer } from './hl7-analyzer.js';
import { AnalyzerRegistry } from './registry.js';
import { phiFallbackTcp, phiFallbackUdp } from './phi-fallback.js';
import { dhcpAnalyzer, dnsAnalyzer } from './inventory-analyzers.js';

/** The analyzers a sensor runs unless told otherwise, in probe order. */
export function defaultRegistry(env: AnalyzerEnvironment): AnalyzerRegistry {
  const r = new AnalyzerRegistry();
  r.register(dicomAnalyzer(env));
  r.register(hl7Analyzer(env));
  r.register(tlsAnalyzer(env));
  for (const f of remoteAnalyzers(env)) r.register(f);
  for (const f of labelOnlyAnalyzers()) r.register(f);
  r.registerUdp(dnsAnalyzer());
  r.registerUdp(dhcpAnalyzer());
  r.fallbackTcp = phiFallbackTcp(env);
  r.fallbackUdp = phiFallbackUdp(env);
  return r;
}
