/**
 * Sensor names through the API: alerts and assets list the sensors that saw them and filter by
 * `sensor=` (comma lists like the other filters); audit rows name the replica that wrote them;
 * the OpenAPI document declares it all.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore, type DeviceRow } from '../../../agent/store/index.js';
import { buildApp } from '../../../dashboard-api/app.js';
import { storeAssets } from '../../../dashboard-api/routes/assets.js';
import { AUTH, T0, bearer, seedCandidates, tempDir } from './helpers.js';

const tmp = tempDir('muvakt-api-sensors-');
afterAll(() => tmp.cleanup());

function device(id: string): DeviceRow {
  const t = new Date(T0).toISOString();
  return {
    id,
    zone: 'mu-radiology',
    role: 'modality',
    score: 5,
    level: 'low',
    firstSeenMs: T0,
    lastSeenMs: T0,
    summary: { id, mac: null, ips: ['10.77.10.1'], vendor: null, names: [], zone: 'mu-radiology', role: 'modality', scenario: null, exposure: { score: 5, level: 'low', reasons: [] }, first_seen: t, last_seen: t },
    detail: { id },
  };
}

describe('sensor names in the API', () => {
  it('alerts and assets: listed sensors, sensor= filter with comma lists; audit names the replica', async () => {
    const path = tmp.db();
    const a = SqliteStore.open(path, { sensor: 'bygg-a' });
    const b = SqliteStore.open(path, { sensor: 'bygg-b' });
    const seed = seedCandidates();
    await a.upsertAlerts(seed.slice(0, 4));
    await b.upsertAlerts(seed.slice(3)); // seed[3] seen by both
    await a.saveDevices([device('mac:00:00:5e:00:53:01'), device('ip:10.77.10.2')]);
    await b.saveDevices([device('mac:00:00:5e:00:53:01')]);
    const api = SqliteStore.open(path, { sensor: 'api-a' });
    const app = await buildApp({ store: api, auth: AUTH, processMetrics: false, assets: storeAssets(api) });
    const get = async (url: string) => {
      const r = await app.inject({ url, headers: bearer('admin') });
      expect(r.statusCode, r.body).toBe(200);
      return r.json() as { items: { sensors: string[]; id: string }[]; next_cursor: string | null };
    };

    const all = await get('/api/v1/alerts?limit=100');
    expect(all.items).toHaveLength(6);
    expect(all.items.filter((x) => x.sensors.length === 2)).toHaveLength(1);
    expect(all.items.find((x) => x.sensors.length === 2)!.sensors).toEqual(['bygg-a', 'bygg-b']);
    expect((await get('/api/v1/alerts?sensor=bygg-b')).items).toHaveLength(3);
    expect((await get('/api/v1/alerts?sensor=bygg-a')).items).toHaveLength(4);
    expect((await get('/api/v1/alerts?sensor=bygg-a,bygg-b')).items).toHaveLength(6);
    expect((await get('/api/v1/alerts?sensor=bygg-a&sensor=bygg-b')).items).toHaveLength(6);
    expect((await get('/api/v1/alerts?sensor=nowhere')).items).toHaveLength(0);
    const bad = await app.inject({ url: '/api/v1/alerts?sensor=has%20space', headers: bearer('admin') });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/sensor/);
    const csv = await app.inject({ url: '/api/v1/alerts.csv?sensor=bygg-b', headers: bearer('admin') });
    expect(csv.body.split('\r\n')[0]).toMatch(/,sensors,accepted_until$/);
    expect(csv.body).toMatch(/,bygg-a; bygg-b,\r\n/);

    const assets = await get('/api/v1/assets');
    expect(assets.items.map((d) => [d.id, d.sensors])).toEqual([
      ['ip:10.77.10.2', ['bygg-a']],
      ['mac:00:00:5e:00:53:01', ['bygg-a', 'bygg-b']],
    ]);
    expect((await get('/api/v1/assets?sensor=bygg-b')).items.map((d) => d.id)).toEqual(['mac:00:00:5e:00:53:01']);
    expect((await get('/api/v1/assets?sensor=bygg-a,bygg-b')).items).toHaveLength(2);
    const detail = await app.inject({ url: '/api/v1/assets/mac:00:00:5e:00:53:01', headers: bearer('admin') });
    expect(detail.json().sightings.map((s: { sensor: string }) => s.sensor)).toEqual(['bygg-a', 'bygg-b']);

    const audit = (await get('/api/v1/audit?sensor=api-a&limit=5')) as unknown as { items: { sensor: string; action: string }[] };
    expect(audit.items.length).toBeGreaterThan(0);
    expect(new Set(audit.items.map((r) => r.sensor))).toEqual(new Set(['api-a']));
    expect((await get('/api/v1/audit?sensor=api-b')).items).toHaveLength(0);

    // The OpenAPI document declares the field and the filters (the Alert schema is a shared component).
    const docText = (await app.inject({ url: '/docs/json' })).body;
    const doc = JSON.parse(docText) as { components: { schemas: Record<string, { title?: string; $id?: string; properties?: Record<string, unknown> }> }; paths: Record<string, { get: { parameters: { name: string }[] } }> };
    const alertSchema = Object.values(doc.components.schemas).find((x) => x.properties?.rule_id !== undefined && x.properties?.history === undefined);
    expect(alertSchema?.properties?.sensors).toEqual(expect.objectContaining({ type: 'array' }));
    expect(docText).toMatch(/Every sensor that saw the device/);
    expect(doc.paths['/api/v1/alerts'].get.parameters.map((p) => p.name)).toContain('sensor');
    expect(doc.paths['/api/v1/assets'].get.parameters.map((p) => p.name)).toContain('sensor');
    expect(doc.paths['/api/v1/audit'].get.parameters.map((p) => p.name)).toContain('sensor');

    await app.close();
    for (const s of [a, b, api]) await s.close();
  });
});
