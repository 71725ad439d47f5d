#!/usr/bin/env -S node --max-semi-space-size=32
import { analyzeCommand, ANALYZE_USAGE } from './analyze.js';
import { UsageError } from './args.js';
import { runCommand, RUN_USAGE } from './run.js';
import { policyCommand, POLICY_USAGE } from './policy.js';
import { serveCommand, SERVE_USAGE } from './serve.js';
import { inventoryCommand, INVENTORY_USAGE } from './inventory.js';
import { evidenceCommand, EVIDENCE_USAGE } from './evidence.js';

const USAGE = `muvakt — passive sensor for medical-device network segments

${ANALYZE_USAGE}
${RUN_USAGE}
${POLICY_USAGE}
${SERVE_USAGE}
${INVENTORY_USAGE}
${EVIDENCE_USAGE}
Exit codes: 0 ok, 1 runtime failure (e.g. truncated capture), 2 bad arguments or configuration.
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'analyze':
      return analyzeCommand(rest);
    case 'run':
      return runCommand(rest);
    case 'policy':
      return policyCommand(rest);
    case 'serve':
      return serveCommand(rest);
    case 'inventory':
      return inventoryCommand(rest);
    case 'evidence':
      return evidenceCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return cmd === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command "${cmd}"`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError) {
      process.stderr.write(`muvakt: ${e.message}\nRun "muvakt help" for usage.\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`muvakt: ${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 1;
    }
  },
);
