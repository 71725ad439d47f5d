import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../../..');
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');

describe('rules are typed by the events they read', () => {
  it('tsc rejects a rule reading a field its event does not declare (TS2339), and only that', () => {
    const r = spawnSync(process.execPath, [TSC, '-p', join(ROOT, 'test/types/tsconfig.json'), '--pretty', 'false'], { cwd: ROOT, encoding: 'utf8' });
    const errors = r.stdout.split('\n').filter((l) => /error TS\d+/.test(l));
    // rule-fields.ts: every @ts-expect-error met its error (an unused one would be TS2578).
    // negative/unknown-field.ts: exactly the undeclared field.
    expect(errors, r.stdout + r.stderr).toHaveLength(1);
    expect(errors[0]).toMatch(/^test\/types\/negative\/unknown-field\.ts\(\d+,\d+\): error TS2339: Property 'cipher_strength' does not exist on type/);
    expect(r.status).toBe(2);
  });
});
