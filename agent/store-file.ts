import { ConfigError } from './errors.js';
import { SqliteStore, type SqliteStoreOptions } from './store/index.js';

/** Opens (and migrates) the store file the operator named, or stops with why it cannot (exit 2). */
export function openStoreFile(file: string, options: SqliteStoreOptions = {}): SqliteStore {
  try {
    return SqliteStore.open(file, options);
  } catch (e) {
    throw new ConfigError(`cannot open the store ${file}: ${(e as Error).message}`);
  }
}
