import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../../agent/store/sqlite-store.js';
import { MIGRATIONS, type Migration } from '../../../agent/store/schema.js';
import { AlertTransitionError, StoreInputError, type Alert, type AlertQuery } from '../../../agent/store/types.js';
import { alertId, boundEvidence, parseTs, safeJson } from '../../../agent/store/values.js';
import { T0, cand, iso, subject, tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** A store whose clock is fixed near the test data, so prune-at-open keeps it. */
function open(path = tmp.db(), now = () => T0 + 86_400_000) {
  return SqliteStore.open(path, { now });
}

function pageAll(store: SqliteStore, q: AlertQuery, between?: (page: number) => void): Alert[] {
  const out: Alert[] = [];
  let cursor: string | null = null;
  let page = 0;
  do {
    const r = store.listAlerts({ ...q, cursor });
    out.push(...r.items);
    cursor = r.next_cursor;
    between?.(page++);
  } while (cursor !== null);
  return out;
}

describe('SqliteStore: pragmas and schema', () => {
  it('opens in WAL with synchronous=NORMAL, foreign keys and secure delete', () => {
    const path = tmp.db();
    const s = open(path);
    s.close();
    const db = new Database(path);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('application_id', { simple: true })).toBe(0x4d55564b);
    expect(db.pragma('auto_vacuum', { simple: true })).toBe(2); // incremental
    const tables = (db.prepare("SELECT name FROM sqlite_schema WHERE type='table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    expect(tables).toEqual(expect.arrayContaining(['alerts', 'alert_history', 'audit_log', 'kv', 'schema_version']));
    db.close();
  });

  it('re-opening runs no migration twice; an older file is upgraded in order', () => {
    const path = tmp.db();
    let v1Runs = 0;
    const v1: Migration = { ...MIGRATIONS[0], up: (db) => (v1Runs++, MIGRATIONS[0].up(db)) };
    SqliteStore.open(path, { migrations: [MIGRATIONS[0]], now: () => T0 }).close(); // real v1
    SqliteStore.open(path, { migrations: [v1], now: () => T0 }).close();
    expect(v1Runs).toBe(0);

    let v2Runs = 0;
    const v2: Migration = { version: 2, name: 'test column', up: (db) => (v2Runs++, db.exec('ALTER TABLE alerts ADD COLUMN note TEXT')) };
    const s = SqliteStore.open(path, { migrations: [v1, v2], now: () => T0 });
    s.upsertAlerts([cand(1)]);
    s.close();
    SqliteStore.open(path, { migrations: [v1, v2], now: () => T0 }).close();
    expect([v1Runs, v2Runs]).toEqual([0, 1]);

    const db = new Database(path);
    expect(db.prepare('SELECT version, name FROM schema_version ORDER BY version').all()).toEqual([
      { version: 1, name: MIGRATIONS[0].name },
      { version: 2, name: 'test column' },
    ]);
    expect((db.prepare('SELECT count(*) AS n FROM alerts').get() as { n: number }).n).toBe(1);
    db.close();

    // A file from a newer muvakt is refused, not silently used.
    expect(() => SqliteStore.open(path, { migrations: [MIGRATIONS[0]] })).toThrow(/schema version 2 is newer/);
  });

  it('a failing migration leaves the previous version and applies on the next open', () => {
    const path = tmp.db();
    open(path).close();
    const bad: Migration = { version: MIGRATIONS.length + 1, name: 'bad', up: (db) => (db.exec('CREATE TABLE half (x)'), db.exec('SYNTAX ERROR')) };
    expect(() => SqliteStore.open(path, { migrations: [...MIGRATIONS, bad] })).toThrow();
    const db = new Database(path);
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE name = 'half'").get()).toEqual({ n: 0 });
    expect(db.prepare('SELECT max(version) AS v FROM schema_version').get()).toEqual({ v: MIGRATIONS.length });
    db.close();
  });

  it('refuses a SQLite file that is not a muvakt store', () => {
    const path = tmp.db();
    const db = new Database(path);
    db.exec('CREATE TABLE other (x)');
    db.close();
    expect(() => SqliteStore.open(path)).toThrow(/not a muvakt store/);
  });
});

describe('SqliteStore: upsert', () => {
  it('dedups on (rule_id, subject): count and last_seen grow, first_seen kept, evidence is the latest', () => {
    const s = open();
    const r1 = s.upsertAlerts([cand(1, { ts: iso(5000, 123) })]);
    expect(r1.created).toHaveLength(1);
    const a = r1.created[0];
    expect(a.id).toBe(alertId('G2.medical-internet', subject(1)));
    expect(a).toMatchObject({ count: 1, status: 'open', first_seen: iso(5000, 123), last_seen: iso(5000, 123), guide_refs: ['MU 3.7', 'MU 4.6'] });

    const r2 = s.upsertAlerts([
      cand(1, { ts: iso(9000), evidence: { app: 'https', bytes: 10 } }),
      cand(1, { ts: iso(7000), evidence: { app: 'https', bytes: 20 } }), // out of order: last_seen stays 9000
      cand(2),
    ]);
    expect(r2.created.map((x) => x.subject.src_ip)).toEqual(['10.77.10.2']);
    expect(r2.updated).toHaveLength(1);
    const got = s.getAlert(a.id)!;
    expect(got).toMatchObject({ count: 3, first_seen: iso(5000, 123), last_seen: iso(9000), evidence: { app: 'https', bytes: 20 } });
    expect(r2.updated[0]).toMatchObject({ count: 3, last_seen: iso(9000) });

    // Another rule on the same subject, and the same rule with a device_id, are other alerts.
    s.upsertAlerts([cand(1, { rule_id: 'G13.obsolete' }), cand(1, { subject: { ...subject(1), device_id: 'dev-1' } })]);
    expect(s.listAlerts({ limit: 1000 }).items).toHaveLength(4);
    s.close();
  });

  it('a pre-aggregated candidate adds its count and may move first_seen earlier', () => {
    const s = open();
    const [a] = s.upsertAlerts([cand(3, { ts: iso(5000) })]).created;
    s.upsertAlerts([cand(3, { ts: iso(8000), first_ts: iso(1000), count: 10 })]);
    expect(s.getAlert(a.id)).toMatchObject({ count: 11, first_seen: iso(1000), last_seen: iso(8000) });
    s.close();
  });

  it('a resolved alert that fires again reopens with a history row; acknowledged stays acknowledged', () => {
    const s = open();
    const [a, b] = s.upsertAlerts([cand(1), cand(2)]).created;
    s.resolve(a.id, 'officer@hf', 'firewall rule added');
    s.acknowledge(b.id, 'officer@hf', 'vendor asked');
    const r = s.upsertAlerts([cand(1, { ts: iso(60_000) }), cand(2, { ts: iso(60_000) })]);
    expect(r.reopened.map((x) => x.id)).toEqual([a.id]);
    expect(r.reopened[0].status).toBe('open');
    expect(r.updated.map((x) => [x.id, x.status])).toEqual([[b.id, 'acknowledged']]);
    const h = s.getAlert(a.id)!.history;
    expect(h.map((x) => [x.action, x.actor])).toEqual([
      ['resolve', 'officer@hf'],
      ['reopen', 'muvakt'],
    ]);
    expect(s.getAlert(b.id)!.status).toBe('acknowledged');
    s.close();
  });

  it('counts malformed candidates instead of failing the batch, and bounds evidence to 4 KiB', () => {
    const s = open();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const r = s.upsertAlerts([
      cand(1, { severity: 'urgent' as never }),
      cand(2, { ts: '2026-02-30T00:00:00Z' }),
      cand(3, { rule_id: '' }),
      cand(4, { evidence: cyclic }),
      cand(5, { evidence: { big: 'x'.repeat(10_000), list: Array.from({ length: 500 }, (_, i) => i), keep: 'yes' } }),
    ]);
    expect(r.invalid).toBe(4);
    expect(r.created).toHaveLength(1);
    const ev = s.getAlert(r.created[0].id)!.evidence;
    expect(ev._truncated).toBe(true);
    expect(ev.keep).toBe('yes');
    expect(Buffer.byteLength(JSON.stringify(ev))).toBeLessThanOrEqual(4096);
    s.close();
  });

  it('bounds any evidence shape to the byte limit', () => {
    const huge: Record<string, unknown> = {};
    for (let i = 0; i < 200; i++) huge[`k${i}`] = 'æøå'.repeat(200);
    const b = boundEvidence(safeJson(huge)!, huge);
    expect(b.truncated).toBe(true);
    expect(Buffer.byteLength(b.json)).toBeLessThanOrEqual(4096);
    expect(JSON.parse(b.json)._truncated).toBe(true);
  });

  it('normalises timestamps to µs UTC', () => {
    expect(parseTs('2026-03-01T01:00:00.5+01:00')).toEqual({ iso: '2026-03-01T00:00:00.500000Z', ms: T0 + 500 });
    expect(parseTs('2026-03-01T00:00:00.123456789Z')).toEqual({ iso: '2026-03-01T00:00:00.123456Z', ms: T0 + 123 });
    expect(parseTs('yesterday')).toBeNull();
  });
});

describe('SqliteStore: lifecycle', () => {
  it('validates transitions; unknown id → null', () => {
    const s = open();
    const [a] = s.upsertAlerts([cand(1)]).created;
    expect(s.acknowledge('nope', 'o', '')).toBeNull();
    expect(s.resolve('nope', 'o', '')).toBeNull();

    const acked = s.acknowledge(a.id, 'officer', 'looking')!;
    expect(acked.status).toBe('acknowledged');
    expect(() => s.acknowledge(a.id, 'officer', 'again')).toThrow(AlertTransitionError);
    const resolved = s.resolve(a.id, 'officer', 'fixed')!;
    expect(resolved.status).toBe('resolved');
    expect(() => s.resolve(a.id, 'officer', '')).toThrow(AlertTransitionError);
    expect(() => s.acknowledge(a.id, 'officer', '')).toThrow(/is resolved: cannot ack/);
    expect(s.reopen(a.id, 'officer', 'not fixed after all')!.status).toBe('open');
    expect(() => s.reopen(a.id, 'officer', '')).toThrow(AlertTransitionError);
    // open → resolved directly is allowed
    expect(s.resolve(a.id, 'officer', '')!.status).toBe('resolved');
    expect(s.getAlert(a.id)!.history.map((h) => h.action)).toEqual(['ack', 'resolve', 'reopen', 'resolve']);
    expect(s.getAlert(a.id)!.history[0]).toMatchObject({ actor: 'officer', comment: 'looking' });

    expect(() => s.acknowledge(a.id, '', '')).toThrow(StoreInputError);
    expect(() => s.acknowledge(a.id, 'o', 'x'.repeat(3000))).toThrow(StoreInputError);
    s.close();
  });
});

describe('SqliteStore: queries', () => {
  const seedCand = (i: number, ts = iso(Math.floor(i / 3) * 1000)) =>
    cand(i, {
      rule_id: i % 3 === 0 ? 'G3.cleartext-external' : 'G2.medical-internet',
      severity: (['low', 'medium', 'high', 'critical'] as const)[i % 4],
      subject: subject(i, { zone_dst: i % 5 === 0 ? 'pacs' : 'external' }),
      ts, // three alerts share each millisecond: ties are broken by id
    });
  function seeded() {
    const s = open();
    s.upsertAlerts(Array.from({ length: 60 }, (_, i) => seedCand(i)));
    return s;
  }

  it('filters by severity, rule, status, zone, ip and time; sorts by last_seen or severity', () => {
    const s = seeded();
    const all = s.listAlerts({ limit: 1000 }).items;
    expect(all).toHaveLength(60);
    const byTime = all.map((a) => a.last_seen);
    expect([...byTime].sort().reverse()).toEqual(byTime);

    expect(s.listAlerts({ severity: 'critical', limit: 1000 }).items.every((a) => a.severity === 'critical')).toBe(true);
    expect(s.listAlerts({ severity: ['low', 'critical'], limit: 1000 }).items).toHaveLength(30);
    expect(s.listAlerts({ min_severity: 'high', limit: 1000 }).items).toHaveLength(30);
    expect(s.listAlerts({ rule_id: 'G3.cleartext-external', limit: 1000 }).items).toHaveLength(20);
    expect(s.listAlerts({ zone: 'pacs', limit: 1000 }).items).toHaveLength(12);
    expect(s.listAlerts({ zone: 'mu-radiology', limit: 1000 }).items).toHaveLength(60);
    expect(s.listAlerts({ ip: '10.77.10.7', limit: 1000 }).items.map((a) => a.subject.src_ip)).toEqual(['10.77.10.7']);
    expect(s.listAlerts({ ip: '198.51.100.0', limit: 1000 }).items).toHaveLength(60);
    expect(s.listAlerts({ since: iso(15_000), limit: 1000 }).items).toHaveLength(15);
    expect(s.listAlerts({ until: new Date(T0 + 1000), limit: 1000 }).items).toHaveLength(6);
    expect(s.listAlerts({ since: T0 + 5000, until: iso(5000), limit: 1000 }).items).toHaveLength(3);

    const first = all[all.length - 1];
    s.acknowledge(first.id, 'o', '');
    expect(s.listAlerts({ status: 'acknowledged' }).items.map((a) => a.id)).toEqual([first.id]);
    expect(s.listAlerts({ status: ['open', 'acknowledged'], limit: 1000 }).items).toHaveLength(60);

    const bySev = s.listAlerts({ sort: 'severity', limit: 1000 }).items;
    expect(bySev.slice(0, 15).every((a) => a.severity === 'critical')).toBe(true);
    expect(bySev[59].severity).toBe('low');
    expect(s.openCounts()).toEqual({ low: 15, medium: 15, high: 15, critical: 15, [first.severity]: 14 });

    expect(() => s.listAlerts({ severity: 'urgent' as never })).toThrow(StoreInputError);
    expect(() => s.listAlerts({ since: 'last week' })).toThrow(StoreInputError);
    expect(() => s.listAlerts({ limit: 0 })).toThrow(StoreInputError);
    expect(() => s.listAlerts({ cursor: 'garbage' })).toThrow(StoreInputError);
    s.close();
  });

  it('cursor pages are stable: no duplicates or misses while alerts are inserted and updated', () => {
    for (const sort of ['last_seen', 'severity'] as const) {
      const s = seeded();
      const before = new Set(s.listAlerts({ limit: 1000 }).items.map((a) => a.id));
      let extra = 1000;
      const updated = new Set<string>();
      const seen = pageAll(s, { sort, limit: 7 }, (page) => {
        // New alerts, newer and older than the cursor, and updates to existing ones
        // (an update to a lower severity does not lower the alert's severity).
        const up = s.upsertAlerts([
          cand(extra++, { ts: iso(100_000 + page) }),
          cand(extra++, { ts: iso(page * 500), severity: 'critical' }),
          cand(extra++, { ts: iso(page * 700), severity: 'low' }),
          { ...seedCand(page * 7 % 60, iso(200_000 + page)), severity: 'low' },
        ]);
        for (const a of up.updated) updated.add(a.id);
      });
      expect(updated.size).toBeGreaterThan(5);
      const ids = seen.map((a) => a.id);
      expect(new Set(ids).size).toBe(ids.length); // no duplicates
      // Every alert that existed when paging started and was not updated meanwhile is seen.
      for (const id of before) if (!updated.has(id)) expect(ids).toContain(id);
      expect(seen.length).toBeGreaterThanOrEqual(before.size - updated.size);
      s.close();
    }
  });

  it('a cursor is bound to its query', () => {
    const s = seeded();
    const p = s.listAlerts({ limit: 5, severity: 'high' });
    expect(() => s.listAlerts({ limit: 5, severity: 'low', cursor: p.next_cursor })).toThrow(/different query/);
    expect(s.listAlerts({ limit: 10, severity: 'high', cursor: p.next_cursor }).items).toHaveLength(10);
    s.close();
  });
});

describe('SqliteStore: audit, kv and retention', () => {
  it('writes and pages the audit log', () => {
    const s = open();
    for (let i = 0; i < 25; i++) s.audit({ actor: i % 2 ? 'anna' : 'bjorn', role: 'viewer', action: 'alerts.list', query: { severity: 'high', page: i }, at: T0 + i * 1000 });
    const anna = [];
    let cursor: string | null = null;
    do {
      const p = s.listAudit({ actor: 'anna', limit: 5, cursor });
      anna.push(...p.items);
      cursor = p.next_cursor;
    } while (cursor !== null);
    expect(anna).toHaveLength(12);
    expect(anna[0]).toMatchObject({ actor: 'anna', role: 'viewer', action: 'alerts.list', query: { severity: 'high', page: 23 } });
    expect(s.listAudit({ since: T0 + 20_000, limit: 100 }).items).toHaveLength(5);
    s.audit({ actor: 'x', role: 'admin', action: 'big', query: { blob: 'y'.repeat(100_000) } });
    expect(JSON.stringify(s.listAudit({ action: 'big' }).items[0].query).length).toBeLessThanOrEqual(4096);
    s.close();
  });

  it('keeps small JSON state in kv', () => {
    const s = open();
    expect(s.kvGet('baseline')).toBeUndefined();
    s.kvSet('baseline', { v: 1, peers: ['a'] });
    s.kvSet('baseline', { v: 2 });
    expect(s.kvGet('baseline')).toEqual({ v: 2 });
    expect(s.kvDelete('baseline')).toBe(true);
    expect(s.kvGet('baseline')).toBeUndefined();
    s.close();
  });

  it('prune deletes alerts (with history) and audit rows older than the retention, at open too', () => {
    const path = tmp.db();
    const day = 86_400_000;
    const s = SqliteStore.open(path, { now: () => T0 });
    const old = s.upsertAlerts([cand(1, { ts: iso(-200 * day) })]).created[0];
    const young = s.upsertAlerts([cand(2, { ts: iso(-10 * day) })]).created[0];
    // An alert first seen long ago but still firing is kept.
    const lasting = s.upsertAlerts([cand(3, { ts: iso(-300 * day) }), cand(3, { ts: iso(-1 * day) })]).created[0];
    s.acknowledge(old.id, 'o', 'old ack');
    s.audit({ actor: 'a', role: 'viewer', action: 'alerts.list', query: {}, at: T0 - 200 * day });
    s.audit({ actor: 'a', role: 'viewer', action: 'alerts.list', query: {}, at: T0 - 1 * day });

    expect(s.prune(T0, 180)).toEqual({ alerts: 1, history: 1, audit: 1, flow_history: 0 });
    expect(s.getAlert(old.id)).toBeNull();
    expect(s.getAlert(young.id)).not.toBeNull();
    expect(s.getAlert(lasting.id)).toMatchObject({ count: 2 });
    expect(s.listAudit().items).toHaveLength(1);
    s.close();

    // At open, with a shorter configured retention and a later clock: alerts count back from the newest alert (T0 - 1 day), audit rows from the clock.
    const pruned: unknown[] = [];
    const s2 = SqliteStore.open(path, { now: () => T0 + 30 * day, retentionDays: 5, onPrune: (r, cutoff) => pruned.push({ r, cutoff }) });
    expect(s2.getAlert(young.id)).toBeNull();
    expect(s2.getAlert(lasting.id)).not.toBeNull();
    expect(s2.listAudit().items).toHaveLength(0);
    expect(pruned).toEqual([{ r: { alerts: 1, history: 0, audit: 1, flow_history: 0 }, cutoff: { alerts: iso(-6 * day), audit: iso(25 * day), flow_history: iso(25 * day) } }]);
    s2.close();
    const db = new Database(path);
    expect(db.prepare('SELECT (SELECT count(*) FROM alerts) + (SELECT count(*) FROM alert_history) AS n').get()).toEqual({ n: 1 });
    db.close();
  });

  it('keeps the alerts of captures older than the retention, and a reader that opens without pruning deletes nothing', () => {
    const path = tmp.db();
    const day = 86_400_000;
    const twoYears = 730 * day;
    const s = SqliteStore.open(path, { now: () => T0 });
    s.upsertAlerts([cand(1, { ts: iso(-twoYears) }), cand(2, { ts: iso(-twoYears - 10 * day) }), cand(3, { ts: iso(-twoYears - 400 * day) })]);
    // Relative to the newest alert, the one 400 days older than it is past 180 days: only that goes.
    expect(s.prune()).toEqual({ alerts: 1, history: 0, audit: 0, flow_history: 0 });
    expect(s.prune()).toEqual({ alerts: 0, history: 0, audit: 0, flow_history: 0 });
    s.close();
    const r = SqliteStore.open(path, { pruneOnOpen: false, retentionDays: 1, onPrune: () => expect.unreachable('a reader pruned') });
    expect(r.listAlerts({}).items).toHaveLength(2);
    r.close();
  });

  it('creates the store and its -wal and -shm 0600 even under umask 000', () => {
    const path = tmp.db('umask.db');
    const before = process.umask(0);
    try {
      const s = SqliteStore.open(path);
      s.upsertAlerts([cand(1)]);
      for (const f of [path, `${path}-wal`, `${path}-shm`]) expect((statSync(f).mode & 0o777).toString(8), f).toBe('600');
      s.close();
    } finally {
      process.umask(before);
    }
  });
});
