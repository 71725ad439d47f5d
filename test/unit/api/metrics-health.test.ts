import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../../agent/store/index.js';
import { boundSamples, createMetrics, METRIC_NAMES, OTHER, STORE_METRIC_NAMES } from '../../../dashboard-api/metrics.js';
import { isLoopback, parseListen, plainHttpRefusal } from '../../../dashboard-api/listen.js';
import { bearer, fixture, tempDir } from './helpers.js';
import { someFnr } from '../store/helpers.js';

const tmp = tempDir('muvakt-api-');
afterAll(() => tmp.cleanup());

/** Minimal Prometheus text-format parser: HELP/TYPE lines and samples. */
function parseProm(text: string) {
  const types = new Map<string, string>();
  const samples: { name: string; labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const t = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (t) {
      types.set(t[1], t[2]);
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`bad line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return { types, samples };
}

describe('/metrics', () => {
  it('needs its token; a store without capture exports only what it knows; alert gauges come from the store', async () => {
    const f = await fixture(tmp, { processMetrics: true });
    try {
      expect((await f.app.inject({ url: '/metrics' })).statusCode).toBe(401);
      await f.app.inject({ url: '/api/v1/alerts', headers: bearer('viewer') });
      await f.app.inject({ url: '/no-such-route' });
      const r = await f.app.inject({ url: '/metrics', headers: bearer('metrics') });
      expect(r.statusCode).toBe(200);
      expect(r.headers['content-type']).toMatch(/^text\/plain/);
      const { types, samples } = parseProm(r.body);
      for (const n of STORE_METRIC_NAMES) expect(types.has(n), n).toBe(true);
      // Capture counters are a live sensor's: no made-up "0 packets, 0 drops" from a store.
      for (const n of METRIC_NAMES.filter((n) => !STORE_METRIC_NAMES.includes(n))) expect(types.has(n), n).toBe(false);
      expect(r.body).not.toMatch(/^muvakt_packets_total/m);
      expect(types.get('muvakt_alerts_open')).toBe('gauge');
      // Its own HTTP metrics, by route template (bounded), 404s as "unmatched".
      expect(types.get('muvakt_http_requests_total')).toBe('counter');
      expect(types.get('muvakt_http_request_duration_seconds')).toBe('histogram');
      const http = samples.filter((s) => s.name === 'muvakt_http_requests_total');
      expect(http.find((s) => s.labels.route === '/api/v1/alerts' && s.labels.status_code === '200' && s.labels.method === 'GET')?.value).toBe(1);
      expect(http.find((s) => s.labels.route === '/metrics' && s.labels.status_code === '401')?.value).toBe(1);
      expect(http.find((s) => s.labels.route === 'unmatched' && s.labels.status_code === '404')?.value).toBe(1);
      expect(types.has('process_cpu_user_seconds_total')).toBe(true);
      const open = samples.filter((s) => s.name === 'muvakt_alerts_open');
      expect(Object.fromEntries(open.map((s) => [s.labels.severity, s.value]))).toEqual({ low: 1, medium: 1, high: 3, critical: 1 });
      const byRule = samples.filter((s) => s.name === 'muvakt_alerts_total');
      expect(byRule.find((s) => s.labels.rule_id === 'mu-device-to-external')?.value).toBe(2);
      expect(byRule.find((s) => s.labels.rule_id === OTHER)?.value).toBe(1); // the retired rule id is not a label value
      // no address in any label
      for (const s of samples) for (const v of Object.values(s.labels)) expect(v).not.toMatch(/\d+\.\d+\.\d+\.\d+/);
    } finally {
      await f.close();
    }
  });

  it('fills pipeline metrics from a snapshot provider, bounding label values', async () => {
    const fnr = someFnr('010190');
    let calls = 0;
    const m = createMetrics({
      processMetrics: false,
      liveSensor: true,
      snapshot: () => {
        calls++;
        return {
          packets: 1000 * calls,
          bytes: 123_456,
          captureDrops: 2,
          decodeErrors: { tcp: 3, link: 1, bogus: 9, encap: 2 },
          decapsulated: { erspan2: 40, vxlan: 3, 'GRE key 10.0.0.1': 1 },
          encapTooDeep: 1,
          flowsActive: 7,
          flowsByApp: new Map([['dicom', 4], ['hl7', 2], ['10.0.0.1', 1], [fnr, 1]]),
          flowEvictions: 1,
          dicomAssociations: { accepted: 3, rejected: 1 },
          dicomDimse: { 'C-STORE-RQ': 10, 'C-STORE-RSP': 10, 'PATIENT^NAME': 1 },
          hl7Messages: [
            { message_type: 'ADT^A01^ADT_A01', ack_code: 'AA', count: 5 },
            { message_type: 'ZZZ^Z99', ack_code: 'AE', count: 1 },
            { message_type: `${fnr}`, ack_code: 'XX', count: 1 },
          ],
          tlsHandshakes: { 'TLS 1.2': 4, 'TLS 1.0': 1 },
          assetsByZone: { 'mu-radiology': 5, 'bad zone name!': 1 },
        };
      },
    });
    const text = await m.render();
    expect(calls).toBe(1);
    const { samples } = parseProm(text);
    const v = (name: string, labels: Record<string, string> = {}) =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, x]) => s.labels[k] === x))?.value;
    expect(v('muvakt_packets_total')).toBe(1000);
    expect(v('muvakt_flows_active')).toBe(7);
    expect(v('muvakt_decode_errors_total', { layer: 'other' })).toBe(9);
    expect(v('muvakt_decode_errors_total', { layer: 'encap' })).toBe(2);
    expect(v('muvakt_decapsulated_total', { kind: 'erspan2' })).toBe(40);
    expect(v('muvakt_decapsulated_total', { kind: 'other' })).toBe(1);
    expect(v('muvakt_encap_too_deep_total')).toBe(1);
    expect(v('muvakt_flows_total', { app: 'dicom' })).toBe(4);
    expect(v('muvakt_flows_total', { app: 'other' })).toBe(2);
    expect(v('muvakt_dicom_dimse_total', { command: 'other' })).toBe(1);
    expect(v('muvakt_hl7_messages_total', { message_type: 'ADT^A01', ack_code: 'AA' })).toBe(5);
    expect(v('muvakt_hl7_messages_total', { message_type: 'other', ack_code: 'other' })).toBe(1);
    expect(v('muvakt_tls_handshakes_total', { version: 'TLS 1.0' })).toBe(1);
    expect(v('muvakt_assets', { zone: 'other' })).toBe(1);
    expect(text).not.toContain(fnr);
    expect(text).not.toContain('10.0.0.1');
    // a second scrape takes a fresh snapshot (counters are set, not accumulated)
    expect(parseProm(await m.render()).samples.find((s) => s.name === 'muvakt_packets_total')?.value).toBe(2000);
    // what the snapshot does not give has no sample, not a made-up 0 (no syslog: no "disconnected")
    for (const n of ['muvakt_syslog_connected', 'muvakt_syslog_spool_pending_bytes', 'muvakt_store_pending_alerts', 'muvakt_tcp_one_sided_flows_total']) {
      expect(samples.some((s) => s.name === n), n).toBe(false);
    }
  });

  it('caps the number of series per metric', () => {
    const raw = Array.from({ length: 1000 }, (_, i) => ({ labels: { zone: `z${i}` }, value: 1 }));
    const out = boundSamples(['zone'], raw);
    expect(out.length).toBeLessThanOrEqual(201);
    expect(out.reduce((a, s) => a + s.value, 0)).toBe(1000);
  });
});

describe('health and readiness', () => {
  it('/healthz is always 200; /readyz 503 when the store is closed or capture has stopped', async () => {
    let alive = true;
    const f = await fixture(tmp, { captureAlive: () => alive });
    try {
      expect((await f.app.inject({ url: '/readyz' })).json()).toEqual({ status: 'ready', checks: { store: true, capture: true } });
      alive = false;
      const r = await f.app.inject({ url: '/readyz' });
      expect(r.statusCode).toBe(503);
      expect(r.json()).toEqual({ status: 'not ready', checks: { store: true, capture: false } });
      alive = true;
      f.store.close();
      const c = await f.app.inject({ url: '/api/v1/readyz' });
      expect(c.statusCode).toBe(503);
      expect(c.json().checks.store).toBe(false);
      expect((await f.app.inject({ url: '/healthz' })).statusCode).toBe(200);
      // a closed store is a 503 for data routes too, not a 500
      const a = await f.app.inject({ url: '/api/v1/alerts', headers: bearer('viewer') });
      expect(a.statusCode).toBe(503);
      expect(a.json().message).toMatch(/audit log cannot be written/);
      // ... but a scrape is still answered: the monitoring must see the outage
      const m = await f.app.inject({ url: '/metrics', headers: bearer('metrics') });
      expect(m.statusCode).toBe(200);
      expect(m.body).toMatch(/^# TYPE muvakt_http_requests_total/m);
      // the store's figures are unknown, not zero
      expect(m.body).not.toMatch(/^muvakt_alerts_open/m);
    } finally {
      await f.app.close();
    }
  });

  it('/readyz 503 when the store file is read-only', async () => {
    const f = await fixture(tmp);
    await f.app.close();
    f.store.close();
    const ro = SqliteStore.open(f.path);
    const { buildApp } = await import('../../../dashboard-api/app.js');
    const app = await buildApp({ store: { ...bind(ro), kvSet: () => { throw new Error('attempt to write a readonly database'); } }, processMetrics: false });
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(503);
    await app.close();
    ro.close();
  });
});

function bind(s: SqliteStore) {
  return {
    listAlerts: s.listAlerts.bind(s),
    getAlert: s.getAlert.bind(s),
    acknowledge: s.acknowledge.bind(s),
    resolve: s.resolve.bind(s),
    openCounts: s.openCounts.bind(s),
    audit: s.audit.bind(s),
    listAudit: s.listAudit.bind(s),
    kvSet: s.kvSet.bind(s),
    kvGet: s.kvGet.bind(s),
    kvList: s.kvList.bind(s),
    get isOpen() {
      return s.isOpen;
    },
  };
}

describe('OpenAPI and docs', () => {
  it('serves an OpenAPI 3 document with every route and the UI', async () => {
    const f = await fixture(tmp);
    try {
      const doc = (await f.app.inject({ url: '/docs/json' })).json();
      expect(doc.openapi).toMatch(/^3\./);
      for (const p of ['/api/v1/alerts', '/api/v1/alerts/{id}', '/api/v1/alerts/{id}/ack', '/api/v1/alerts/{id}/resolve', '/api/v1/assets', '/api/v1/assets/{id}', '/api/v1/flows/summary', '/api/v1/policy', '/api/v1/audit', '/healthz', '/readyz', '/metrics']) {
        expect(doc.paths[p], p).toBeDefined();
      }
      expect(doc.components.securitySchemes.bearer.scheme).toBe('bearer');
      const ui = await f.app.inject({ url: '/docs/' });
      expect([200, 302]).toContain(ui.statusCode);
    } finally {
      await f.close();
    }
  });
});

describe('privacy: responses carry only declared fields and no fødselsnummer', () => {
  it('the serializer strips fields the store (or a bug) adds; no valid fødselsnummer in any response', async () => {
    const f = await fixture(tmp);
    await f.app.close();
    const fnr = someFnr('150885');
    const leaky = bind(f.store);
    const plant = <T extends object>(a: T) => ({ ...a, patient_name: 'Kari Nordmann', patient_id: fnr, subject: { ...(a as { subject: object }).subject, patient_id: fnr } });
    leaky.listAlerts = async (q) => {
      const p = await f.store.listAlerts(q);
      return { ...p, items: p.items.map(plant) };
    };
    leaky.getAlert = async (id) => {
      const a = await f.store.getAlert(id);
      return a && { ...plant(a), history: a.history.map((h) => ({ ...h, patient_id: fnr })) };
    };
    const { buildApp } = await import('../../../dashboard-api/app.js');
    const { AUTH } = await import('./helpers.js');
    const app = await buildApp({ store: leaky, auth: AUTH, processMetrics: false });
    try {
      const bodies: string[] = [];
      for (const url of ['/api/v1/alerts', `/api/v1/alerts/${f.ids[0]}`, '/api/v1/alerts?sort=severity&limit=2', '/api/v1/audit', '/docs/json']) {
        const r = await app.inject({ url, headers: bearer('admin') });
        expect(r.statusCode, url).toBe(200);
        bodies.push(r.body);
      }
      bodies.push((await app.inject({ method: 'POST', url: `/api/v1/alerts/${f.ids[0]}/ack`, headers: bearer('officer'), payload: { comment: 'ok' } })).body);
      bodies.push((await app.inject({ url: `/api/v1/alerts?zone=${fnr}`, headers: bearer('admin') })).body);
      bodies.push((await app.inject({ url: `/api/v1/alerts?${fnr}=1`, headers: bearer('admin') })).body);
      bodies.push((await app.inject({ url: `/api/v1/audit`, headers: bearer('admin') })).body);
      for (const b of bodies) {
        expect(b).not.toContain('Nordmann');
        expect(b).not.toContain('patient_id');
        expect(b).not.toContain(fnr);
      }
      const one = JSON.parse(bodies[1]);
      expect(Object.keys(one.subject).sort()).toEqual(['dst_ip', 'src_ip', 'zone_dst', 'zone_src']);
    } finally {
      await app.close();
      f.store.close();
    }
  });
});

describe('plain-HTTP guard and listen addresses', () => {
  it('plain HTTP only on loopback unless allowed; TLS anywhere', () => {
    expect(plainHttpRefusal({ host: '127.0.0.1', tls: false, allowPlainHttp: false })).toBeNull();
    expect(plainHttpRefusal({ host: '::1', tls: false, allowPlainHttp: false })).toBeNull();
    expect(plainHttpRefusal({ host: 'localhost', tls: false, allowPlainHttp: false })).toBeNull();
    expect(plainHttpRefusal({ host: '0.0.0.0', tls: false, allowPlainHttp: false })).toMatch(/--tls-cert.*--allow-plain-http/);
    expect(plainHttpRefusal({ host: '::', tls: false, allowPlainHttp: false })).not.toBeNull();
    expect(plainHttpRefusal({ host: '10.77.1.5', tls: false, allowPlainHttp: false })).not.toBeNull();
    expect(plainHttpRefusal({ host: '10.77.1.5', tls: true, allowPlainHttp: false })).toBeNull();
    expect(plainHttpRefusal({ host: '0.0.0.0', tls: false, allowPlainHttp: true })).toBeNull();
    expect(isLoopback('127.8.9.10')).toBe(true);
    expect(isLoopback('::ffff:127.0.0.1')).toBe(true);
    expect(isLoopback('128.0.0.1')).toBe(false);
  });

  it('parses HOST:PORT, [v6]:PORT and :PORT', () => {
    expect(parseListen('0.0.0.0:8443')).toEqual({ host: '0.0.0.0', port: 8443 });
    expect(parseListen('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
    expect(parseListen(':8470')).toEqual({ host: '127.0.0.1', port: 8470 });
    expect(parseListen('sensor.local:80')).toEqual({ host: 'sensor.local', port: 80 });
    for (const bad of ['8470', 'host:', 'host:99999', '[zz]:1', '::1:80', 'a b:1']) expect(typeof parseListen(bad), bad).toBe('string');
  });
});
