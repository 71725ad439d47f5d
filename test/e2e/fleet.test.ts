/**
 * A fleet: one PostgreSQL (a throw-away cluster), two `muvakt run` sensors each capturing in its
 * own network namespace (the two ends of a veth pair, so every flow between the peers is seen
 * by both: overlapping mirrors), and two `muvakt serve` replicas on the same database.
 *
 * Checks: one alert (not two) for the shared flow, listing both sensors; devices not doubled; an
 * acknowledgement through replica A seen through replica B; the audit log has reads from both
 * replicas; PostgreSQL stopped for 30 s while the peers keep talking, then every alert the
 * sensors raised is in the database and both spools are empty; kill -9 of one sensor and a
 * restart lose nothing it had reported as stored.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetnsPair, waitFor } from '../support/netns.js';
import { startPostgres, type PostgresCluster } from '../support/postgres.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/agent/cli/main.js');
const PORT = '11112';
const SENSOR_API = '127.0.0.1:18471';
const TOKENS = { viewer: 'fleet-viewer-token-0123456789abcdef', officer: 'fleet-officer-token-0123456789abcdef', admin: 'fleet-admin-token-0123456789abcdef', metrics: 'fleet-metrics-token-0123456789abcdef' };
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Sources in ns a for flows during the outage: each a new subject, so a new alert. */
const OUTAGE_SOURCES = ['192.0.2.101', '192.0.2.102', '192.0.2.103', '192.0.2.104', '192.0.2.105'];

interface AlertItem {
  id: string;
  rule_id: string;
  status: string;
  sensors: string[];
  subject: { src_ip: string; dst_ip: string };
}

