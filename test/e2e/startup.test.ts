import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import module from 'node:module';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../agent/store/index.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/agent/cli/main.js');
/** The same commands as modules, unbundled (tsc's output): which of our modules a command loads shows here. */
const CLI_MODULES = join(ROOT, 'dist/agent/cli/cli.js');
const RECORD = join(ROOT, 'test/support/record-modules.mjs');
const CORPUS = join(ROOT, 'fixtures/corpus');
const POLICY = join(ROOT, 'deploy/policy.example.yaml');
const tmp = mkdtempSync(join(tmpdir(), 'muvakt-startup-'));

/** The web stack and what only serving needs: `analyze` must load none of it. */
const SERVING_ONLY = ['fastify', 'avvio', 'find-my-way', '@fastify/swagger', '@fastify/swagger-ui', '@fastify/rate-limit', 'prom-client', '@opentelemetry/api', 'pino'];

let runs = 0;
/** Runs the CLI and returns the npm packages and our dist/ modules it loaded. */
function loaded(args: string[], entry = CLI): { code: number | null; stderr: string; packages: Set<string>; ours: Set<string> } {
  const file = join(tmp, `modules-${runs++}.txt`);
  const r = spawnSync(process.execPath, ['--import', RECORD, entry, ...args], { encoding: 'utf8', env: { ...process.env, MUVAKT_RECORD_MODULES: file } });
  const packages = new Set<string>();
  const ours = new Set<string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(line);
    if (pkg) packages.add(pkg[1]);
    else if (line.includes('/dist/')) ours.add(line.slice(line.indexOf('/dist/') + 6));
  }
  return { code: r.status, stderr: r.stderr, packages, ours };
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error('dist/ is missing: run "npm run build" (npm test does)');
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('start-up: each command loads what it needs', () => {
  it('muvakt runs the one-file bundle; the recorder sees packages and our modules (help loads every command, the web stack included)', () => {
    const bundled = loaded(['help']);
    expect(bundled.code).toBe(0);
    // The bundle is compiled as a script, not required: of our files only its starter loads as modules.
    expect([...bundled.ours].sort()).toEqual(['agent/cli/compile-cache.js', 'agent/cli/main.js']);
    const modules = loaded(['help'], CLI_MODULES);
    expect(modules.code).toBe(0);
    for (const r of [bundled, modules]) for (const p of ['fastify', 'avvio', 'find-my-way', 'prom-client', 'pino']) expect([...r.packages], p).toContain(p);
    expect([...modules.ours]).toContain('agent/cli/serve.js');
  });

  it('the installed command is the CommonJS launcher: no ES module loader, and node:crypto and streams only when a run needs them', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(pkg.bin.muvakt).toBe('dist/agent/cli/muvakt.cjs');
    const launcher = join(ROOT, pkg.bin.muvakt);
    expect(statSync(launcher).mode & 0o111).not.toBe(0);
    const builtins = (capture: string, extra: string[] = []) => {
      const list = join(tmp, `builtins-${runs++}.txt`);
      const preload = join(tmp, 'module-load-list.cjs');
      writeFileSync(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join('\\n')));`);
      const r = spawnSync(process.execPath, ['-r', preload, launcher, 'analyze', join(CORPUS, capture), '--quiet', ...extra], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      return readFileSync(list, 'utf8').split('\n');
    };
    // A DICOM C-ECHO: nothing to pseudonymise, no certificate, nothing printed.
    const echo = builtins('01_dicom_cecho.pcap');
    expect(echo).not.toContain('NativeModule internal/modules/esm/module_job');
    expect(echo).not.toContain('NativeModule crypto');
    expect(echo).not.toContain('NativeModule stream');
    // With a policy: its addresses are read without node:net (which brings the streams along).
    expect(builtins('01_dicom_cecho.pcap', ['--policy', POLICY])).not.toContain('NativeModule net');
    // HL7 with patient data: the first pseudonym loads node:crypto.
    expect(builtins('09_hl7_nack_ae_ar.pcap')).toContain('NativeModule crypto');
  });

  it('analyze loads no web stack, no logger, no schema library, and without a policy no rules, YAML or SQLite', () => {
    const args = ['analyze', join(CORPUS, '02_dicom_cstore_ct_mr.pcap'), '--quiet'];
    const bundled = loaded(args);
    expect(bundled.code, bundled.stderr).toBe(0);
    // The event schemas are for validation and docs: records become events without TypeBox.
    for (const p of [...SERVING_ONLY, 'better-sqlite3', 'yaml', 'typebox']) expect([...bundled.packages], p).not.toContain(p);
    const r = loaded(args, CLI_MODULES);
    expect(r.code, r.stderr).toBe(0);
    expect([...r.ours]).toContain('agent/pipeline.js');
    for (const p of [...SERVING_ONLY, 'better-sqlite3', 'yaml', 'typebox']) expect([...r.packages], p).not.toContain(p);
    // The one module of rules/ the device inventory reads is the end-of-support table (data, not the rules).
    const notNeeded = (m: string) => m.startsWith('dashboard-api/') || (m.startsWith('rules/') && m !== 'rules/end-of-support.js') || m.startsWith('agent/store/');
    expect([...r.ours].filter(notNeeded)).toEqual([]);
  });

  it('analyze --policy --db loads the rules and the store, still no web stack', () => {
    const args = (db: string) => ['analyze', join(CORPUS, '09_hl7_nack_ae_ar.pcap'), '--quiet', '--policy', POLICY, '--db', join(tmp, db)];
    const bundled = loaded(args('a.db'));
    expect(bundled.code, bundled.stderr).toBe(0);
    const r = loaded(args('b.db'), CLI_MODULES);
    expect(r.code, r.stderr).toBe(0);
    for (const x of [bundled, r]) {
      expect([...x.packages]).toContain('better-sqlite3');
      for (const p of SERVING_ONLY) expect([...x.packages], p).not.toContain(p);
    }
    // The modules load yaml from node_modules; the bundle from its chunk, one file beside it.
    expect([...r.packages]).toContain('yaml');
    expect([...bundled.packages]).not.toContain('yaml');
    expect([...r.ours].filter((m) => m.startsWith('dashboard-api/'))).toEqual([]);
  });

  it('analyze into PostgreSQL: node-postgres from the bundle, without Node\'s fetch stack', async () => {
    const { startPostgres } = await import('../support/postgres.js');
    const pg = await startPostgres();
    try {
      const url = await pg.createDatabase('startup');
      const list = join(tmp, `builtins-${runs++}.txt`);
      const preload = join(tmp, 'module-load-list-pg.cjs');
      writeFileSync(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join('\\n')));`);
      const r = spawnSync(process.execPath, ['-r', preload, join(ROOT, 'dist/agent/cli/muvakt.cjs'), 'analyze', join(CORPUS, '09_hl7_nack_ae_ar.pcap'), '--quiet', '--policy', POLICY], { encoding: 'utf8', env: { ...process.env, MUVAKT_DB: url } });
      expect(r.status, r.stderr).toBe(0);
      const builtins = readFileSync(list, 'utf8').split('\n');
      // node-postgres' Cloudflare check would construct a fetch Response: undici, http2, zlib…
      for (const m of ['NativeModule internal/deps/undici/undici', 'NativeModule http2', 'NativeModule zlib']) expect(builtins).not.toContain(m);
      const alerts = await pg.query<{ n: string }>('SELECT count(*) AS n FROM alerts', [], 'startup');
      expect(Number(alerts[0].n)).toBeGreaterThan(0);
    } finally {
      await pg.stop();
    }
  }, 60_000);

  it('policy check loads neither the pipeline nor the store', () => {
    const bundled = loaded(['policy', 'check', POLICY]);
    expect(bundled.code, bundled.stderr).toBe(0);
    const r = loaded(['policy', 'check', POLICY], CLI_MODULES);
    expect(r.code, r.stderr).toBe(0);
    expect([...r.ours]).not.toContain('agent/pipeline.js');
    for (const x of [bundled, r]) for (const p of [...SERVING_ONLY, 'better-sqlite3']) expect([...x.packages], p).not.toContain(p);
  });

  it('keeps compiled code in the per-user cache, one file per command, reused by the next start; runs without one', () => {
    const cache = join(tmp, 'xdg-cache');
    const run = (env: Record<string, string> = {}) =>
      spawnSync(process.execPath, [CLI, 'analyze', join(CORPUS, '01_dicom_cecho.pcap'), '--quiet'], { encoding: 'utf8', env: { ...process.env, NODE_COMPILE_CACHE: '', NODE_DISABLE_COMPILE_CACHE: '', XDG_CACHE_HOME: cache, ...env } });
    const first = run();
    expect(first.status, first.stderr).toBe(0);
    // The bundle's V8 code cache, on every Node: written at exit when there was none.
    const codeDir = join(cache, 'muvakt', 'code-cache');
    const files = readdirSync(codeDir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(new RegExp(`^analyze-${process.version}-${process.arch}-\\d+-\\d+\\.bin$`));
    // Of analyze's own bundle (the CLI without the API, the dashboard and the daemon), by its size.
    const own = join(ROOT, 'dist/agent/cli/cli-analyze.bundle.cjs');
    expect(files[0].split('-')[3]).toBe(String(statSync(own).size));
    const ownText = readFileSync(own, 'latin1');
    expect(ownText).toContain('"dist/agent/cli/analyze.js"');
    // Nor the event schemas (the rules need only the event types' names: protocols/events/event-types.ts).
    for (const m of ['dashboard-api/app.js', 'dashboard-api/routes/alerts.js', 'agent/sensor/live-sensor.js', 'protocols/events/dicom.js', 'protocols/events/index.js']) expect(ownText).not.toContain(`"dist/${m}"`);
    expect(readFileSync(join(ROOT, 'dist/agent/cli/cli.bundle.cjs'), 'latin1')).toContain('"dist/dashboard-api/app.js"');
    const written = statSync(join(codeDir, files[0])).mtimeMs;
    // The next start takes it as it is (V8 accepted it: nothing is rewritten).
    const second = run();
    expect(second.status, second.stderr).toBe(0);
    expect(readdirSync(codeDir)).toEqual(files);
    expect(statSync(join(codeDir, files[0])).mtimeMs).toBe(written);
    // Another command has its own.
    expect(spawnSync(process.execPath, [CLI, 'policy', 'check', POLICY], { env: { ...process.env, XDG_CACHE_HOME: cache } }).status).toBe(0);
    expect(readdirSync(codeDir).filter((f) => f.startsWith('policy-'))).toHaveLength(1);
    // A policy is read with the bundle's chunks (yaml, TypeBox's checker), each cached under the
    // command; plain analyze above read neither (its one cache file). A second start rewrites none.
    const policyCaches = () => readdirSync(codeDir).filter((f) => f.startsWith('policy+')).sort();
    expect(policyCaches().map((f) => f.split('-v')[0])).toEqual(['policy+chunk-typebox-check', 'policy+chunk-yaml']);
    const chunkTimes = policyCaches().map((f) => statSync(join(codeDir, f)).mtimeMs);
    expect(spawnSync(process.execPath, [CLI, 'policy', 'check', POLICY], { env: { ...process.env, XDG_CACHE_HOME: cache } }).status).toBe(0);
    expect(policyCaches().map((f) => statSync(join(codeDir, f)).mtimeMs)).toEqual(chunkTimes);
    const dir = join(cache, 'muvakt', 'node-compile-cache');
    if ('enableCompileCache' in module) {
      // Node 22.1+: Node's own cache for the modules (the npm packages), one subdirectory per Node version.
      expect(existsSync(dir)).toBe(true);
      expect(readdirSync(dir).length).toBeGreaterThan(0);
    } else {
      // Node 20: no compile cache of Node's.
      expect(existsSync(dir)).toBe(false);
    }
    // Turned off, or in an unwritable place, nothing is written and the run is the same.
    const off = join(tmp, 'xdg-off');
    const disabled = run({ NODE_DISABLE_COMPILE_CACHE: '1', XDG_CACHE_HOME: off });
    expect(disabled.status, disabled.stderr).toBe(0);
    expect(existsSync(off)).toBe(false);
    // A cache home beneath a file: no directory can be made there.
    const file = join(tmp, 'not-a-directory');
    writeFileSync(file, '');
    // Under /proc, where Node's recursive mkdir never returns: the run still ends.
    for (const home of [join(file, 'cache'), '/proc/muvakt-no-such-dir']) {
      const unwritable = spawnSync(process.execPath, [CLI, 'analyze', join(CORPUS, '01_dicom_cecho.pcap'), '--quiet'], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, XDG_CACHE_HOME: home } });
      expect(unwritable.status, `${home}: ${unwritable.stderr}`).toBe(0);
      expect(unwritable.stderr).toBe('');
    }
  });

  it('analysis workers start from their own bundle with its code cache, written once the work is done and reused', () => {
    const cache = join(tmp, 'xdg-workers');
    const run = () =>
      spawnSync(process.execPath, [CLI, 'analyze', join(CORPUS, '25_dicom_hl7_mixed.pcapng'), '--quiet', '--policy', POLICY, '--workers', '2'], { encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: cache } });
    const first = run();
    expect(first.status, first.stderr).toBe(0);
    const codeDir = join(cache, 'muvakt', 'code-cache');
    const workerCaches = () => readdirSync(codeDir).filter((f) => f.startsWith('analysis-worker')).sort();
    // The worker's bundle and the chunks it read (the policy's YAML and schema check), each once
    // however many workers wrote them.
    expect(workerCaches().map((f) => f.split('-v')[0])).toEqual(['analysis-worker+chunk-typebox-check', 'analysis-worker+chunk-yaml', 'analysis-worker']);
    expect(workerCaches()[2].split('-')[4]).toBe(String(statSync(join(ROOT, 'dist/agent/cli/analysis-worker.bundle.cjs')).size));
    const times = workerCaches().map((f) => statSync(join(codeDir, f)).mtimeMs);
    const second = run();
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    expect(workerCaches().map((f) => statSync(join(codeDir, f)).mtimeMs)).toEqual(times);
  });

  it('MUVAKT_MARK_FIRST_PACKET=1 prints when the first packet has been processed (the bench reads it)', () => {
    const spawnedAt = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [CLI, 'analyze', join(CORPUS, '01_dicom_cecho.pcap'), '--quiet'], { encoding: 'utf8', env: { ...process.env, MUVAKT_MARK_FIRST_PACKET: '1' } });
    const endedAt = process.hrtime.bigint();
    expect(r.status, r.stderr).toBe(0);
    const marks = [...r.stderr.matchAll(/^muvakt: first packet at hrtime (\d+) ns \((\d+\.\d) ms after the process started\)$/gm)];
    expect(marks).toHaveLength(1);
    // The monotonic clock is the host's: the mark falls between this process's spawn and its end.
    const at = BigInt(marks[0][1]);
    expect(at > spawnedAt && at < endedAt).toBe(true);
    const sinceStart = Number(marks[0][2]);
    expect(sinceStart).toBeGreaterThan(0);
    expect(sinceStart).toBeLessThan(Number(endedAt - spawnedAt) / 1e6);
    // Without the variable the output is the usual one.
    const plain = spawnSync(process.execPath, [CLI, 'analyze', join(CORPUS, '01_dicom_cecho.pcap'), '--quiet'], { encoding: 'utf8' });
    expect(plain.stderr).toBe('');
  });
});

