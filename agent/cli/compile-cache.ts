/**
 * Start-up caches of compiled code, so a second start skips most of the parsing and compiling:
 *
 * - Node's own compile cache (Node 22.1+), for whatever is loaded as modules: the npm packages
 *   and, without the bundle, muvakt's own modules.
 * - The CLI bundle's code cache, on every Node (20 has no compile cache): `npm run build` makes
 *   one CommonJS file of the CLI (scripts/build-cli.ts), compiled here as one V8 script with the
 *   code V8 kept from the last run of the same command.
 *
 * Both live in the user's cache directory (systemd's CacheDirectory=, else $XDG_CACHE_HOME or
 * ~/.cache); NODE_COMPILE_CACHE set by the operator wins for Node's, NODE_DISABLE_COMPILE_CACHE
 * turns both off. Where a cache cannot be read or written, nothing happens: start-up is only
 * slower.
 *
 * Built-in modules come from process.getBuiltinModule, not `import`: importing node:fs builds
 * its ESM facade, which loads all of Node's streams (~10 ms) before the first packet needs them.
 */
const fs = process.getBuiltinModule('node:fs');
const path = process.getBuiltinModule('node:path');
const module = process.getBuiltinModule('node:module');

/** Turns on Node's compile cache where there is one (Node 22.1+). */
export function enableCompileCache(): void {
  const enable = (module as { enableCompileCache?: (dir?: string) => unknown }).enableCompileCache;
  if (enable === undefined || process.env.NODE_DISABLE_COMPILE_CACHE) return;
  try {
    if (process.env.NODE_COMPILE_CACHE) enable();
    else {
      const dir = path.join(cacheBase(), 'node-compile-cache');
      // Made here first: Node's own recursive mkdir never returns under /proc (see makeDirectories).
      if (!fs.existsSync(dir)) makeDirectories(dir);
      enable(dir);
    }
  } catch {
    // A cache is an optimisation: never a reason not to start.
  }
}

/** The cache directory of muvakt: systemd's CacheDirectory= for the service, else the user's. */
function cacheBase(): string {
  // systemd's CacheDirectory= is the service's own (colon-separated when several are given).
  const systemd = process.env.CACHE_DIRECTORY?.split(':')[0];
  if (systemd) return systemd;
  return path.join(process.env.XDG_CACHE_HOME || path.join(process.getBuiltinModule('node:os').homedir(), '.cache'), 'muvakt');
}

/**
 * Runs the CommonJS bundle at `file` (false when there is none) as Node would require it, but
 * compiled with the code cache of the last run of the same command (`command`: what the cache
 * is kept under, the first argument). The cache is written at exit when there was none or V8
 * rejected it (another bundle, Node or V8 flags): V8 then includes every function the run
 * compiled, so the next start of that command compiles almost nothing.
 *
 * The bundle's chunks (the packages the build keeps in files of their own next to it,
 * chunk-*.cjs) are required the same way when the bundle first asks for one, each with its own
 * cache under the same command.
 */
export function runBundle(file: string, command: string): boolean {
  const name = /^[a-z]+(-[a-z]+)?$/.test(command) ? command : 'other';
  const wrapped = compileCached(file, name);
  if (wrapped === null) return false;
  const dir = path.dirname(file);
  const nodeRequire = module.createRequire(file);
  const chunks = new Map<string, unknown>();
  const bundleRequire = ((id: string) => {
    if (!id.startsWith('./chunk-')) return nodeRequire(id);
    let exports = chunks.get(id);
    if (exports === undefined) {
      const chunkFile = path.join(dir, id);
      const chunk = compileCached(chunkFile, `${name}+${path.basename(id, '.cjs')}`);
      if (chunk === null) return nodeRequire(id);
      exports = runWrapped(chunk, chunkFile, nodeRequire);
      chunks.set(id, exports);
    }
    return exports;
  }) as NodeJS.Require;
  Object.assign(bundleRequire, { resolve: nodeRequire.resolve, cache: nodeRequire.cache, main: nodeRequire.main });
  runWrapped(wrapped, file, bundleRequire);
  return true;
}

