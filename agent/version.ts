import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** muvakt's version from package.json (read once), or "unknown". */
export function muvaktVersion(): string {
  if (cached !== undefined) return cached;
  cached = 'unknown';
  // dist/agent/version.js when built, agent/version.ts under the test runner, and the CLI
  // bundle (dist/agent/cli/cli.bundle.cjs, where this module's URL is the bundle's).
  for (const rel of ['../../package.json', '../package.json', '../../../package.json']) {
    try {
      const p = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (p.name === 'muvakt' && typeof p.version === 'string') {
        cached = p.version;
        break;
      }
    } catch {
      // not there: the other layout
    }
  }
  return cached;
}