describe('the API start-up: a failed listen is a runtime failure', () => {
  it('serve: clear message, exit 1', async () => {
    const db = join(tmp, 'serve.db');
    SqliteStore.open(db).closeNow();
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as AddressInfo).port;
    try {
      const r = spawnSync(process.execPath, [CLI, 'serve', '--db', db, '--listen', `127.0.0.1:${port}`], { encoding: 'utf8', timeout: 30_000 });
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toContain(`muvakt: cannot listen on 127.0.0.1:${port}: EADDRINUSE`);
    } finally {
      holder.close();
    }
  });

  it('bad configuration is exit 2, without the usage hint; a command-line mistake adds it', () => {
    const db = join(tmp, 'serve2.db');
    SqliteStore.open(db).closeNow();
    const config = spawnSync(process.execPath, [CLI, 'serve', '--db', db, '--auth', join(tmp, 'missing-auth.yaml')], { encoding: 'utf8' });
    expect(config.status).toBe(2);
    expect(config.stderr).toMatch(/^muvakt: .*cannot read: ENOENT/);
    expect(config.stderr).not.toContain('muvakt help');
    const usage = spawnSync(process.execPath, [CLI, 'serve', '--db', db, '--bogus'], { encoding: 'utf8' });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('Run "muvakt serve --help" for its options.');
    expect(config.stderr).not.toContain('--help');
  });

  it('a mistyped option gets the nearest one; --version; policy check --help; a closed pipe ends quietly', () => {
    const typo = spawnSync(process.execPath, [CLI, 'analyze', '--polcy', 'x.yaml', 'a.pcap'], { encoding: 'utf8' });
    expect(typo.status).toBe(2);
    expect(typo.stderr).toContain('unknown option --polcy for "muvakt analyze". Did you mean --policy?');
    const v = spawnSync(process.execPath, [CLI, '--version'], { encoding: 'utf8' });
    expect(v.status).toBe(0);
    expect(v.stdout).toMatch(/^muvakt \d+\.\d+\.\d+ \(node v\d+/);
    const help = spawnSync(process.execPath, [CLI, 'policy', 'check', '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('muvakt policy check FILE');
    // Alerts to stdout alone (the summary goes to stderr), and `| head -1` is no error.
    const capture = join(ROOT, 'fixtures/corpus/10_telnet_login.pcap');
    const policy = join(ROOT, 'deploy/policy.example.yaml');
    const all = spawnSync(process.execPath, [CLI, 'analyze', capture, '--policy', policy, '--alerts', '-'], { encoding: 'utf8' });
    expect(all.status).toBe(0);
    const lines = all.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(() => JSON.parse(l), l).not.toThrow();
    const head = spawnSync('sh', ['-c', `"${process.execPath}" "${CLI}" analyze "${capture}" --policy "${policy}" --alerts - | head -1; echo "status:$?"`], { encoding: 'utf8' });
    expect(head.stdout).toMatch(/^\{.*\}\nstatus:0\n$/);
    expect(head.stderr).not.toMatch(/EPIPE|Error|at /);
  });
});
