import module from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Turns on Node's on-disk cache of compiled code (Node 22.1+), so a second start skips most of
 * the parsing and compiling of muvakt and its dependencies. It lives in the user's cache
 * directory (systemd's CacheDirectory=, else $XDG_CACHE_HOME or ~/.cache); NODE_COMPILE_CACHE
 * set by the operator wins. Where Node has no such cache, or the directory cannot be written,
 * nothing happens: start-up is only slower.
 */
export function enableCompileCache(): void {
  const enable = (module as { enableCompileCache?: (dir?: string) => unknown }).enableCompileCache;
  if (enable === undefined || process.env.NODE_DISABLE_COMPILE_CACHE) return;
  try {
    if (process.env.NODE_COMPILE_CACHE) enable();
    else enable(compileCacheDir());
  } catch {
    // A cache is an optimisation: never a reason not to start.
  }
}

function compileCacheDir(): string {
  // systemd's CacheDirectory= is the service's own (colon-separated when several are given).
  const systemd = process.env.CACHE_DIRECTORY?.split(':')[0];
  if (systemd) return join(systemd, 'node-compile-cache');
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'muvakt', 'node-compile-cache');
}
