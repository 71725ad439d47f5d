import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** The worker threads muvakt starts: each a module of agent/sensor/ and, after `npm run build`, a bundle beside the CLI's. */
export type WorkerName = 'analysis-worker' | 'live-worker';

const MODULES: Record<WorkerName, string> = { 'analysis-worker': '../sensor/analysis-worker.js', 'live-worker': '../sensor/worker.js' };

/**
 * Starts a worker thread from its bundle (dist/agent/cli/<name>.bundle.cjs) with the code cache
 * of its last start, as the CLI itself starts (compile-cache.ts); from its modules when there is
 * no bundle (tsc alone). A worker from its modules resolved and compiled some 150 ES modules
 * (about 0.4 s of CPU on this VM) before its first packet, while the reader filled its ring and
 * waited.
 *
 * Paths are taken relative to this module, through the folder's name: from the bundles
 * (dist/agent/cli/) and from the modules (dist/agent/sensor/) alike.
 */
export function startWorker(name: WorkerName, options: WorkerOptions): Worker {
  const bundle = fileURLToPath(new URL(`../cli/${name}.bundle.cjs`, import.meta.url));
  const runner = fileURLToPath(new URL('../cli/compile-cache.cjs', import.meta.url));
  const module = new URL(MODULES[name], import.meta.url);
  if (!existsSync(bundle) || !existsSync(runner)) return new Worker(module, options);
  const code = `if (!require(${JSON.stringify(runner)}).runBundle(${JSON.stringify(bundle)}, ${JSON.stringify(name)})) import(${JSON.stringify(module.href)});`;
  return new Worker(code, { ...options, eval: true });
}

/**
 * Has the launcher that runs this bundle (agent/cli/compile-cache.ts, which sets the global)
 * write the code caches it owes: a worker's parent ends it with terminate(), which runs no 'exit'.
 */
export function writeCodeCaches(): void {
  const write = (globalThis as Record<symbol, unknown>)[Symbol.for('muvakt.writeCodeCaches')];
  if (typeof write === 'function') (write as () => void)();
}
