/**
 * Whether a store error means "the store cannot take writes right now" (retry later: spool) or
 * "the store refuses this write" (retrying will not help). The sensor keeps analysing through
 * the first kind — PostgreSQL down, restarting or out of connections, SQLite busy beyond its
 * timeout or its disk full — and holds what it could not write in the spool.
 *
 * Only what is known to be a refusal is one: bad input (`StoreInputError`), a programming error
 * (TypeError, RangeError), and PostgreSQL's data, constraint and syntax classes (SQLSTATE 22,
 * 23, 42). Everything else counts as unavailable, so an unknown failure is retried from disk
 * rather than lost; the spool's age bound ends a failure that never heals.
 */
import { StoreInputError } from './types.js';

/** SQLSTATE classes that refuse the statement itself: data exception, integrity, syntax/access. */
const PG_REFUSAL_CLASSES = new Set(['22', '23', '42']);

export function isStoreUnavailable(e: unknown): boolean {
  if (e instanceof StoreInputError || e instanceof TypeError || e instanceof RangeError) return false;
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    // SQLite: busy, locked, full, I/O, cannot open, read-only file system: all pass with time.
    if (code.startsWith('SQLITE_')) return !/^SQLITE_(CONSTRAINT|MISMATCH|RANGE|TOOBIG|ERROR)/.test(code);
    if (/^[0-9A-Z]{5}$/.test(code)) return !PG_REFUSAL_CLASSES.has(code.slice(0, 2));
  }
  return true;
}
