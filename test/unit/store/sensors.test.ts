/**
 * Sensor names in the store: several sensors write to one store; the same flow seen by two
 * sensors (overlapping mirror ports) is one alert listing both, a device seen by two is one
 * device with a sighting per sensor, and listings filter by sensor.
 */
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_SENSORS_PER_ALERT, mergeSensors } from '../../../agent/store/query.js';
import { MIGRATIONS, migrate } from '../../../agent/store/schema.js';
import { defaultSensorName, isSensorName, sensorNameProblem } from '../../../agent/store/sensor-name.js';
import { SqliteStore } from '../../../agent/store/sqlite-store.js';
import type { Store } from '../../../agent/store/store.js';
import type { DeviceRow } from '../../../agent/store/types.js';
import { BACKENDS, setupBackends } from './backends.js';
import { T0, cand, iso, someFnr, tempDir } from './helpers.js';

const tmp = tempDir('muvakt-sensors-');
afterAll(() => tmp.cleanup());
setupBackends();

function device(id: string, firstMs: number, lastMs: number): DeviceRow {
  return {
    id,
    zone: 'mu-radiology',
    role: 'modality',
    score: 10,
    level: 'medium',
    firstSeenMs: firstMs,
    lastSeenMs: lastMs,
    summary: { id, zone: 'mu-radiology', first_seen: iso(firstMs - T0), last_seen: iso(lastMs - T0) },
    detail: { id, facts: [] },
  };
}

describe('sensor names', () => {
  it('are short printable names without spaces; the host name is made into one', () => {
    for (const ok of ['bygg-a', 'sensor01', 'ahus.radiologi', 'a', 'x'.repeat(63), 'span@sw1:ge0-1']) expect(isSensorName(ok)).toBe(true);
    for (const bad of ['', ' a', 'bygg a', '-a', 'x'.repeat(64), 'æøå', 'a/b', 'a,b', someFnr('010190')]) {
      expect(isSensorName(bad)).toBe(false);
      expect(sensorNameProblem(bad)).toMatch(/sensor name/);
    }
    expect(sensorNameProblem('bygg-a')).toBeNull();
    expect(defaultSensorName('bygg-a.sykehus.local')).toBe('bygg-a.sykehus.local');
    expect(defaultSensorName('My Laptop')).toBe('MyLaptop');
    expect(defaultSensorName('__')).toBe('sensor');
    expect(isSensorName(defaultSensorName())).toBe(true);
  });

  it('the list of sensors per alert is bounded', () => {
    let known: string[] = [];
    for (let i = 0; i < 100; i++) known = mergeSensors(known, `s${String(i).padStart(3, '0')}`);
    expect(known).toHaveLength(MAX_SENSORS_PER_ALERT);
    expect(mergeSensors(known, 's000')).toEqual(known);
  });
});

