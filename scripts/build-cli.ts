/**
 * Bundles the CLI into one CommonJS file, dist/agent/cli/cli.bundle.cjs, that main.js runs with a
 * code cache (agent/cli/compile-cache.ts). Run by `npm run build`, after tsc, from tsc's output
 * (so the bundle runs exactly the code the modules do).
 *
 * - The npm packages stay in node_modules (native better-sqlite3, pg, fastify…), required where
 *   the code imports them; a command loaded later (`import()`) becomes code initialised when it
 *   is first imported, so `analyze` still never requires the web stack. TypeBox (and Fastify's
 *   TypeBox provider) is bundled: it is published as ES modules only, which CommonJS cannot
 *   require on every Node muvakt supports.
 * - CommonJS, not an ES module: V8 can be given a code cache for a script, not for a module, on
 *   Node 20.
 * - `import.meta.url` becomes the bundle's own URL: it sits in dist/agent/cli/, at the same depth
 *   as every module that looks for files relative to itself (the dashboard page, the worker,
 *   package.json).
 */
import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions, type Plugin } from 'esbuild';

function repoRoot(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  return here.includes('/dist/') ? join(here, '../..') : join(here, '..');
}

export const CLI_BUNDLE = 'dist/agent/cli/cli.bundle.cjs';
/** The installed command: main.js as CommonJS (package.json's bin, the units, the container). */
export const CLI_LAUNCHER = 'dist/agent/cli/muvakt.cjs';
/**
 * Packages bundled rather than required: those published as ES modules only, and node-postgres
 * (pure JavaScript, ~50 ms of loading and compiling on Node 20 when required, which a fleet
 * sensor pays at every start; in the bundle its compiled code comes from the code cache). What
 * node-postgres loads only on request stays out: the native binding and Cloudflare's sockets.
 * yaml (some 60 modules) is built too, into a chunk of its own (CHUNKS below).
 */
const BUNDLED_PACKAGES = ['typebox', '@fastify/type-provider-typebox', 'pg', 'yaml'];
const NEVER_BUNDLED = ['pg-native', 'pg-cloudflare'];

/**
 * node-postgres asks at load whether it runs on Cloudflare Workers; on Node 20, which has no
 * `navigator`, it answers by constructing a fetch `Response`, which loads Node's whole fetch
 * stack (undici, http, http2, zlib, worker_threads, perf_hooks: ~30 ms of a fleet sensor's
 * start). muvakt runs on Node only: in the bundle the answer is no. A node-postgres whose file
 * reads otherwise fails the build, so the change is never silently lost.
 */
const pgOnNodeOnly: Plugin = {
  name: 'pg-on-node-only',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]pg[\\/]lib[\\/]stream\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const call = 'if (isCloudflareRuntime()) {';
      if (!source.includes(call)) throw new Error(`${args.path}: the Cloudflare check is not where the build expects it (node-postgres changed)`);
      return { contents: source.replace(call, 'if (false) {'), loader: 'js' };
    });
  },
};

/**
 * What the bundle and the launcher share: one CommonJS file for Node whose `import.meta.url` is
 * its own URL, ASCII only (esbuild's default, said here because compile-cache.ts reads the
 * bundle as latin1).
 */
const COMMONJS_FOR_NODE = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  charset: 'ascii',
  define: { 'import.meta.url': '__muvaktBundleUrl' },
  banner: { js: '"use strict";\nconst __muvaktBundleUrl = require("node:url").pathToFileURL(__filename).href;' },
  legalComments: 'none',
  logLevel: 'warning',
} as const satisfies BuildOptions;

/**
 * Packages the bundle leaves in files of their own next to it (dist/agent/cli/chunk-*.cjs), each
 * one file: required when a module that imports them is first initialised, so a command that
 * never needs them never reads or compiles them, and one that does reads one file instead of
 * resolving dozens in node_modules (yaml's ~60 modules took ~25 ms to load).
 * - TypeBox's checkers (the compiler, the value checker, the settings both read): over a quarter
 *   of the bundle, needed only where a policy file or an API request is checked. One chunk holds
 *   all three, so the error limit load.ts sets is the one the checkers read.
 * - yaml: the policy file and the API's auth and token configuration.
 */
export const CHUNKS: readonly { file: string; modules: readonly string[] }[] = [
  { file: 'chunk-typebox-check.cjs', modules: ['typebox/compile', 'typebox/system', 'typebox/value'] },
  { file: 'chunk-yaml.cjs', modules: ['yaml'] },
];

const chunksInTheirOwnFiles: Plugin = {
  name: 'chunks-in-their-own-files',
  setup(b) {
    for (const chunk of CHUNKS) {
      const filter = new RegExp(`^(${chunk.modules.map((m) => m.replace(/[/]/g, '\\/')).join('|')})$`);
      b.onResolve({ filter }, () => ({ path: `./${chunk.file}`, external: true }));
    }
  },
};

async function buildChunks(root: string): Promise<void> {
  for (const chunk of CHUNKS) {
    const out = join(root, 'dist/agent/cli', chunk.file);
    await build({
      stdin: { contents: chunk.modules.map((m) => `export * from '${m}';`).join('\n'), resolveDir: root, loader: 'js' },
      outfile: out,
      ...COMMONJS_FOR_NODE,
      minifyWhitespace: true,
      minifySyntax: true,
    });
    assertAscii(out);
  }
}

