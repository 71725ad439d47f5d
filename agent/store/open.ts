/**
 * Opens the store a `--db` names (see location.ts): PostgreSQL for a `postgres://` URL, else
 * SQLite. Each backend is loaded only when used, so a SQLite run never loads node-postgres.
 */
import type { SqliteStoreOptions } from './sqlite-store.js';
import type { Store, StoreOptions } from './store.js';
import { isPostgresUrl } from './location.js';
export { DB_ENV, dbLocation, isPostgresUrl, redactDbUrl, redactMessage } from './location.js';

export type OpenStoreOptions = StoreOptions & Pick<SqliteStoreOptions, 'synchronous' | 'busyTimeoutMs'> & {
  /** PostgreSQL: connections in the pool (default 4). */
  poolSize?: number;
};

/** Opens (creating and migrating as needed) the store at `location`, SQLite or PostgreSQL. */
export async function openStore(location: string, options: OpenStoreOptions = {}): Promise<Store> {
  if (isPostgresUrl(location)) {
    const { PostgresStore } = await import('./postgres-store.js');
    return PostgresStore.open(location, options);
  }
  const { SqliteStore } = await import('./sqlite-store.js');
  const { poolSize: _ignored, ...sqlite } = options;
  return SqliteStore.open(location, sqlite);
}
