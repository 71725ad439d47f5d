/**
 * The commands of `muvakt`, run on import. main.ts starts it: from the one-file bundle that
 * `npm run build` makes of this module and everything it imports, or, without the bundle, as
 * it is.
 */
import { UsageError } from './args.js';
import { ConfigError } from '../errors.js';
import { muvaktVersion } from '../version.js';

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


/** Edit distance, for "did you mean" on a mistyped option. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}

/** Node's "Unknown option '--polcy'" with the command's nearest option, and where to read more. */
function explainUsage(e: UsageError, command: string | undefined, usageText: string | undefined): string {
  const m = /Unknown option '(--[^']+)'/.exec(e.message);
  if (m === null || usageText === undefined) return e.message;
  const options = [...new Set(usageText.match(/--[a-z][a-z0-9-]*/g) ?? [])];
  const best = options.map((o) => [o, distance(m[1], o)] as const).sort((a, b) => a[1] - b[1])[0];
  const hint = best !== undefined && best[1] <= 3 ? ` Did you mean ${best[0]}?` : '';
  return `unknown option ${m[1]} for "muvakt ${command}".${hint}`;
}

let current: { name: string; usage: string } | undefined;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd !== undefined && Object.hasOwn(COMMANDS, cmd)) {
    const command = await COMMANDS[cmd]();
    current = { name: cmd, usage: command.usage };
    return command.run(rest);
  }
  switch (cmd) {
    case '--version':
    case '-V':
    case 'version':
      process.stdout.write(`muvakt ${muvaktVersion()} (node ${process.version})\n`);
      return 0;
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
    if ((e as NodeJS.ErrnoException).code === 'EPIPE') {
      // The reader went away (`| head`): what it wanted it has; end quietly.
      process.exitCode = 0;
    } else if (e instanceof UsageError) {
      const help = current ? `Run "muvakt ${current.name} --help" for its options.` : 'Run "muvakt help" for usage.';
      process.stderr.write(`muvakt: ${explainUsage(e, current?.name, current?.usage)}\n${help}\n`);
      process.exitCode = 2;
    } else if (e instanceof ConfigError) {
      process.stderr.write(`muvakt: ${e.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`muvakt: ${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 1;
    }
  },
);

/**
 * A closed pipe on stdout (`muvakt analyze … --alerts - | head -1`) ends the run quietly. The
 * handler is attached when stdout is first used, not at start: creating process.stdout loads
 * Node's streams (~10 ms), which `analyze` otherwise needs only for its summary, after the
 * capture. A write's error is emitted after the write returns, so the handler is always there.
 */
function onFirstStdoutUse(attach: (stdout: NodeJS.WriteStream) => void): void {
  const own = Object.getOwnPropertyDescriptor(process, 'stdout');
  if (own?.get === undefined || !own.configurable) {
    attach(process.stdout);
    return;
  }
  const getter = own.get;
  Object.defineProperty(process, 'stdout', {
    configurable: true,
    enumerable: own.enumerable,
    get() {
      const stdout = getter.call(process) as NodeJS.WriteStream;
      Object.defineProperty(process, 'stdout', { configurable: true, enumerable: own.enumerable, writable: false, value: stdout });
      attach(stdout);
      return stdout;
    },
  });
}

onFirstStdoutUse((stdout) =>
  stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  }),
);