/** Caches to write (none when every one was read and accepted). */
const pendingWrites: (() => void)[] = [];

/**
 * Writes the code caches this thread still owes, now. At exit for a process; a worker thread,
 * which its parent ends with terminate() (no 'exit' runs then), calls it through the global
 * below once its work is compiled.
 */
function writeCodeCachesNow(): void {
  for (const write of pendingWrites.splice(0)) write();
}

// The bundles cannot import the launcher that runs them: they find it under this global
// (agent/sensor/worker-entry.ts, writeCodeCaches).
(globalThis as Record<symbol, unknown>)[Symbol.for('muvakt.writeCodeCaches')] = writeCodeCachesNow;

type Wrapped = (exports: object, require: NodeJS.Require, module: object, filename: string, dirname: string) => void;

/** The CommonJS file at `file` compiled as one V8 script with the code cache kept as `cacheName` (null when it cannot be read). */
function compileCached(file: string, cacheName: string): Wrapped | null {
  let source: string;
  try {
    // The bundle is ASCII (esbuild escapes the rest): latin1 is the cheapest exact decoding.
    source = fs.readFileSync(file, 'latin1');
  } catch {
    return null;
  }
  const vm = process.getBuiltinModule('node:vm');
  const cacheFile = process.env.NODE_DISABLE_COMPILE_CACHE ? null : codeCacheFile(file, cacheName, source.length);
  let cachedData: Buffer | undefined;
  if (cacheFile !== null) {
    try {
      cachedData = fs.readFileSync(cacheFile);
    } catch {
      // none yet
    }
  }
  // The same wrapper as require() uses, so line 1 of the file is line 1 in stack traces.
  const script = new vm.Script(module.wrap(source), { filename: file, cachedData });
  if (cacheFile !== null && (cachedData === undefined || script.cachedDataRejected === true)) {
    if (pendingWrites.length === 0) process.once('exit', writeCodeCachesNow);
    pendingWrites.push(() => writeCodeCache(cacheFile, cacheName, script));
  }
  return script.runInThisContext() as Wrapped;
}

function runWrapped(wrapped: Wrapped, file: string, req: NodeJS.Require): unknown {
  const mod = { exports: {}, filename: file, id: file };
  wrapped.call(mod.exports, mod.exports, req, mod, file, path.dirname(file));
  return mod.exports;
}

/** One cache file per name (command, or command+chunk), build of the file (its size and time) and Node. */
function codeCacheFile(file: string, cacheName: string, size: number): string | null {
  try {
    const mtime = Math.round(fs.statSync(file).mtimeMs);
    return path.join(cacheBase(), 'code-cache', `${cacheName}-${process.version}-${process.arch}-${size}-${mtime}.bin`);
  } catch {
    return null;
  }
}

function writeCodeCache(cacheFile: string, cacheName: string, script: import('node:vm').Script): void {
  try {
    const dir = path.dirname(cacheFile);
    makeDirectories(dir);
    // Written aside and renamed: two processes starting at once never read half a file.
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, script.createCachedData());
    fs.renameSync(tmp, cacheFile);
    // The caches of earlier builds under this name are of no further use.
    const prefix = `${cacheName}-`;
    for (const f of fs.readdirSync(dir)) {
      if (f.startsWith(prefix) && f !== path.basename(cacheFile) && !f.endsWith('.tmp')) fs.rmSync(path.join(dir, f), { force: true });
    }
  } catch {
    // A cache is an optimisation: a read-only home or a full disk only makes the next start slower.
  }
}

/**
 * mkdir -p, one level at a time: Node's own recursive mkdirSync never returns for a path under
 * /proc (it retries ENOENT for ever), and a cache must never hang a run at exit.
 */
function makeDirectories(dir: string): void {
  const parts = path.resolve(dir).split(path.sep).filter((p) => p !== '');
  let at: string = path.sep;
  for (const part of parts) {
    at = path.join(at, part);
    try {
      fs.mkdirSync(at);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}
