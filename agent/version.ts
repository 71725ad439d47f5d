import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** muvakt's version from package.json (read once), or "unknown". */
export function muvaktVersion(): string {
  if (cached !== undefined) return cached;
  try {
    cached = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    cached = 'unknown';
  }
  return cached;
}
