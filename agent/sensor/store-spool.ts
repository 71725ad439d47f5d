/**
 * The live sensor's store spool: where it is, how it is bounded, what it tells the log and
 * /metrics. The spool and its gate are in agent/store (spool.ts, spool-gate.ts); this is the
 * sensor's side of them.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ConfigError } from '../errors.js';
import { SpoolGate } from '../store/spool-gate.js';
import { DEFAULT_SPOOL_MAX_AGE_MS, DEFAULT_SPOOL_MAX_BYTES, StoreSpool } from '../store/spool.js';

export interface StoreSpoolSettings {
  /** The spool file (default: see defaultSpoolPath). */
  file?: string;
  maxBytes?: number;
  maxAgeMs?: number;
}

/**
 * Beside a SQLite store: `<db>.spool`. For PostgreSQL (or anything not a file): `muvakt-store.spool`
 * in systemd's state directory ($STATE_DIRECTORY) or else the working directory.
 */
export function defaultSpoolPath(db: string, env: NodeJS.ProcessEnv = process.env): string {
  if (!/^postgres(ql)?:\/\//i.test(db) && db !== ':memory:' && db !== '') return `${db}.spool`;
  const stateDir = env.STATE_DIRECTORY?.split(':')[0];
  return join(stateDir && stateDir !== '' ? stateDir : '.', 'muvakt-store.spool');
}

/** Opens the spool (ConfigError, exit 2, when it cannot be used) and its gate, logging outages without record contents. */
export function openStoreGate(db: string, s: StoreSpoolSettings, log: Logger): SpoolGate {
  const file = s.file ?? defaultSpoolPath(db);
  let spool: StoreSpool;
  try {
    spool = StoreSpool.open(file, { maxBytes: s.maxBytes ?? DEFAULT_SPOOL_MAX_BYTES, maxAgeMs: s.maxAgeMs ?? DEFAULT_SPOOL_MAX_AGE_MS });
  } catch (e) {
    throw new ConfigError(`cannot open the store spool ${file}: ${(e as Error).message}`);
  }
  const slog = log.child({ component: 'store-spool' });
  if (!spool.empty) slog.info({ file, records: spool.stats.records, bytes: spool.stats.bytes }, 'store spool from an earlier run: replaying it first');
  const gate = new SpoolGate(spool, {}, {
    onError: (e, what) => {
      // The error's text names the store's problem (connection refused, database locked), never a record.
      if (what === 'unavailable') slog.warn({ err: e.message, code: (e as { code?: string }).code }, 'store unavailable: writes go to the spool');
      else if (what === 'refused') slog.error({ err: e.message }, 'the store refused a spooled write: dropped');
      else slog.error({ err: e.message, what }, 'store spool problem');
    },
    onRecovered: () => slog.info('store reachable again: replaying the spool'),
    onDrained: () => slog.info({ drained: gate.stats.drained }, 'store spool drained'),
  });
  return gate;
}
