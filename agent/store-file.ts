import { ConfigError } from './errors.js';
import { openStore, redactDbUrl, redactMessage, type OpenStoreOptions } from './store/open.js';
import type { PruneCutoff, PruneResult, Store } from './store/index.js';

/**
 * What retention deleted, as one info line on the process log. The logger is loaded only when a
 * prune deleted something: a run that prunes nothing never loads it.
 */
function logPrune(result: PruneResult, cutoff: PruneCutoff): void {
  void import('./log.js').then(({ createLogger }) =>
    createLogger()
      .child({ component: 'store' })
      .info({ ...result, alerts_before: cutoff.alerts, audit_before: cutoff.audit, flow_history_before: cutoff.flow_history, remote_sessions_before: cutoff.remote_sessions }, 'retention: deleted old alerts, audit rows, flow history and remote sessions'),
  );
}

/**
 * Opens (and migrates) the store the operator named — a SQLite file or a `postgres://` URL —
 * or stops with why it cannot (exit 2). The URL's password never appears in the message.
 */
export async function openStoreAt(location: string, options: OpenStoreOptions = {}): Promise<Store> {
  try {
    return await openStore(location, { onPrune: logPrune, ...options });
  } catch (e) {
    throw new ConfigError(`cannot open the store ${redactDbUrl(location)}: ${redactMessage((e as Error).message, location)}`);
  }
}
