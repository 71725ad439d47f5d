/**
 * What a fleet needs of either backend: versioned migrations from any older version, several
 * writers on one store at once, and a store location whose password never reaches a message.
 */
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { MIGRATIONS, migrate } from '../../../agent/store/schema.js';
import { PG_MIGRATIONS, pgMigrate } from '../../../agent/store/pg-schema.js';
import { dbLocation, isPostgresUrl, redactDbUrl, redactMessage } from '../../../agent/store/location.js';
import { openStoreAt } from '../../../agent/store-file.js';
import { ConfigError } from '../../../agent/errors.js';
import pg from 'pg';
import { BACKENDS, postgresBackend, setupBackends, sqliteBackend } from './backends.js';
import { T0, cand, iso } from './helpers.js';

const env = setupBackends();

describe('migrations', () => {
  it('both backends know the same versions, in order, with the same names', () => {
    expect(PG_MIGRATIONS.map((m) => [m.version, m.name])).toEqual(MIGRATIONS.map((m) => [m.version, m.name]));
  });

  it.each(Array.from({ length: MIGRATIONS.length + 1 }, (_, v) => v))('SQLite at version %i migrates to the newest and keeps its alerts', async (v) => {
    const path = await sqliteBackend.fresh();
    if (v > 0) {
      const db = new Database(path);
      migrate(db, MIGRATIONS.slice(0, v), iso(0));
      db.prepare(
        `INSERT INTO alerts (id, rule_id, title, severity, sev_rank, guide_refs, first_seen, first_seen_ms, last_seen, last_seen_ms, count, status, subject, src_ip, dst_ip, zone_src, zone_dst, evidence, recommendation, updated_at)
         VALUES ('old', 'r', 't', 'low', 1, '[]', ?, ?, ?, ?, 1, 'open', '{}', 'a', 'b', 'z', 'y', '{}', '', ?)`,
      ).run(iso(0), T0, iso(0), T0, iso(0));
      db.close();
    }
    const s = await sqliteBackend.open(path, { now: () => T0 });
    expect(await s.schemaVersion()).toBe(MIGRATIONS.length);
    if (v > 0) expect(await s.getAlert('old')).not.toBeNull();
    await s.upsertAlerts([cand(1)]);
    await s.saveDevices([{ id: 'ip:10.0.0.1', zone: 'MU', role: 'modality', score: 3, level: 'low', firstSeenMs: T0, lastSeenMs: T0, summary: { id: 'ip:10.0.0.1', zone: 'MU' }, detail: {} }]);
    expect((await s.listDevices()).items).toHaveLength(1);
    await s.close();
  });

  it.each(Array.from({ length: PG_MIGRATIONS.length + 1 }, (_, v) => v))('PostgreSQL at version %i migrates to the newest and keeps its alerts', async (v) => {
    const url = await postgresBackend.fresh();
    if (v > 0) {
      const pool = new pg.Pool({ connectionString: url });
      expect(await pgMigrate(pool, PG_MIGRATIONS.slice(0, v), iso(0))).toEqual(PG_MIGRATIONS.slice(0, v).map((m) => m.version));
      await pool.query(
        `INSERT INTO alerts (id, rule_id, title, severity, sev_rank, guide_refs, first_seen, first_seen_ms, last_seen, last_seen_ms, count, status, subject, src_ip, dst_ip, zone_src, zone_dst, evidence, recommendation, updated_at)
         VALUES ('old', 'r', 't', 'low', 1, '[]', $1, $2, $1, $2, 1, 'open', '{}', 'a', 'b', 'z', 'y', '{}', '', $1)`,
        [iso(0), T0],
      );
      await pool.end();
    }
    const s = await postgresBackend.open(url, { now: () => T0 });
    expect(await s.schemaVersion()).toBe(PG_MIGRATIONS.length);
    if (v > 0) expect(await s.getAlert('old')).not.toBeNull();
    await s.upsertAlerts([cand(1)]);
    await s.saveDevices([{ id: 'ip:10.0.0.1', zone: 'MU', role: 'modality', score: 3, level: 'low', firstSeenMs: T0, lastSeenMs: T0, summary: { id: 'ip:10.0.0.1', zone: 'MU' }, detail: {} }]);
    expect((await s.listDevices()).items).toHaveLength(1);
    await s.close();
    const rows = await postgresBackend.sql<{ version: number }>(url, 'SELECT version FROM schema_version ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(PG_MIGRATIONS.map((m) => m.version));
  });

  it('PostgreSQL: several openers at once migrate once; a newer database and a foreign one are refused', async () => {
    const url = await postgresBackend.fresh();
    const stores = await Promise.all(Array.from({ length: 4 }, () => postgresBackend.open(url, { now: () => T0 })));
    for (const s of stores) await s.close();
    expect(await postgresBackend.sql(url, 'SELECT count(*) AS n FROM schema_version')).toEqual([{ n: PG_MIGRATIONS.length }]);
    await postgresBackend.sql(url, "INSERT INTO schema_version VALUES (99, 'future', 'x')");
    await expect(postgresBackend.open(url)).rejects.toThrow(/schema version 99 is newer/);

    const other = await postgresBackend.fresh();
    await postgresBackend.sql(other, 'CREATE TABLE payroll (x int)');
    await expect(postgresBackend.open(other)).rejects.toThrow(/not a muvakt store/);
  });
});

describe.each(BACKENDS)('several writers on one $name store', (be) => {
  it('two writers upserting the same alerts at once give one row per alert with the counts summed', async () => {
    const path = await be.fresh();
    const a = await be.open(path, { now: () => T0 });
    const b = await be.open(path, { now: () => T0 });
    const rounds = 20;
    const batch = (k: number) => Array.from({ length: 30 }, (_, i) => cand(i, { ts: iso(1000 + k), count: 2 }));
    const results = await Promise.all(
      Array.from({ length: rounds }, (_, k) => (k % 2 === 0 ? a : b).upsertAlerts(batch(k))),
    );
    const created = results.reduce((n, r) => n + r.created.length, 0);
    expect(created).toBe(30); // each alert created exactly once, whichever writer came first
    const rows = await be.sql<{ n: number; c: number }>(path, 'SELECT count(*) AS n, sum(count) AS c FROM alerts');
    expect(rows).toEqual([{ n: 30, c: 30 * 2 * rounds }]);
    await a.close();
    await b.close();
  });

  it('an acknowledgement through one connection is seen through the other', async () => {
    const path = await be.fresh();
    const a = await be.open(path, { now: () => T0 });
    const b = await be.open(path, { now: () => T0, pruneOnOpen: false });
    const [x] = (await a.upsertAlerts([cand(1)])).created;
    await b.acknowledge(x.id, 'officer', 'seen');
    expect((await a.getAlert(x.id))!.status).toBe('acknowledged');
    await a.audit({ actor: 'a', role: 'viewer', action: 'alerts.list', query: {} });
    await b.audit({ actor: 'b', role: 'viewer', action: 'alerts.list', query: {} });
    expect((await a.listAudit()).items.map((r) => r.actor).sort()).toEqual(['a', 'b']);
    await a.close();
    await b.close();
  });
});

describe('store location', () => {
  it('postgres:// and postgresql:// select PostgreSQL; anything else is a SQLite file', () => {
    expect(isPostgresUrl('postgres://h/db')).toBe(true);
    expect(isPostgresUrl('postgresql://u@/db?host=/run/pg')).toBe(true);
    expect(isPostgresUrl('muvakt.db')).toBe(false);
    expect(isPostgresUrl(':memory:')).toBe(false);
  });

  it('redacts a password in the URL or its query string', () => {
    expect(redactDbUrl('postgresql://muvakt:s3cr%40t@db.example:5432/muvakt')).toBe('postgresql://muvakt:***@db.example:5432/muvakt');
    expect(redactDbUrl('postgres://muvakt@db/muvakt?password=hunter2&sslmode=require')).toBe('postgres://muvakt@db/muvakt?password=***&sslmode=require');
    expect(redactDbUrl('/var/lib/muvakt/muvakt.db')).toBe('/var/lib/muvakt/muvakt.db');
    expect(redactMessage('password authentication failed for s3cr@t', 'postgresql://muvakt:s3cr%40t@db/muvakt')).toBe('password authentication failed for ***');
  });

  it('--db wins over $MUVAKT_DB, which wins over the default', () => {
    const before = process.env.MUVAKT_DB;
    try {
      process.env.MUVAKT_DB = 'postgresql://muvakt@/muvakt?host=/run/postgresql';
      expect(dbLocation('x.db', 'muvakt.db')).toBe('x.db');
      expect(dbLocation(undefined, 'muvakt.db')).toBe(process.env.MUVAKT_DB);
      delete process.env.MUVAKT_DB;
      expect(dbLocation(undefined, 'muvakt.db')).toBe('muvakt.db');
    } finally {
      if (before === undefined) delete process.env.MUVAKT_DB;
      else process.env.MUVAKT_DB = before;
    }
  });

  it('a wrong password is a ConfigError that names the store without the password', async () => {
    const { startPostgres } = await import('../../support/postgres.js');
    const secured = await startPostgres({ password: 'right-pass' });
    try {
      const url = secured.urlFor('postgres', 'postgres', 'wrong-pass-9f3');
      const err = await openStoreAt(url).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(/^cannot open the store postgresql:\/\/postgres:\*\*\*@\/postgres/);
      expect((err as Error).message).not.toContain('wrong-pass-9f3');
      // The password from PGPASSWORD, none on any command line: opens and migrates.
      process.env.PGPASSWORD = 'right-pass';
      const s = await openStoreAt(secured.urlFor('postgres'));
      expect(s.backend).toBe('postgres');
      expect(s.location).not.toContain('right-pass');
      await s.close();
    } finally {
      delete process.env.PGPASSWORD;
      await secured.stop();
    }
  }, 60_000);
  void env;
});
