import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_RULES, RuleEngine, type EngineFinding, type RuleEvent } from '../../rules/index.js';
import { CompiledPolicy, parsePolicy } from '../../rules/policy/index.js';
import { analyzeFiles } from './analyze.js';
import { repoRoot } from './repo-root.js';

export const EXAMPLE_POLICY_FILE = join(repoRoot(), 'deploy/policy.example.yaml');

export function examplePolicy(): CompiledPolicy {
  const r = parsePolicy(readFileSync(EXAMPLE_POLICY_FILE, 'utf8'), 'policy.example.yaml');
  if (!r.ok) throw new Error(r.errors.map(String).join('\n'));
  return new CompiledPolicy(r.policy);
}

/** Analyses captures and runs every rule over the events, as `muvakt analyze --policy` does. */
export async function findingsFor(files: string[], policy = examplePolicy()): Promise<EngineFinding[]> {
  const { events, error } = await analyzeFiles(files);
  const out: EngineFinding[] = [];
  const engine = new RuleEngine(policy, ALL_RULES, (f) => out.push(f));
  for (const e of events) engine.evaluate(e as RuleEvent);
  if (error) {
    engine.evaluate({ ts: '2026-01-01T00:00:00.000000Z', type: 'capture.error', source: files[0], reason: error.message } as RuleEvent);
  }
  return out;
}
