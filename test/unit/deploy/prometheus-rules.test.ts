import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

const DIR = join(import.meta.dirname, '../../../deploy/prometheus');

function promtool(args: string[]) {
  const r = spawnSync('promtool', args, { cwd: DIR, encoding: 'utf8' });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error('promtool is missing: install Debian\'s "prometheus" package (.ci/run does)');
  }
  return r;
}

interface Rules {
  groups: { name: string; rules: { alert: string; expr: string }[] }[];
}

describe('Prometheus alert rules', () => {
  it('promtool check rules accepts them', () => {
    const r = promtool(['check', 'rules', 'alerts.yml']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('promtool test rules: sensor down/absent, drops, no traffic (not on the API), half-mirrored SPAN, store and syslog spool', () => {
    const r = promtool(['test', 'rules', 'alerts.test.yml']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('SUCCESS');
  });

  it('every alert has a unit test case that expects it to fire', () => {
    const rules = parseYaml(readFileSync(join(DIR, 'alerts.yml'), 'utf8')) as Rules;
    const tests = parseYaml(readFileSync(join(DIR, 'alerts.test.yml'), 'utf8')) as { tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[] };
    const fired = new Set(tests.tests.flatMap((t) => t.alert_rule_test.filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname)));
    const untested = rules.groups
      .flatMap((g) => g.rules.map((r) => r.alert))
      .filter((a) => !fired.has(a));
    expect(untested).toEqual([]);
  });

  it('capture rules look only at sensor jobs, never at an API instance', () => {
    const rules = parseYaml(readFileSync(join(DIR, 'alerts.yml'), 'utf8')) as Rules;
    const sensor = rules.groups.find((g) => g.name === 'muvakt-sensor')!;
    for (const r of sensor.rules) {
      for (const m of r.expr.matchAll(/\b(muvakt_\w+|up)(\{[^}]*\})?/g)) expect(m[2], `${r.alert}: ${m[1]}`).toContain('job="muvakt-sensor"');
    }
  });
});
