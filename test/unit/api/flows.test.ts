import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowHistoryRow } from '../../../agent/store/index.js';
import { AUTH, T0, bearer, fixture, tempDir, type Fixture } from './helpers.js';

const MIN5 = 300_000;
/** 2026-03-01 is a Sunday in winter time: Oslo is UTC+1, so its day runs 23:00Z–23:00Z. */
const OSLO_DAY_START = Date.parse('2026-02-28T23:00:00Z');

function row(atMs: number, over: Partial<FlowHistoryRow> = {}): FlowHistoryRow {
  return { bucketMs: atMs - (atMs % MIN5), bucketSeconds: 300, sensor: 'sensor-a', zoneSrc: 'MU', zoneDst: 'pacs', app: 'dicom', encrypted: false, bytes: 1000, flows: 2, phiFlows: 1, ...over };
}

describe('GET /api/v1/flows/summary: the zone matrix from the stored flow history', () => {
  const tmp = tempDir('muvakt-api-flows-');
  let f: Fixture;
  const get = async (url: string, role: 'viewer' | 'officer' | 'admin' = 'viewer') => {
    const r = await f.app.inject({ url, headers: bearer(role) });
    return { code: r.statusCode, body: r.json() };
  };

  beforeAll(async () => {
    f = await fixture(tmp);
    await f.store.addFlowHistory([
      row(T0 + 10 * 60_000),
      row(T0 + 10 * 60_000, { sensor: 'sensor-b', bytes: 500, flows: 1, phiFlows: 0 }),
      row(T0 + 20 * 60_000, { app: 'tls', encrypted: true, zoneDst: 'external', bytes: 70, flows: 1, phiFlows: 0 }),
      row(OSLO_DAY_START - MIN5, { app: 'hl7', zoneSrc: 'lab', zoneDst: 'his', bytes: 3, flows: 1, phiFlows: 1 }), // the Oslo day before
    ]);
  });
  afterAll(async () => {
    await f.close();
    tmp.cleanup();
  });

  it('sums every sensor over everything stored by default, and says what the store holds', async () => {
    const { code, body } = await get('/api/v1/flows/summary');
    expect(code).toBe(200);
    expect(body.items).toEqual([
      { zone_src: 'MU', zone_dst: 'pacs', app: 'dicom', encrypted: false, bytes: 1500, flows: 3, phi: 1 },
      { zone_src: 'MU', zone_dst: 'external', app: 'tls', encrypted: true, bytes: 70, flows: 1, phi: 0 },
      { zone_src: 'lab', zone_dst: 'his', app: 'hl7', encrypted: false, bytes: 3, flows: 1, phi: 1 },
    ]);
    expect(body.extent).toEqual({ sensors: ['sensor-a', 'sensor-b'], from: '2026-02-28T22:55:00.000000Z', to: '2026-03-01T00:25:00.000000Z', bucket_seconds: 300 });
    expect([body.from, body.to, body.truncated]).toEqual(['2026-02-28T22:55:00.000000Z', '2026-03-01T00:25:00.000000Z', false]);
    expect(Date.parse(body.generated_at)).toBeGreaterThan(0);
  });

  it('since/until take ISO times, epoch ms and plain dates (a day in Europe/Oslo); sensor picks one sensor', async () => {
    const day = await get('/api/v1/flows/summary?since=2026-03-01&until=2026-03-01');
    expect(day.body.items.map((i: { app: string }) => i.app).sort()).toEqual(['dicom', 'tls']);
    expect([day.body.from, day.body.to]).toEqual(['2026-03-01T00:10:00.000000Z', '2026-03-01T00:25:00.000000Z']); // the buckets summed
    const before = await get('/api/v1/flows/summary?until=2026-02-28');
    expect(before.body.items).toEqual([{ zone_src: 'lab', zone_dst: 'his', app: 'hl7', encrypted: false, bytes: 3, flows: 1, phi: 1 }]);
    const window = await get(`/api/v1/flows/summary?since=${encodeURIComponent(new Date(T0 + 15 * 60_000).toISOString())}&until=${T0 + 30 * 60_000}`);
    expect(window.body.items.map((i: { app: string }) => i.app)).toEqual(['tls']);
    const b = await get('/api/v1/flows/summary?sensor=sensor-b');
    expect(b.body.items).toEqual([{ zone_src: 'MU', zone_dst: 'pacs', app: 'dicom', encrypted: false, bytes: 500, flows: 1, phi: 0 }]);
    expect(b.body.extent.sensors).toEqual(['sensor-a', 'sensor-b']);
    const none = await get('/api/v1/flows/summary?since=2027-01-01');
    expect([none.code, none.body.items, none.body.from]).toEqual([200, [], null]);
  });

  it('bad ranges and sensor names are a 400 naming the field', async () => {
    for (const [q, msg] of [
      ['since=2026-02-30', /since: 2026-02-30 is not a calendar date/],
      ['since=last-week', /since: expected an ISO 8601 time/],
      ['since=2026-03-02&until=2026-03-01', /until: is before since/],
      ['sensor=a%20b', /sensor/],
      ['limit=5', /limit|additional/i],
    ] as const) {
      const r = await get(`/api/v1/flows/summary?${q}`);
      expect(r.code, q).toBe(400);
      expect(r.body.message, q).toMatch(msg);
    }
  });

  it('is for viewers and up, and every read is audited with its query', async () => {
    const anon = await f.app.inject({ url: '/api/v1/flows/summary' });
    expect(anon.statusCode).toBe(401);
    await get('/api/v1/flows/summary?sensor=sensor-a&since=2026-03-01', 'officer');
    const audit = (await f.store.listAudit({ action: 'flows.summary', limit: 1 })).items[0];
    expect(audit).toMatchObject({ actor: 'sikkerhetsleder', role: 'officer', query: { query: { sensor: 'sensor-a', since: '2026-03-01' } } });
    expect(AUTH.tokens.some((t) => t.role === 'viewer')).toBe(true);
  });

  it('is in the OpenAPI document with its query parameters and response schema', async () => {
    const doc = (await f.app.inject({ url: '/docs/json' })).json();
    const op = doc.paths['/api/v1/flows/summary'].get;
    expect(op.parameters.map((p: { name: string }) => p.name).sort()).toEqual(['sensor', 'since', 'until']);
    const schema = JSON.stringify(op.responses['200']);
    for (const field of ['zone_src', 'zone_dst', 'encrypted', 'bytes', 'flows', 'phi', 'extent', 'truncated']) expect(schema).toContain(field);
  });
});

