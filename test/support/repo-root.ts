import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The repository's root, found from a module's own directory whether it runs from source (vitest)
 * or compiled under dist/ (bench, fuzz): the nearest directory above that has the fixtures.
 */
export function repoRoot(from: string = import.meta.dirname): string {
  for (let d = from; ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json')) && existsSync(join(d, 'fixtures'))) return d;
    if (dirname(d) === d) throw new Error(`no repository root above ${from}`);
  }
}
