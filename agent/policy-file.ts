import { CompiledPolicy, loadPolicy, type Policy } from '../rules/policy/index.js';
import { ConfigError } from './errors.js';

/** A policy file that does not validate; `problems` are its located errors (FILE:LINE:COL: field: …). */
export class PolicyFileError extends ConfigError {
  constructor(readonly problems: string[]) {
    super(`invalid policy:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'PolicyFileError';
  }
}

/**
 * The one way the process reads a site policy (analyze, run, the live worker, serve and its
 * reload): the policy, or a PolicyFileError listing every problem.
 */
export function readPolicyFile(file: string): Policy {
  const r = loadPolicy(file);
  if (!r.ok) throw new PolicyFileError(r.errors.map((e) => e.toString()));
  return r.policy;
}

/** The policy compiled for the rules, the inventory's zones and the analyzers' port hints. */
export function compilePolicyFile(file: string): CompiledPolicy {
  return new CompiledPolicy(readPolicyFile(file));
}
