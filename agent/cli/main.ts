#!/usr/bin/env -S node --max-semi-space-size=32
import { enableCompileCache } from './compile-cache.js';
import { UsageError } from './args.js';
import { ConfigError } from '../errors.js';

// Before any other module is compiled: later runs reuse V8's code cache where Node has one.
enableCompileCache();

/**
 * Each command is loaded only when it runs: `analyze` never compiles the web stack (Fastify,
 * Swagger, prom-client) or, without a policy, the rules, YAML and SQLite.
 */
interface Command {
  run(argv: string[]): number | Promise<number>;
  usage: string;
}

const COMMANDS: Record<string, () => Promise<Command>> = {
  analyze: () => import('./analyze.js').then((m) => ({ run: m.analyzeCommand, usage: m.ANALYZE_USAGE })),
  run: () => import('./run.js').then((m) => ({ run: m.runCommand, usage: m.RUN_USAGE })),
  policy: () => import('./policy.js').then((m) => ({ run: m.policyCommand, usage: m.POLICY_USAGE })),
  serve: () => import('./serve.js').then((m) => ({ run: (argv: string[]) => m.serveCommand(argv), usage: m.SERVE_USAGE })),
  inventory: () => import('./inventory.js').then((m) => ({ run: m.inventoryCommand, usage: m.INVENTORY_USAGE })),
  evidence: () => import('./evidence.js').then((m) => ({ run: m.evidenceCommand, usage: m.EVIDENCE_USAGE })),
};

async function usage(): Promise<string> {
  const parts = await Promise.all(Object.values(COMMANDS).map((load) => load()));
  return `muvakt — passive sensor for medical-device network segments

${parts.map((p) => p.usage).join('\n')}
Exit codes: 0 ok, 1 runtime failure (e.g. truncated capture), 2 bad arguments or configuration.
`;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd !== undefined && Object.hasOwn(COMMANDS, cmd)) {
    const command = await COMMANDS[cmd]();
    return command.run(rest);
  }
  switch (cmd) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(await usage());
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
    if (e instanceof ConfigError) {
      process.stderr.write(`muvakt: ${e.message}\n${e instanceof UsageError ? 'Run "muvakt help" for usage.\n' : ''}`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`muvakt: ${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 1;
    }
  },
);