async function until<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let v = await get();
  while (!ok(v)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v).slice(0, 800)}`);
    await sleep(300);
    v = await get();
  }
  return v;
}

describe('fleet: two sensors and two API replicas on one PostgreSQL', () => {
  const pair = new NetnsPair('flt');
  const tmp = mkdtempSync(join(tmpdir(), 'muvakt-fleet-'));
  let pg: PostgresCluster;
  let url: string;
  const procs: ChildProcess[] = [];
  const logs = new Map<string, string>();

  function sensor(name: 'bygg-a' | 'bygg-b'): ChildProcess {
    const [ns, iface] = name === 'bygg-a' ? [pair.a, pair.ifA] : [pair.b, pair.ifB];
    const c = pair.spawn(ns, process.execPath, [
      CLI, 'run', '--interface', iface, '--sensor', name, '--filter', `tcp port ${PORT}`, '--buffer-mb', '8', '--stats-interval', '1',
      '--policy', join(tmp, 'policy.yaml'), '--db', url, '--alerts', join(tmp, `${name}.alerts.ndjson`),
      '--store-spool', join(tmp, `${name}.spool`), '--listen', SENSOR_API, '--auth', join(tmp, 'auth.yaml'),
    ]);
    logs.set(name, '');
    c.stderr!.on('data', (d: Buffer) => logs.set(name, (logs.get(name) ?? '') + d.toString()));
    procs.push(c);
    return c;
  }

  function replica(name: string, port: number): ChildProcess {
    const c = spawn(process.execPath, [CLI, 'serve', '--db', url, '--sensor', name, '--listen', `127.0.0.1:${port}`, '--auth', join(tmp, 'auth.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
    logs.set(name, '');
    c.stderr!.on('data', (d: Buffer) => logs.set(name, (logs.get(name) ?? '') + d.toString()));
    procs.push(c);
    return c;
  }

  /** The sensor's own /metrics, asked inside its namespace. */
  function sensorMetric(ns: string, metric: string): number | null {
    let text: string;
    try {
      text = pair.exec(ns, 'curl', '-sf', '-H', `Authorization: Bearer ${TOKENS.metrics}`, `http://${SENSOR_API}/metrics`);
    } catch {
      return null;
    }
    const m = new RegExp(`^${metric} (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : null;
  }

  const ports = { a: 18480 + (process.pid % 50), b: 18540 + (process.pid % 50) };
  async function api<T>(replicaKey: 'a' | 'b', path: string, role: keyof typeof TOKENS = 'viewer', init: { method?: string; body?: unknown } = {}): Promise<T> {
    const r = await fetch(`http://127.0.0.1:${ports[replicaKey]}/api/v1${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${TOKENS[role]}`, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
    });
    if (!r.ok) throw new Error(`${path} via ${replicaKey}: ${r.status} ${await r.text()}`);
    return (await r.json()) as T;
  }
  const allAlerts = async (k: 'a' | 'b' = 'a') => (await api<{ items: AlertItem[] }>(k, '/alerts?limit=1000')).items;

  const dicom = (...args: string[]) => pair.exec(pair.a, args[0], ...args.slice(1));
  const echo = () => dicom('echoscu', '-aet', 'CT_E2E', '-aec', 'PACS_E2E', pair.ipB, PORT);
  /** Replies from ns a now leave from `src` (a new subject for the rules). */
  const sourceFrom = (src: string) => pair.exec(pair.a, 'ip', 'route', 'replace', '192.0.2.0/24', 'dev', pair.ifA, 'proto', 'kernel', 'scope', 'link', 'src', src);

  beforeAll(async () => {
    NetnsPair.requireRoot();
    if (!existsSync(CLI)) throw new Error('dist/ is missing: run "npm run build" (npm test does)');
    pair.create();
    for (const ip of OUTAGE_SOURCES) pair.exec(pair.a, 'ip', 'addr', 'add', `${ip}/24`, 'dev', pair.ifA);
    sourceFrom(pair.ipA);
    execFileSync('python3', [join(ROOT, 'fixtures/corpus/scripts/mkdicom.py'), '--modality', 'CT', '--rows', '64', '--cols', '64', '--name', 'TEST^FLEET', '--pid', '12345678', '--out', join(tmp, 'ct.dcm')], { stdio: 'pipe' });
    writeFileSync(
      join(tmp, 'policy.yaml'),
      `site: fleet\nzones:\n  - {name: ct, kind: medical, cidrs: [${pair.ipA}/32, 192.0.2.96/28]}\n  - {name: pacs, kind: server, cidrs: [${pair.ipB}/32]}\ndicom: {ports: [${PORT}]}\n`,
    );
    writeFileSync(
      join(tmp, 'auth.yaml'),
      `tokens:\n  - {name: soc, role: viewer, sha256: "${sha(TOKENS.viewer)}"}\n  - {name: sikkerhetsleder, role: officer, sha256: "${sha(TOKENS.officer)}"}\n  - {name: admin, role: admin, sha256: "${sha(TOKENS.admin)}"}\nmetrics_token_sha256: "${sha(TOKENS.metrics)}"\n`,
    );
    pg = await startPostgres();
    url = await pg.createDatabase('fleet');
  }, 120_000);

  afterAll(async () => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    pair.destroy();
    await pg?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('one alert for the shared flow with both sensor names; devices once; acks and audit across replicas; PostgreSQL stopped 30 s; kill -9', async () => {
    const scp = pair.spawn(pair.b, 'storescp', ['-aet', 'PACS_E2E', '-od', tmp, PORT]);
    for (let i = 0; i < 100 && !pair.exec(pair.b, 'ss', '-Hltn', `sport = :${PORT}`).trim(); i++) await sleep(50);
    let a = sensor('bygg-a');
    const b = sensor('bygg-b');
    await Promise.all([waitFor(a.stderr!, /API listening beside the capture/, 30_000), waitFor(b.stderr!, /API listening beside the capture/, 30_000)]);
    const ra = replica('api-a', ports.a);
    const rb = replica('api-b', ports.b);
    await Promise.all([waitFor(ra.stderr!, /API listening/, 30_000), waitFor(rb.stderr!, /API listening/, 30_000)]);

    // ---- the shared flow: one alert, both sensors
    echo();
    dicom('storescu', '-aet', 'CT_E2E', '-aec', 'PACS_E2E', pair.ipB, PORT, join(tmp, 'ct.dcm'));
    const phi = await until(
      'the PHI alert from both sensors',
      async () => (await allAlerts()).filter((x) => x.rule_id === 'dicom-cleartext-phi'),
      (l) => l.length > 0 && l.every((x) => x.sensors.length === 2),
    );
    expect(phi).toHaveLength(1);
    expect(phi[0].sensors).toEqual(['bygg-a', 'bygg-b']);
    const before = await allAlerts();
    // Every alert about these two hosts is one row, seen by both.
    expect(new Set(before.map((x) => `${x.rule_id}|${x.subject.src_ip}|${x.subject.dst_ip}`)).size).toBe(before.length);

    // ---- devices: one per host, sighted by both sensors
    const assets = await until(
      'devices from both sensors',
      async () => (await api<{ items: { id: string; ips: string[]; sensors: string[] }[] }>('b', '/assets?limit=1000')).items,
      (l) => l.length >= 2 && l.every((d) => d.sensors.length === 2),
      90_000, // a live sensor saves its inventory every 60 s
    );
    expect(new Set(assets.map((d) => d.id)).size).toBe(assets.length);
    for (const ip of [pair.ipA, pair.ipB]) expect(assets.filter((d) => d.ips.includes(ip)), ip).toHaveLength(1);
    expect((await api<{ items: unknown[] }>('a', '/assets?sensor=bygg-a')).items).toHaveLength(assets.length);

    // ---- an acknowledgement through A is seen through B
    await api('a', `/alerts/${phi[0].id}/ack`, 'officer', { method: 'POST', body: { comment: 'kjent, følges opp' } });
    const seenByB = await api<AlertItem & { history: { actor: string }[] }>('b', `/alerts/${phi[0].id}`);
    expect(seenByB.status).toBe('acknowledged');
    expect(seenByB.history.map((h) => h.actor)).toContain('sikkerhetsleder');
    // ---- the audit log has every read, from both replicas
    const audit = (await api<{ items: { action: string; sensor: string }[] }>('b', '/audit?limit=1000', 'admin')).items;
    expect(audit.some((r) => r.sensor === 'api-a' && r.action === 'alerts.ack')).toBe(true);
    expect(audit.some((r) => r.sensor === 'api-b' && r.action === 'alerts.get')).toBe(true);
    expect(audit.some((r) => r.sensor === 'api-a' && r.action === 'alerts.list')).toBe(true);

    // ---- PostgreSQL stopped for 30 s while the peers keep talking
    await pg.halt();
    for (const src of OUTAGE_SOURCES) {
      sourceFrom(src);
      echo();
      await sleep(1000);
    }
    sourceFrom(pair.ipA);
    // The outage as the SOC sees it: the scrape is still served (its audit row cannot be written,
    // which is logged) and says the store is unreachable; the sensors' logs say they spool.
    const logOf = (name: string) => logs.get(name) ?? '';
    const mark = { a: logOf('bygg-a').length, b: logOf('bygg-b').length };
    await until('both sensors spooling', async () => [logOf('bygg-a'), logOf('bygg-b')], ([la, lb]) => /writes go to the spool/.test(la) && /writes go to the spool/.test(lb), 20_000);
    for (const ns of [pair.a, pair.b]) {
      await until(`${ns} scrape says the store is unreachable`, async () => sensorMetric(ns, 'muvakt_store_reachable'), (up) => up === 0, 20_000);
    }
    expect(a.exitCode).toBeNull(); // still capturing
    await sleep(Math.max(0, 30_000 - 5 * 1000 - 2000));
    await pg.start();
    await until(
      'both spools drained',
      async () => [logOf('bygg-a').slice(mark.a), logOf('bygg-b').slice(mark.b)],
      (v) => v.every((l) => /store spool drained/.test(l)),
      60_000,
    );
    for (const ns of [pair.a, pair.b]) {
      await until(`${ns} spool empty and store reachable`, async () => [sensorMetric(ns, 'muvakt_store_spool_records'), sensorMetric(ns, 'muvakt_store_reachable')], ([n, up]) => n === 0 && up === 1, 30_000);
    }
    const after = await until('the outage alerts', () => allAlerts('b'), (l) => OUTAGE_SOURCES.every((s) => l.some((x) => x.subject.src_ip === s && x.sensors.length === 2)), 30_000);
    for (const s of OUTAGE_SOURCES) expect(after.filter((x) => x.subject.src_ip === s && x.rule_id === 'flow-not-allowed'), s).toHaveLength(1);
    // What each sensor reported as stored (its --alerts file: written only after commit) is in the database.
    const ids = new Set(after.map((x) => x.id));
    // A new alert is reported by the sensor whose commit created it; the other's is an update.
    let reportedTotal = 0;
    for (const name of ['bygg-a', 'bygg-b']) {
      const reported = readFileSync(join(tmp, `${name}.alerts.ndjson`), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as AlertItem);
      reportedTotal += reported.length;
      for (const r of reported) expect(ids.has(r.id), `${name} reported ${r.id}`).toBe(true);
    }
    expect(reportedTotal).toBeGreaterThanOrEqual(OUTAGE_SOURCES.length + 1);

    // ---- kill -9 of sensor A mid-run, then a restart: nothing it reported as stored is lost
    sourceFrom('192.0.2.101');
    echo();
    await sleep(700);
    const exited = new Promise((r) => a.once('exit', r));
    a.kill('SIGKILL');
    await exited;
    const reportedByA = readFileSync(join(tmp, 'bygg-a.alerts.ndjson'), 'utf8').trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as AlertItem).id);
    const stored = new Set((await allAlerts()).map((x) => x.id));
    for (const id of reportedByA) expect(stored.has(id), id).toBe(true);
    a = sensor('bygg-a');
    await waitFor(a.stderr!, /API listening beside the capture/, 30_000);
    sourceFrom(pair.ipA);
    echo();
    await until('sensor A back and its spool empty', async () => sensorMetric(pair.a, 'muvakt_store_spool_records'), (n) => n === 0, 20_000);

    for (const p of [a, b, ra, rb]) p.kill('SIGTERM');
    await Promise.all([a, b, ra, rb].map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r)))));
    scp.kill('SIGTERM');
    expect(a.exitCode, logs.get('bygg-a')).toBe(0);
    expect(b.exitCode, logs.get('bygg-b')).toBe(0);
    // Never a patient value in what the fleet stored or logged.
    const everything = JSON.stringify(await pg.query('SELECT * FROM alerts', [], 'fleet')) + [...logs.values()].join('');
    expect(everything).not.toContain('TEST^FLEET');
  }, 360_000);
});
