export { DEFAULT_RETENTION_DAYS, SYSTEM_ACTOR, type Store, type StoreBackend, type StoreOptions, type UpsertOptions, type DeviceQuery } from './store.js';
export { SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
export { AlertWriter, RateCap, type AlertWriterOptions, type AlertWriterStats } from './alert-writer.js';
export { MIGRATIONS, migrate, schemaVersion, type Migration } from './schema.js';
export { MAX_MATRIX_ITEMS, MAX_PEER_ITEMS, validFlowHistoryRow } from './flow-history.js';
export { validRemoteSessionRow } from './remote-sessions.js';
export { alertId, alertKey, containsFnr, redactFnr, MAX_EVIDENCE_BYTES } from './values.js';
export * from './types.js';
