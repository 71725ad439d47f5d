import { loadPolicy } from '../../rules/policy/index.js';
import { UsageError } from './args.js';

export const POLICY_CHECK_USAGE = `muvakt policy check FILE

  Validates a site policy. Every problem is printed as FILE:LINE:COL: field: what was expected.
  Exit 0 when valid, 2 when not.
`;

export const POLICY_SUGGEST_USAGE = `muvakt policy suggest --db FILE|URL [--site NAME] [--out FILE]

  Drafts a site policy from what the sensor saw: zones from the subnets and VLANs of the devices
  in the store (named as in the policy the store was made with, where it had one) and the roles
  they play, allowed flows from the services one zone used in another, jump hosts and vendors
  from remote-access paths. Each line carries a comment saying what it rests on. It is a draft
  for the network team to edit: check it with "muvakt policy check", compare it with
  "muvakt policy replay". Written to --out (mode 0640) or to stdout.
`;

export const POLICY_REPLAY_USAGE = `muvakt policy replay --policy NEW (--against OLD | --db FILE|URL) <capture>... [--json]

  Says which alerts a policy change would add or remove, before it is deployed: the captures are
  analysed with the NEW policy and compared with the same captures analysed with the OLD one
  (--against), or with the alerts already in a store (--db, e.g. the sensor's own). Alerts are
  matched by rule, client and server address and device, so a renamed zone is not a change.
  Nothing is written to any store. Exit 0 after the comparison, 2 on a usage or policy error.
`;

export const POLICY_USAGE = `${POLICY_CHECK_USAGE}
${POLICY_SUGGEST_USAGE}
${POLICY_REPLAY_USAGE}`;

export function policyCommand(argv: string[]): number | Promise<number> {
  const [sub, file, ...rest] = argv;
  if (sub === 'suggest') return import('./policy-suggest.js').then((m) => m.policySuggestCommand(argv.slice(1)));
  if (sub === 'replay') return import('./policy-replay.js').then((m) => m.policyReplayCommand(argv.slice(1)));
  if (sub === '--help' || sub === '-h' || argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(sub === 'check' ? POLICY_CHECK_USAGE : POLICY_USAGE);
    return 0;
  }
  if (sub !== 'check' || !file || rest.length > 0) throw new UsageError('usage: muvakt policy check FILE | policy suggest --db FILE | policy replay --policy NEW …');
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
