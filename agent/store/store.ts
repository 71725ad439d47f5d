/**
 * The store as every caller sees it, whatever keeps the data: SQLite (one file, the embedded
 * default) or PostgreSQL (a fleet of sensors and API replicas on one database). Every method
 * returns a promise; the semantics are the same on both backends and are checked by one
 * conformance suite (test/unit/store), which runs every store test against both.
 *
 * Errors: `StoreInputError` for bad input (API 400), `AlertTransitionError` for a lifecycle
 * change not allowed from the alert's status (API 409); anything else is the backend failing.
 */
import type {
  Alert,
  AlertCandidate,
  AlertQuery,
  AlertWithHistory,
  AuditEntry,
  AuditInput,
  AuditQuery,
  DeviceRow,
  FlowHistoryExtent,
  FlowHistoryRow,
  FlowHistoryWriteResult,
  FlowMatrix,
  FlowMatrixQuery,
  FlowPeers,
  FlowPeersQuery,
  Page,
  PruneCutoff,
  PruneResult,
  RemoteSession,
  RemoteSessionQuery,
  RemoteSessionRow,
  RemoteSessionWriteResult,
  Severity,
  UpsertResult,
} from './types.js';

export const DEFAULT_RETENTION_DAYS = 180;
/** Actor of lifecycle changes the sensor makes itself (a resolved alert firing again). */
export const SYSTEM_ACTOR = 'muvakt';

export type StoreBackend = 'sqlite' | 'postgres';

export interface UpsertOptions {
  /** Asked once per alert that does not exist yet; false refuses it (the per-rule rate cap). */
  admitNew?: (ruleId: string) => boolean;
}

export interface DeviceQuery {
  limit?: number;
  cursor?: string;
  zone?: string;
  /** Devices sighted by any of these sensors. */
  sensor?: string | string[];
}

/** What both backends take when opened. */
export interface StoreOptions {
  /**
   * The name of the muvakt instance writing through this handle (`--sensor`, default the host
   * name): added to the alerts it upserts, the devices it sights and the audit rows it writes.
   */
  sensor?: string;
  /** Days to keep alerts (by last_seen, relative to the newest alert) and audit rows; default 180 (LEV 6.3). */
  retentionDays?: number;
  /** Prune at open (default true). Readers (`serve`, `evidence`) pass false: they never delete. */
  pruneOnOpen?: boolean;
  /** Told of every prune that deleted something (the process logs it: see agent/store-file.ts); default: nobody. */
  onPrune?: (result: PruneResult, cutoff: PruneCutoff) => void;
  /** Clock (epoch ms) for updated_at, audit and pruning; default Date.now. */
  now?: () => number;
}

export interface Store {
  readonly backend: StoreBackend;
  /** Where the data is, safe to log: a file path, or a PostgreSQL URL without its password. */
  readonly location: string;
  /** The instance name written beside alerts, device sightings and audit rows. */
  readonly sensor: string;
  readonly retentionDays: number;
  readonly isOpen: boolean;

  // ---------------------------------------------------------------- alerts
  /**
   * Validates, PHI-checks and bounds each candidate, then applies the batch in one transaction:
   * a new (rule_id, subject) is inserted; an existing alert's count grows by the candidate's,
   * last_seen moves later, first_seen earlier, severity only escalates, evidence/title/
   * recommendation become the latest; a resolved alert reopens (history row by `muvakt`),
   * an acknowledged one stays acknowledged. When the promise resolves, the batch is committed.
   */
  upsertAlerts(batch: readonly AlertCandidate[], options?: UpsertOptions): Promise<UpsertResult>;
  /** One page, newest first (or most severe first), keyset-paginated; the cursor is bound to the query. */
  listAlerts(q?: AlertQuery): Promise<Page<Alert>>;
  getAlert(id: string): Promise<AlertWithHistory | null>;
  /** Open alerts by severity (for `muvakt_alerts_open{severity}`). */
  openCounts(): Promise<Record<Severity, number>>;
  acknowledge(id: string, actor: string, comment?: string): Promise<AlertWithHistory | null>;
  resolve(id: string, actor: string, comment?: string): Promise<AlertWithHistory | null>;
  reopen(id: string, actor: string, comment?: string): Promise<AlertWithHistory | null>;

  // ---------------------------------------------------------------- audit
  /** Records who read or changed what; resolves with the row id once it is committed. */
  audit(entry: AuditInput): Promise<number>;
  listAudit(q?: AuditQuery): Promise<Page<AuditEntry>>;

  // ---------------------------------------------------------------- inventory
  /** Writes device records (newer record wins; PHI-like records refused). Resolves with how many were saved. */
  saveDevices(rows: readonly DeviceRow[]): Promise<number>;
  listDevices(q?: DeviceQuery): Promise<Page<unknown>>;
  getDevice(id: string): Promise<unknown | null>;

  // ---------------------------------------------------------------- flow history (docs/flows.md)
  /** Adds flow-history rows; a row for a key already stored sums into it (upsert-add). Bad or PHI-like rows are refused and counted. */
  addFlowHistory(rows: readonly FlowHistoryRow[]): Promise<FlowHistoryWriteResult>;
  /** The zone matrix of the buckets overlapping [since, until], of one sensor or all. StoreInputError for bad bounds. */
  flowMatrix(q?: FlowMatrixQuery): Promise<FlowMatrix>;
  /** Sensors with flow history and the time span it covers (of one sensor, if given). */
  flowHistoryExtent(sensor?: string): Promise<FlowHistoryExtent>;
  /** Address pairs (peer rows) of some addresses or of one zone pair, over the buckets overlapping [since, until], with flows per bucket. StoreInputError for bad input. */
  flowPeers(q: FlowPeersQuery): Promise<FlowPeers>;

  // ---------------------------------------------------------------- remote-access sessions (docs/remote-sessions.md)
  /** Writes sessions by id; a write whose last packet is older than the stored one's changes nothing. Bad or PHI-like rows are refused and counted. */
  upsertRemoteSessions(rows: readonly RemoteSessionRow[]): Promise<RemoteSessionWriteResult>;
  /** Sessions, newest start first, filtered and keyset-paginated; StoreInputError for bad filters or a foreign cursor. */
  listRemoteSessions(q?: RemoteSessionQuery): Promise<Page<RemoteSession>>;

  // ---------------------------------------------------------------- small state
  kvGet<T = unknown>(key: string): Promise<T | undefined>;
  kvSet(key: string, value: unknown): Promise<void>;
  kvDelete(key: string): Promise<boolean>;
  /** The entries whose key starts with `prefix`, in key order, at most `limit` (default and cap 10,000). */
  kvList<T = unknown>(prefix: string, limit?: number): Promise<{ key: string; value: T }[]>;

  // ---------------------------------------------------------------- upkeep
  /** Deletes alerts, audit rows, flow history and remote sessions past retention (all but audit relative to their newest data). */
  prune(now?: number | Date, days?: number): Promise<PruneResult>;
  /** The schema version in force (the highest migration applied). */
  schemaVersion(): Promise<number>;
  close(): Promise<void>;
}
