import { defaultRegistry } from './analyzers/default-registry.js';
import { defaultEnvironment, type AnalyzerEnvironment } from './analyzers/environment.js';
import type { AnalyzerRegistry } from './analyzers/registry.js';
import { policyFromFile } from './alerts.js';
import { loadPseudonymKey } from './pseudonym-key.js';
import type { CompiledPolicy } from '../rules/policy/index.js';

export interface Analysis {
  policy: CompiledPolicy | null;
  env: AnalyzerEnvironment;
  registry: AnalyzerRegistry;
  ephemeralKey: boolean;
}

/**
 * What `analyze` and `run` share: the policy (if any) tunes the analyzers — its HL7 ACK timeout,
 * the ports it declares for DICOM and HL7 (probed first there, and DICOM-over-TLS labelled), and
 * its pseudonym key unless one is given on the command line.
 */
export function prepareAnalysis(opts: { policyFile?: string; pseudonymKeyFile?: string }): Analysis {
  const policy = opts.policyFile ? policyFromFile(opts.policyFile) : null;
  const keyFile = opts.pseudonymKeyFile ?? policy?.policy.pseudonym_key_file;
  const { key, ephemeral } = loadPseudonymKey(keyFile);
  const env = defaultEnvironment(key);
  if (policy) {
    env.hl7AckTimeoutSec = policy.hl7AckTimeoutSec;
    env.dicomPorts = policy.dicomPorts;
  }
  const registry = defaultRegistry(env);
  if (policy) {
    const portApps = new Map<number, string>();
    for (const p of policy.hl7Ports) portApps.set(p, 'hl7');
    for (const p of policy.dicomPorts) portApps.set(p, 'dicom');
    registry.setHints({ portApps });
  }
  return { policy, env, registry, ephemeralKey: ephemeral };
}
