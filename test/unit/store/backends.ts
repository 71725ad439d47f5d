/**
 * The store backends every conformance test runs against: SQLite (a file in a temp directory)
 * and PostgreSQL (a fresh database per location on a throw-away cluster, see
 * test/support/postgres.ts). Use with `describe.each(BACKENDS)` and call `setupBackends()` once
 * per test file: it starts the cluster in beforeAll and removes it in afterAll.
 */
import { afterAll, beforeAll } from 'vitest';
import pg from 'pg';
import { SqliteStore, type SqliteStoreOptions } from '../../../agent/store/sqlite-store.js';
import { PostgresStore, type PostgresStoreOptions } from '../../../agent/store/postgres-store.js';
import type { Store } from '../../../agent/store/store.js';
import { startPostgres, type PostgresCluster } from '../../support/postgres.js';
import { tempDir } from './helpers.js';

export interface Backend {
  name: 'sqlite' | 'postgres';
  /** A new, empty location (a file path or a database URL). */
  fresh(): Promise<string>;
  open(location: string, options?: SqliteStoreOptions & PostgresStoreOptions): Promise<Store>;
  /** Runs SQL directly on the location (checks of what is really stored). */
  sql<T = Record<string, unknown>>(location: string, text: string, params?: unknown[]): Promise<T[]>;
}

let cluster: PostgresCluster | null = null;
let tmp: ReturnType<typeof tempDir> | null = null;

export const sqliteBackend: Backend = {
  name: 'sqlite',
  async fresh() {
    return tmp!.db();
  },
  async open(location, options = {}) {
    return SqliteStore.open(location, options);
  },
  async sql(location, text, params = []) {
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(location);
    try {
      const st = db.prepare(text.replace(/\$\d+/g, '?'));
      return (st.reader ? st.all(...params) : (st.run(...params), [])) as never[];
    } finally {
      db.close();
    }
  },
};

export const postgresBackend: Backend = {
  name: 'postgres',
  async fresh() {
    return cluster!.createDatabase();
  },
  async open(location, options = {}) {
    return PostgresStore.open(location, options);
  },
  async sql(location, text, params = []) {
    const c = new pg.Client({ connectionString: location });
    await c.connect();
    try {
      const rows = (await c.query(text, params)).rows as Record<string, unknown>[];
      // count(*) and BIGINT come back as strings: compare as numbers, like SQLite's.
      return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'string' && /^-?\d+$/.test(v) && k !== 'id' ? Number(v) : v]))) as never[];
    } finally {
      await c.end();
    }
  },
};

export const BACKENDS: readonly Backend[] = [sqliteBackend, postgresBackend];

/** Starts the PostgreSQL cluster and a temp directory for this test file; both removed afterwards. */
export function setupBackends(): { cluster: () => PostgresCluster } {
  beforeAll(async () => {
    tmp = tempDir();
    cluster = await startPostgres();
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
    cluster = null;
    tmp?.cleanup();
    tmp = null;
  }, 60_000);
  return { cluster: () => cluster! };
}
