/**
 * Sensor names in the store: several sensors write to one store; the same flow seen by two
 * sensors (overlapping mirror ports) is one alert listing both, a device seen by two is one
 * device with a sighting per sensor, and listings filter by sensor.
 */
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS, migrate } from '../../../agent/store/schema.js';
import { defaultSensorName, isSensorName, sensorNameProblem } from '../../../agent/store/sensor-name.js';
import { SqliteStore, MAX_SENSORS_PER_ALERT, mergeSensors } from '../../../agent/store/sqlite-store.js';
import type { DeviceRow } from '../../../agent/store/types.js';
import { T0, cand, iso, someFnr, tempDir } from './helpers.js';

const tmp = tempDir('muvakt-sensors-');
afterAll(() => tmp.cleanup());

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

  it('a store refuses an invalid sensor name', () => {
    expect(() => SqliteStore.open(':memory:', { sensor: 'bygg a' })).toThrow(/not a sensor name/);
  });
});

describe('two sensors, one store', () => {
  it('the same finding from two sensors is one alert listing both; listings filter by sensor', () => {
    const path = tmp.db();
    const a = SqliteStore.open(path, { sensor: 'bygg-a', now: () => T0 });
    const b = SqliteStore.open(path, { sensor: 'bygg-b', now: () => T0 });
    const shared = cand(1);
    const ra = a.upsertAlerts([shared, cand(2)]);
    expect(ra.created.map((x) => x.sensors)).toEqual([['bygg-a'], ['bygg-a']]);
    const rb = b.upsertAlerts([{ ...shared, ts: iso(5000) }, cand(3)]);
    expect(rb.updated).toHaveLength(1);
    expect(rb.updated[0]).toMatchObject({ id: ra.created[0].id, count: 2, sensors: ['bygg-a', 'bygg-b'] });
    // The sensor is not part of the identity: one row for the shared flow.
    expect(a.listAlerts().items).toHaveLength(3);
    a.upsertAlerts([shared]); // a sensor already listed is not listed twice
    expect(a.getAlert(ra.created[0].id)!.sensors).toEqual(['bygg-a', 'bygg-b']);

    const ids = (q: Parameters<SqliteStore['listAlerts']>[0]) => a.listAlerts(q).items.map((x) => x.subject.src_ip).sort();
    expect(ids({ sensor: 'bygg-b' })).toEqual([cand(1).subject.src_ip, cand(3).subject.src_ip].sort());
    expect(ids({ sensor: 'bygg-a' })).toEqual([cand(1).subject.src_ip, cand(2).subject.src_ip].sort());
    expect(ids({ sensor: ['bygg-a', 'bygg-b'] })).toHaveLength(3);
    expect(ids({ sensor: 'bygg-c' })).toEqual([]);
    // Paging with a sensor filter: the cursor belongs to that filter.
    const p1 = a.listAlerts({ sensor: ['bygg-a', 'bygg-b'], limit: 2 });
    expect(p1.items).toHaveLength(2);
    const p2 = a.listAlerts({ sensor: ['bygg-a', 'bygg-b'], limit: 2, cursor: p1.next_cursor });
    expect(p2.items).toHaveLength(1);
    expect(p2.next_cursor).toBeNull();
    expect(() => a.listAlerts({ sensor: 'bygg-b', cursor: p1.next_cursor })).toThrow(/different query/);
    a.close();
    b.close();
  });

  it('a device seen by two sensors is one device with a sighting per sensor', () => {
    const path = tmp.db();
    const a = SqliteStore.open(path, { sensor: 'bygg-a' });
    const b = SqliteStore.open(path, { sensor: 'bygg-b' });
    a.saveDevices([device('mac:00:11:22:33:44:55', T0, T0 + 1000), device('ip:10.0.0.9', T0, T0 + 10)]);
    b.saveDevices([device('mac:00:11:22:33:44:55', T0 + 500, T0 + 9000)]);
    const all = a.listDevices().items as { id: string; sensors: string[] }[];
    expect(all.map((d) => [d.id, d.sensors])).toEqual([
      ['ip:10.0.0.9', ['bygg-a']],
      ['mac:00:11:22:33:44:55', ['bygg-a', 'bygg-b']],
    ]);
    expect((a.listDevices({ sensor: 'bygg-b' }).items as { id: string }[]).map((d) => d.id)).toEqual(['mac:00:11:22:33:44:55']);
    expect(a.listDevices({ sensor: ['bygg-a', 'bygg-b'] }).items).toHaveLength(2);
    const detail = a.getDevice('mac:00:11:22:33:44:55') as { sensors: string[]; sightings: { sensor: string; first_seen: string; last_seen: string }[] };
    expect(detail.sightings).toEqual([
      { sensor: 'bygg-a', first_seen: iso(0), last_seen: iso(1000) },
      { sensor: 'bygg-b', first_seen: iso(500), last_seen: iso(9000) },
    ]);
    // A later save widens the sighting, never narrows it.
    a.saveDevices([device('mac:00:11:22:33:44:55', T0 + 200, T0 + 20_000)]);
    expect((a.getDevice('mac:00:11:22:33:44:55') as typeof detail).sightings[0]).toEqual({ sensor: 'bygg-a', first_seen: iso(0), last_seen: iso(20_000) });
    a.close();
    b.close();
  });

  it('audit rows name the instance that wrote them', () => {
    const path = tmp.db();
    const apiA = SqliteStore.open(path, { sensor: 'api-a' });
    const apiB = SqliteStore.open(path, { sensor: 'api-b' });
    apiA.audit({ actor: 'eva', role: 'viewer', action: 'alerts.list', query: {} });
    apiB.audit({ actor: 'eva', role: 'viewer', action: 'alerts.list', query: {} });
    expect(apiA.listAudit().items.map((r) => r.sensor)).toEqual(['api-b', 'api-a']);
    expect(apiA.listAudit({ sensor: 'api-a' }).items.map((r) => r.sensor)).toEqual(['api-a']);
    apiA.close();
    apiB.close();
  });

  it('the list of sensors per alert is bounded', () => {
    let known: string[] = [];
    for (let i = 0; i < 100; i++) known = mergeSensors(known, `s${String(i).padStart(3, '0')}`);
    expect(known).toHaveLength(MAX_SENSORS_PER_ALERT);
    expect(mergeSensors(known, 's000')).toEqual(known);
  });

  it('a store from before sensor names is upgraded: its alerts list no sensor, new sightings add one', () => {
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
    expect(s.getAlert('0123456789abcdef0123456789abcdef')!.sensors).toEqual([]);
    const r = s.upsertAlerts([cand(4)]);
    expect(r.created[0].sensors).toEqual(['bygg-a']);
    s.close();
  });
});
