import { ConfigError } from './errors.js';
import { SqliteStore, type PruneCutoff, type PruneResult, type SqliteStoreOptions } from './store/index.js';

/**
 * What retention deleted, as one info line on the process log. The logger is loaded only when a
 * prune deleted something: a run that prunes nothing never loads it.
 */
function logPrune(result: PruneResult, cutoff: PruneCutoff): void {
  void import('./log.js').then(({ createLogger }) =>
    createLogger()
      .child({ component: 'store' })
      .info({ ...result, alerts_before: cutoff.alerts, audit_before: cutoff.audit, flow_history_before: cutoff.flow_history }, 'retention: deleted old alerts, audit rows and flow history'),
  );
}

/** Opens (and migrates) the store file the operator named, or stops with why it cannot (exit 2). */
export function openStoreFile(file: string, options: SqliteStoreOptions = {}): SqliteStore {
  try {
    return SqliteStore.open(file, { onPrune: logPrune, ...options });
  } catch (e) {
    throw new ConfigError(`cannot open the store ${file}: ${(e as Error).message}`);
  }
}