/** The command modules cli.ts loads (agent/cli/<name>.js). */
const COMMAND_MODULES = ['analyze', 'run', 'policy', 'serve', 'inventory', 'evidence'];
/**
 * Commands that get a bundle of their own, cli-<name>.bundle.cjs (main.ts runs it for that
 * command): the same cli.js without the other commands. `analyze`, the command whose start a
 * user waits for most often, then reads no API, dashboard or daemon code: about a sixth less to
 * read and compile.
 */
export const OWN_BUNDLE_COMMANDS = ['analyze'];

/** cli.js with every command module that `command` does not itself import left empty (never loaded: main.ts runs this bundle for `command` only). */
function onlyCommand(command: string, keep: ReadonlySet<string>): Plugin {
  return {
    name: `only-${command}`,
    setup(b) {
      b.onLoad({ filter: new RegExp(`[\\/]dist[\\/]agent[\\/]cli[\\/](${COMMAND_MODULES.join('|')})\\.js$`) }, (args) =>
        keep.has(args.path) ? undefined : { contents: 'export {};', loader: 'js' },
      );
    },
  };
}

export async function buildCliBundle(root = repoRoot()): Promise<{ file: string; bytes: number }> {
  await buildChunks(root);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const external = [...Object.keys(pkg.dependencies).filter((d) => !BUNDLED_PACKAGES.includes(d)), ...NEVER_BUNDLED];
  const options = {
    ...COMMONJS_FOR_NODE,
    external: [...external, ...external.map((d) => `${d}/*`)],
    minifyWhitespace: true,
    minifySyntax: true,
    metafile: true,
  } satisfies BuildOptions;
  const cliEntry = join(root, 'dist/agent/cli/cli.js');
  const out = join(root, CLI_BUNDLE);
  const result = await build({ ...options, entryPoints: [cliEntry], outfile: out, plugins: [pgOnNodeOnly, chunksInTheirOwnFiles] });
  assertAscii(out);
  for (const command of OWN_BUNDLE_COMMANDS) {
    // What the command's module reaches by itself (another command's module among it stays whole).
    const reach = await build({ ...options, entryPoints: [join(root, `dist/agent/cli/${command}.js`)], write: false, outfile: join(root, 'dist/reach.cjs'), plugins: [pgOnNodeOnly, chunksInTheirOwnFiles] });
    const keep = new Set(Object.keys(reach.metafile.inputs).map((p) => join(root, p)));
    const own = join(root, commandBundle(command));
    await build({ ...options, entryPoints: [cliEntry], outfile: own, plugins: [pgOnNodeOnly, chunksInTheirOwnFiles, onlyCommand(command, keep)] });
    assertAscii(own);
  }
  for (const [name, entry] of Object.entries(WORKER_ENTRIES)) {
    const file = join(root, `dist/agent/cli/${name}.bundle.cjs`);
    await build({ ...options, entryPoints: [join(root, entry)], outfile: file, plugins: [pgOnNodeOnly, chunksInTheirOwnFiles] });
    assertAscii(file);
  }
  // What a worker thread starts its bundle with (agent/sensor/worker-entry.ts).
  await build({ ...COMMONJS_FOR_NODE, entryPoints: [join(root, 'dist/agent/cli/compile-cache.js')], outfile: join(root, COMPILE_CACHE_RUNNER) });
  return { file: out, bytes: result.metafile.outputs[Object.keys(result.metafile.outputs)[0]].bytes };
}

/** The worker threads' bundles (dist/agent/cli/<name>.bundle.cjs), from their modules; agent/sensor/worker-entry.ts starts them. */
const WORKER_ENTRIES = { 'analysis-worker': 'dist/agent/sensor/analysis-worker.js', 'live-worker': 'dist/agent/sensor/worker.js' };
export const COMPILE_CACHE_RUNNER = 'dist/agent/cli/compile-cache.cjs';

/** The bundle main.ts runs for `command`. */
export function commandBundle(command: string): string {
  return OWN_BUNDLE_COMMANDS.includes(command) ? `dist/agent/cli/cli-${command}.bundle.cjs` : CLI_BUNDLE;
}

/**
 * esbuild's `charset: 'ascii'` escapes strings but leaves a regular expression's literal
 * characters as they are; read as latin1, a `×` in a pattern would then never match in the
 * installed command while it does in the tests that load the modules. Fail the build instead.
 */
function assertAscii(file: string): void {
  const text = readFileSync(file);
  const at = text.findIndex((b) => b > 0x7f);
  if (at < 0) return;
  const line = text.subarray(0, at).toString('latin1').split('\n').length;
  throw new Error(`${file}: a non-ASCII byte at line ${line} (write the character as a \\uXXXX escape in the source, e.g. in a regular expression)`);
}

/**
 * main.js and the start-up caches it turns on, as one CommonJS file: a CommonJS entry point
 * spares Node its ES module loader. cli.js (the modules, when there is no bundle) stays an ES
 * module, imported.
 */
export async function buildCliLauncher(root = repoRoot()): Promise<string> {
  const out = join(root, CLI_LAUNCHER);
  await build({
    entryPoints: [join(root, 'dist/agent/cli/main.js')],
    outfile: out,
    ...COMMONJS_FOR_NODE,
    external: ['./cli.js'],
  });
  chmodSync(out, 0o755);
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const r = await buildCliBundle();
  process.stdout.write(`wrote ${r.file} (${Math.round(r.bytes / 1024)} KB)\n`);
  process.stdout.write(`wrote ${await buildCliLauncher()}\n`);
}