describe('GET /api/v1/assets/:id/flows and /api/v1/flows/peers: address pairs over time', () => {
  const tmp = tempDir('muvakt-api-peers-');
  let f: Fixture;
  const HOUR = 3_600_000;
  const peer = (hour: number, over: Partial<FlowHistoryRow> = {}): FlowHistoryRow => ({
    ...row(T0),
    bucketMs: T0 + hour * HOUR,
    bucketSeconds: 3600,
    clientIp: '10.77.10.50',
    serverIp: '10.77.20.9',
    ...over,
  });
  const get = async (url: string) => {
    const r = await f.app.inject({ url, headers: bearer('viewer') });
    return { code: r.statusCode, body: r.json() };
  };

  beforeAll(async () => {
    const devices: Record<string, Record<string, unknown>> = {
      'mac:00:1b:44:11:3a:b7': { id: 'mac:00:1b:44:11:3a:b7', addresses: [{ ip: '10.77.10.50' }, { ip: '10.77.10.51' }] },
      'ip:10.77.99.1': { id: 'ip:10.77.99.1', addresses: [] },
    };
    f = await fixture(tmp, { assets: { list: async () => ({ items: [], next_cursor: null }), get: async (id) => devices[id] ?? null } });
    await f.store.addFlowHistory([
      peer(0),
      peer(1, { bytes: 10, flows: 1, phiFlows: 0 }),
      peer(1, { clientIp: '198.51.100.7', serverIp: '10.77.10.51', zoneSrc: 'external', zoneDst: 'MU', app: 'vnc', bytes: 400, flows: 1, phiFlows: 0 }),
      peer(5, { clientIp: '10.77.30.5', zoneSrc: 'lab', app: 'hl7', bytes: 3, flows: 1, phiFlows: 0 }),
      peer(24 * 4, { bytes: 1, flows: 1, phiFlows: 0 }),
    ]);
  });
  afterAll(async () => {
    await f.close();
    tmp.cleanup();
  });

  it("a device's pairs on any of its addresses, by app and encryption, with a series per hour or per Oslo day", async () => {
    const all = await get(`/api/v1/assets/${encodeURIComponent('mac:00:1b:44:11:3a:b7')}/flows`);
    expect(all.code).toBe(200);
    expect(all.body.addresses).toEqual(['10.77.10.50', '10.77.10.51']);
    expect(all.body.items.map((i: { client_ip: string; server_ip: string; app: string; flows: number; bytes: number }) => [i.client_ip, i.server_ip, i.app, i.flows, i.bytes])).toEqual([
      ['10.77.10.50', '10.77.20.9', 'dicom', 4, 1011],
      ['198.51.100.7', '10.77.10.51', 'vnc', 1, 400],
    ]);
    expect(all.body.items[0]).toMatchObject({ first_seen: '2026-03-01T00:00:00.000000Z', last_seen: '2026-03-05T01:00:00.000000Z', phi: 1, encrypted: false });
    // Four days: per day in Oslo (T0 is 01:00 there).
    expect(all.body.step).toBe('day');
    expect(all.body.series).toEqual([
      { start: '2026-03-01', flows: 4, bytes: 1410 },
      { start: '2026-03-05', flows: 1, bytes: 1 },
    ]);
    const day = await get(`/api/v1/assets/${encodeURIComponent('mac:00:1b:44:11:3a:b7')}/flows?until=${T0 + 2 * HOUR - 1}`);
    expect(day.body.step).toBe('hour');
    expect(day.body.series).toEqual([
      { start: '2026-03-01T00:00:00.000000Z', flows: 2, bytes: 1000 },
      { start: '2026-03-01T01:00:00.000000Z', flows: 2, bytes: 410 },
    ]);
    const none = await get('/api/v1/assets/ip:10.77.99.1/flows');
    expect([none.code, none.body.items, none.body.series, none.body.from]).toEqual([200, [], [], null]);
    expect((await get('/api/v1/assets/ip:10.1.1.1/flows')).code).toBe(404);
    expect((await get(`/api/v1/assets/${encodeURIComponent('mac:00:1b:44:11:3a:b7')}/flows?since=yesterday`)).code).toBe(400);
  });

  it("one matrix cell's pairs; both zones are required; audited", async () => {
    const cell = await get('/api/v1/flows/peers?zone_src=MU&zone_dst=pacs');
    expect(cell.code).toBe(200);
    expect(cell.body.items.map((i: { client_ip: string; app: string }) => `${i.client_ip} ${i.app}`)).toEqual(['10.77.10.50 dicom']);
    expect((await get('/api/v1/flows/peers?zone_src=lab&zone_dst=pacs')).body.items.map((i: { app: string }) => i.app)).toEqual(['hl7']);
    expect((await get('/api/v1/flows/peers?zone_src=MU')).code).toBe(400);
    expect((await get('/api/v1/flows/peers?zone_src=MU&zone_dst=%27x')).code).toBe(400);
    const audit = (await f.store.listAudit({ action: 'flows.peers' })).items;
    expect(audit.length).toBeGreaterThanOrEqual(2);
    expect((await f.store.listAudit({ action: 'assets.flows' })).items.length).toBeGreaterThanOrEqual(1);
  });
});
