import { cleartextTcpAnalyzers, cleartextUdpAnalyzers, ftpDataClearAnalyzer, ftpDataTlsAnalyzer } from './cleartext-analyzers.js';
import { dicomAnalyzer } from './dicom-analyzer.js';
import type { AnalyzerEnvironment } from './environment.js';
import { hl7Analyzer } from './hl7-analyzer.js';
import { dhcpAnalyzer, dnsAnalyzer, dnsTcpAnalyzer } from './inventory-analyzers.js';
import { phiFallbackTcp, phiFallbackUdp } from './phi-fallback.js';
import { AnalyzerRegistry } from './registry.js';
import { remoteAnalyzers, remoteUdpAnalyzers } from './remote-analyzers.js';
import { tlsAnalyzer } from './tls-analyzer.js';

/**
 * The analyzers a sensor runs, in probe order. Order matters only where first bytes are
 * ambiguous: FTP and SMTP greetings are probed before Telnet's.
 */
export function defaultRegistry(env: AnalyzerEnvironment): AnalyzerRegistry {
  const r = new AnalyzerRegistry();
  r.register(dicomAnalyzer(env));
  r.register(hl7Analyzer(env));
  r.register(tlsAnalyzer(env));
  for (const f of cleartextTcpAnalyzers(env)) r.register(f);
  for (const f of remoteAnalyzers(env)) r.register(f);
  r.register(dnsTcpAnalyzer());
  for (const f of cleartextUdpAnalyzers(env)) r.registerUdp(f);
  for (const f of remoteUdpAnalyzers(env)) r.registerUdp(f);
  r.registerUdp(dnsAnalyzer());
  r.registerUdp(dhcpAnalyzer());
  r.fallbackTcp = phiFallbackTcp(env);
  r.fallbackUdp = phiFallbackUdp(env);
  r.ftpDataTls = ftpDataTlsAnalyzer();
  r.ftpDataClear = ftpDataClearAnalyzer(env);
  return r;
}
