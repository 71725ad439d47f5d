import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { NetnsPair, waitFor } from '../support/netns.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/agent/cli/main.js');
const DASHBOARD = join(ROOT, 'deploy/grafana/muvakt-dashboard.json');
const PORT = '11113';
const SENSOR_API = '127.0.0.1:18473';
const SERVE_API = '127.0.0.1:18474';
const METRICS = 'metrics-token-for-the-grafana-test';
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Series Prometheus makes itself (not in any /metrics). */
const PROMETHEUS_OWN = new Set(['up']);
const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset']);

interface Dashboard {
  panels: { title: string; targets?: { expr: string }[] }[];
  templating: { list: { name: string; type: string; query?: string | { query: string } }[] };
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
const panelExprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
const ruleExprs = (parseYaml(readFileSync(join(ROOT, 'deploy/prometheus/alerts.yml'), 'utf8')) as { groups: { rules: { expr: string }[] }[] }).groups.flatMap((g) => g.rules.map((r) => String(r.expr)));
const variableQueries = dashboard.templating.list.filter((v) => v.type === 'query').map((v) => (typeof v.query === 'string' ? v.query : v.query!.query));

/** Metric names a PromQL expression reads: identifiers that are not functions, keywords, labels or strings. */
function metricNames(expr: string): string[] {
  const bare = expr
    // Grafana's label_values(selector, label): only the selector names a metric.
    .replace(/label_values\(([^,]*),[^)]*\)/g, '$1')
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const out = new Set<string>();
  for (const m of bare.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(\s*\()?/g)) {
    if (m[2] !== undefined || PROMQL_WORDS.has(m[1]) || /^\d/.test(m[1])) continue;
    out.add(m[1]);
  }
  return [...out];
}

/** `# TYPE name kind` lines of a scrape. */
function exported(text: string): Map<string, string> {
  return new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]));
}

describe('Grafana dashboard', () => {
  it('every query selects one source and the chosen sensors, so a sensor and an API never double-count', () => {
    const vars = dashboard.templating.list.map((v) => v.name);
    expect(vars).toEqual(expect.arrayContaining(['job', 'instance']));
    expect(panelExprs.length).toBeGreaterThan(10);
    for (const { panel, expr } of panelExprs) {
      const selectors = [...expr.matchAll(/\b(muvakt_\w+)(\{[^}]*\})?/g)];
      expect(selectors.length, panel).toBeGreaterThan(0);
      for (const s of selectors) {
        expect(s[2], `${panel}: ${s[1]}`).toContain('job="$job"');
        expect(s[2], `${panel}: ${s[1]}`).toContain('instance=~"$instance"');
      }
    }
  });

  describe('every metric its queries (and the alert rules) use is in a real /metrics scrape (run --listen, then serve)', () => {
    const pair = new NetnsPair('graf');
    const tmp = mkdtempSync(join(tmpdir(), 'muvakt-grafana-'));
    beforeAll(() => {
      NetnsPair.requireRoot();
      if (!existsSync(CLI)) throw new Error('dist/ is missing: run "npm run build" (npm test does)');
      pair.create();
    });
    afterAll(() => {
      pair.destroy();
      rmSync(tmp, { recursive: true, force: true });
    });

    it('sensor and serve scrapes cover the dashboard; serve has devices but no capture counters', async () => {
      const policy = join(tmp, 'policy.yaml');
      writeFileSync(policy, `site: grafana\nzones:\n  - {name: ct, kind: medical, cidrs: [${pair.ipA}/32]}\n  - {name: pacs, kind: medical, cidrs: [${pair.ipB}/32]}\ndicom: {ports: [${PORT}]}\n`);
      const auth = join(tmp, 'auth.yaml');
      writeFileSync(auth, `tokens: []\nmetrics_token_sha256: "${sha(METRICS)}"\n`);
      const db = join(tmp, 'sensor.db');
      const scp = pair.spawn(pair.b, 'storescp', ['-aet', 'PACS_GRAF', '-od', tmp, PORT]);
      for (let i = 0; i < 100 && !pair.exec(pair.b, 'ss', '-Hltn', `sport = :${PORT}`).trim(); i++) await sleep(50);
      // --syslog to a port nobody listens on: the spool and connection metrics have samples too.
      const sensor = pair.spawn(pair.a, process.execPath, [
        CLI, 'run', '--interface', pair.ifA, '--policy', policy, '--db', db, '--listen', SENSOR_API, '--auth', auth, '--buffer-mb', '8',
        '--syslog', '127.0.0.1:9', '--syslog-spool', join(tmp, 'spool'),
      ]);
      let err = '';
      sensor.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      await waitFor(sensor.stderr!, /API listening beside the capture/, 60_000);
      pair.exec(pair.a, 'echoscu', '-aet', 'CT_GRAF', '-aec', 'PACS_GRAF', pair.ipB, PORT);
      const scrape = (ns: string, api: string) => pair.exec(ns, 'curl', '-sf', '-H', `Authorization: Bearer ${METRICS}`, `http://${api}/metrics`);
      let sensorText = '';
      for (let i = 0; i < 40; i++) {
        await sleep(500);
        sensorText = scrape(pair.a, SENSOR_API);
        if (/^muvakt_dicom_associations_total\{result="released"\} 1/m.test(sensorText)) break;
      }
      expect(sensorText).toMatch(/^muvakt_packets_total [1-9]\d*/m);
      expect(sensorText).toMatch(/^muvakt_syslog_connected 0$/m);
      const exited = new Promise<number | null>((resolve) => sensor.once('exit', resolve));
      sensor.kill('SIGTERM');
      expect(await exited, err).toBe(0);
      scp.kill('SIGTERM');

      // serve over the store the sensor left (inventory saved at stop)
      const serve = pair.spawn(pair.a, process.execPath, [CLI, 'serve', '--db', db, '--auth', auth, '--listen', SERVE_API]);
      let serveErr = '';
      serve.stderr!.on('data', (d: Buffer) => (serveErr += d.toString()));
      await waitFor(serve.stderr!, /API listening/, 60_000);
      pair.exec(pair.a, 'curl', '-s', '-o', '/dev/null', `http://${SERVE_API}/healthz`);
      const serveText = scrape(pair.a, SERVE_API);
      const serveExited = new Promise<number | null>((resolve) => serve.once('exit', resolve));
      serve.kill('SIGTERM');
      expect(await serveExited, serveErr).toBe(0);

      // serve: the Devices panel has data; no made-up capture counters.
      expect(serveText).toMatch(/^muvakt_assets\{zone="(ct|pacs)"\} [1-9]/m);
      expect(serveText).not.toMatch(/^(# TYPE )?muvakt_(packets|bytes|capture_drops)_total/m);
      expect(serveText).toMatch(/^muvakt_http_requests_total\{method="GET",route="\/healthz",status_code="200"\} 1$/m);

      const have = new Map([...exported(sensorText), ...exported(serveText)]);
      const used = new Set([...panelExprs.map((p) => p.expr), ...variableQueries].flatMap(metricNames));
      expect(used.size).toBeGreaterThan(15);
      const missing = [...used].filter((n) => !PROMETHEUS_OWN.has(n) && !have.has(n));
      expect(missing).toEqual([]);
      const ruleNames = new Set(ruleExprs.flatMap(metricNames));
      expect(ruleNames).toContain('muvakt_tcp_one_sided_flows_total');
      expect([...ruleNames].filter((n) => !PROMETHEUS_OWN.has(n) && !have.has(n))).toEqual([]);
    });
  });
});
