import { loadPolicy } from '../../rules/policy/index.js';
import { UsageError } from './args.js';

export const POLICY_USAGE = `muvakt policy check FILE

  Validates a site policy. Every problem is printed as FILE:LINE:COL: field: what was expected.
  Exit 0 when valid, 2 when not.
`;

export function policyCommand(argv: string[]): number {
  const [sub, file, ...rest] = argv;
  if (sub === '--help' || sub === '-h' || argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(POLICY_USAGE);
    return 0;
  }
  if (sub !== 'check' || !file || rest.length > 0) throw new UsageError('usage: muvakt policy check FILE');
  const r = loadPolicy(file);
  if (!r.ok) {
    for (const e of r.errors) process.stderr.write(`${e.toString()}\n`);
    process.stderr.write(`${file}: ${r.errors.length} problem${r.errors.length === 1 ? '' : 's'}\n`);
    return 2;
  }
  const p = r.policy;
  process.stdout.write(`${file}: valid — site "${p.site}", ${p.zones.length} zones, ${p.allowed_flows?.length ?? 0} allowed flows\n`);
  return 0;
}
