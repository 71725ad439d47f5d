/**
 * Shared helpers for the remote-access tests: a parser harness collecting records, the
 * corpus' planted secrets (MANIFEST.json), and a registry with the remote analyzers.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dicomAnalyzer } from '../../../agent/analyzers/dicom-analyzer.js';
import { defaultEnvironment } from '../../../agent/analyzers/environment.js';
import { hl7Analyzer } from '../../../agent/analyzers/hl7-analyzer.js';
import { AnalyzerRegistry } from '../../../agent/analyzers/registry.js';
import { remoteAnalyzers } from '../../../agent/analyzers/remote-analyzers.js';
import { ProbeVerdict } from '../../../protocols/probe.js';
import { DETACH } from '../../../protocols/stream.js';
import { probeTls } from '../../../protocols/tls/probe.js';
import type { TcpAnalyzerFactory } from '../../../agent/analyzers/registry.js';
import { createPseudonymizer } from '../../../protocols/phi/pseudonym.js';
import type { RemoteAccessRecord, RemoteCredentialRecord, RemoteParserOptions, RemoteRecord } from '../../../protocols/remote/records.js';
import { TEST_PSEUDONYM_KEY } from '../../support/keys.js';
import { CORPUS } from '../../support/streams.js';

export { CORPUS };
export const pseudonymize = createPseudonymizer(TEST_PSEUDONYM_KEY);

export interface Collected {
  records: RemoteRecord[];
  opts: RemoteParserOptions;
  access(): RemoteAccessRecord[];
  credentials(): RemoteCredentialRecord[];
}

export function collect(): Collected {
  const records: RemoteRecord[] = [];
  return {
    records,
    opts: { emit: (r) => records.push(r), pseudonymize },
    access: () => records.filter((r): r is RemoteAccessRecord => r.type === 'remote_access'),
    credentials: () => records.filter((r): r is RemoteCredentialRecord => r.type === 'credential.cleartext'),
  };
}

interface Manifest {
  identities: { credentials: { user?: string; password: string }[] };
  captures: { file: string; planted_secrets: string[]; expected_findings: string[]; must_not_raise: string[] }[];
}

export const manifest = JSON.parse(readFileSync(join(CORPUS, 'MANIFEST.json'), 'utf8')) as Manifest;

/** Every planted password and username of the corpus. */
export const SECRETS: string[] = (() => {
  const s = new Set<string>();
  for (const c of manifest.captures) for (const p of c.planted_secrets) s.add(p);
  for (const c of manifest.identities.credentials) {
    s.add(c.password);
    if (c.user) s.add(c.user);
  }
  return [...s];
})();

/** Planted secrets found in a serialised output (should be none). */
export function leaks(out: unknown): string[] {
  const text = JSON.stringify(out);
  return SECRETS.filter((s) => text.includes(s));
}

/** TLS streams labelled and left alone, so they compete with the remote probes as in a sensor. */
const tlsLabel: TcpAnalyzerFactory = {
  app: 'tls',
  encrypted: true,
  probe: (_dir, buf, off, len) => (len === 0 ? ProbeVerdict.NeedMore : probeTls(buf, off, len)),
  create: () => ({ data: () => DETACH, gap() {}, end() {} }),
};

/** DICOM, HL7, a TLS label and the remote-access analyzers (independent of the default registry's wiring). */
export function remoteRegistry(): AnalyzerRegistry {
  const env = defaultEnvironment(TEST_PSEUDONYM_KEY);
  const r = new AnalyzerRegistry();
  r.register(dicomAnalyzer(env));
  r.register(hl7Analyzer(env));
  r.register(tlsLabel);
  for (const f of remoteAnalyzers(env)) r.register(f);
  return r;
}
