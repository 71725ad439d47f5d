import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../../agent/store/sqlite-store.js';
import { MIGRATIONS, type Migration } from '../../../agent/store/schema.js';
import { T0, cand, tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** SQLite's own properties (pragmas, file modes, its migration runner); the shared semantics are in store.test.ts. */

/** A store whose clock is fixed near the test data, so prune-at-open keeps it. */
function open(path = tmp.db(), now = () => T0 + 86_400_000) {
  return SqliteStore.open(path, { now });
}

describe('SqliteStore: pragmas and schema', () => {
  it('opens in WAL with synchronous=NORMAL, foreign keys and secure delete', () => {
    const path = tmp.db();
    const s = open(path);
    s.closeNow();
    const db = new Database(path);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('application_id', { simple: true })).toBe(0x4d55564b);
    expect(db.pragma('auto_vacuum', { simple: true })).toBe(2); // incremental
    const tables = (db.prepare("SELECT name FROM sqlite_schema WHERE type='table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    expect(tables).toEqual(expect.arrayContaining(['alerts', 'alert_history', 'audit_log', 'kv', 'schema_version']));
    db.close();
  });

  it('re-opening runs no migration twice; an older file is upgraded in order', async () => {
    const path = tmp.db();
    let v1Runs = 0;
    const v1: Migration = { ...MIGRATIONS[0], up: (db) => (v1Runs++, MIGRATIONS[0].up(db)) };
    SqliteStore.open(path, { migrations: [MIGRATIONS[0]], now: () => T0 }).closeNow(); // real v1
    SqliteStore.open(path, { migrations: [v1], now: () => T0 }).closeNow();
    expect(v1Runs).toBe(0);

    let v2Runs = 0;
    const v2: Migration = { version: 2, name: 'test column', up: (db) => (v2Runs++, db.exec('ALTER TABLE alerts ADD COLUMN note TEXT')) };
    const s = SqliteStore.open(path, { migrations: [v1, v2], now: () => T0 });
    await s.upsertAlerts([cand(1)]);
    s.closeNow();
    SqliteStore.open(path, { migrations: [v1, v2], now: () => T0 }).closeNow();
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
    open(path).closeNow();
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

describe('SqliteStore: files', () => {
  it('creates the store and its -wal and -shm 0600 even under umask 000', async () => {
    const path = tmp.db('umask.db');
    const before = process.umask(0);
    try {
      const s = SqliteStore.open(path);
      await s.upsertAlerts([cand(1)]);
      for (const f of [path, `${path}-wal`, `${path}-shm`]) expect((statSync(f).mode & 0o777).toString(8), f).toBe('600');
      s.closeNow();
    } finally {
      process.umask(before);
    }
  });
});