describe.each(BACKENDS)('two sensors, one store, on $name', (be) => {
  it('a store refuses an invalid sensor name', async () => {
    await expect(be.open(await be.fresh(), { sensor: 'bygg a' })).rejects.toThrow(/not a sensor name/);
  });

  it('the same finding from two sensors is one alert listing both; listings filter by sensor', async () => {
    const path = await be.fresh();
    const a = await be.open(path, { sensor: 'bygg-a', now: () => T0 });
    const b = await be.open(path, { sensor: 'bygg-b', now: () => T0 });
    const shared = cand(1);
    const ra = await a.upsertAlerts([shared, cand(2)]);
    expect(ra.created.map((x) => x.sensors)).toEqual([['bygg-a'], ['bygg-a']]);
    const rb = await b.upsertAlerts([{ ...shared, ts: iso(5000) }, cand(3)]);
    expect(rb.updated).toHaveLength(1);
    const sharedId = ra.created.find((x) => x.subject.src_ip === shared.subject.src_ip)!.id;
    expect(rb.updated[0]).toMatchObject({ id: sharedId, count: 2, sensors: ['bygg-a', 'bygg-b'] });
    // The sensor is not part of the identity: one row for the shared flow.
    expect((await a.listAlerts()).items).toHaveLength(3);
    await a.upsertAlerts([shared]); // a sensor already listed is not listed twice
    expect((await a.getAlert(sharedId))!.sensors).toEqual(['bygg-a', 'bygg-b']);

    const ids = async (q: Parameters<Store['listAlerts']>[0]) => (await a.listAlerts(q)).items.map((x) => x.subject.src_ip).sort();
    expect(await ids({ sensor: 'bygg-b' })).toEqual([cand(1).subject.src_ip, cand(3).subject.src_ip].sort());
    expect(await ids({ sensor: 'bygg-a' })).toEqual([cand(1).subject.src_ip, cand(2).subject.src_ip].sort());
    expect(await ids({ sensor: ['bygg-a', 'bygg-b'] })).toHaveLength(3);
    expect(await ids({ sensor: 'bygg-c' })).toEqual([]);
    // Paging with a sensor filter: the cursor belongs to that filter.
    const p1 = await a.listAlerts({ sensor: ['bygg-a', 'bygg-b'], limit: 2 });
    expect(p1.items).toHaveLength(2);
    const p2 = await a.listAlerts({ sensor: ['bygg-a', 'bygg-b'], limit: 2, cursor: p1.next_cursor });
    expect(p2.items).toHaveLength(1);
    expect(p2.next_cursor).toBeNull();
    await expect(a.listAlerts({ sensor: 'bygg-b', cursor: p1.next_cursor })).rejects.toThrow(/different query/);
    await a.close();
    await b.close();
  });

  it('a device seen by two sensors is one device with a sighting per sensor', async () => {
    const path = await be.fresh();
    const a = await be.open(path, { sensor: 'bygg-a' });
    const b = await be.open(path, { sensor: 'bygg-b' });
    await a.saveDevices([device('mac:00:11:22:33:44:55', T0, T0 + 1000), device('ip:10.0.0.9', T0, T0 + 10)]);
    await b.saveDevices([device('mac:00:11:22:33:44:55', T0 + 500, T0 + 9000)]);
    const all = (await a.listDevices()).items as { id: string; sensors: string[] }[];
    expect(all.map((d) => [d.id, d.sensors])).toEqual([
      ['ip:10.0.0.9', ['bygg-a']],
      ['mac:00:11:22:33:44:55', ['bygg-a', 'bygg-b']],
    ]);
    expect(((await a.listDevices({ sensor: 'bygg-b' })).items as { id: string }[]).map((d) => d.id)).toEqual(['mac:00:11:22:33:44:55']);
    expect((await a.listDevices({ sensor: ['bygg-a', 'bygg-b'] })).items).toHaveLength(2);
    const detail = await a.getDevice('mac:00:11:22:33:44:55') as { sensors: string[]; sightings: { sensor: string; first_seen: string; last_seen: string }[] };
    expect(detail.sightings).toEqual([
      { sensor: 'bygg-a', first_seen: iso(0), last_seen: iso(1000) },
      { sensor: 'bygg-b', first_seen: iso(500), last_seen: iso(9000) },
    ]);
    // A later save widens the sighting, never narrows it.
    await a.saveDevices([device('mac:00:11:22:33:44:55', T0 + 200, T0 + 20_000)]);
    expect((await a.getDevice('mac:00:11:22:33:44:55') as typeof detail).sightings[0]).toEqual({ sensor: 'bygg-a', first_seen: iso(0), last_seen: iso(20_000) });
    await a.close();
    await b.close();
  });

  it('audit rows name the instance that wrote them', async () => {
    const path = await be.fresh();
    const apiA = await be.open(path, { sensor: 'api-a' });
    const apiB = await be.open(path, { sensor: 'api-b' });
    await apiA.audit({ actor: 'eva', role: 'viewer', action: 'alerts.list', query: {} });
    await apiB.audit({ actor: 'eva', role: 'viewer', action: 'alerts.list', query: {} });
    expect((await apiA.listAudit()).items.map((r) => r.sensor)).toEqual(['api-b', 'api-a']);
    expect((await apiA.listAudit({ sensor: 'api-a' })).items.map((r) => r.sensor)).toEqual(['api-a']);
    await apiA.close();
    await apiB.close();
  });
});

describe('a SQLite store from before sensor names', () => {
  it('a SQLite store from before sensor names is upgraded: its alerts list no sensor, new sightings add one', async () => {
    const path = tmp.db();
    const db = new Database(path);
    migrate(db, MIGRATIONS.slice(0, 2));
    db.prepare(
      `INSERT INTO alerts (id, rule_id, title, severity, sev_rank, guide_refs, first_seen, first_seen_ms, last_seen, last_seen_ms, count, status,
         subject, src_ip, dst_ip, zone_src, zone_dst, device_id, evidence, recommendation, updated_at)
       VALUES ('0123456789abcdef0123456789abcdef', 'r', 't', 'low', 1, '[]', ?, ?, ?, ?, 1, 'open', '{"src_ip":"a","dst_ip":"b","zone_src":"x","zone_dst":"y"}',
         'a', 'b', 'x', 'y', NULL, '{}', 'r', ?)`,
    ).run(iso(0), T0, iso(0), T0, iso(0));
    db.close();
    const s = SqliteStore.open(path, { sensor: 'bygg-a', pruneOnOpen: false });
    expect((await s.getAlert('0123456789abcdef0123456789abcdef'))!.sensors).toEqual([]);
    const r = await s.upsertAlerts([cand(4)]);
    expect(r.created[0].sensors).toEqual(['bygg-a']);
    await s.close();
  });
});
