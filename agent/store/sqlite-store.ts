/**
 * The alert store: SQLite through better-sqlite3, one connection that is the only writer.
 *
 * Durability: WAL with `synchronous=NORMAL`. A transaction is complete in the WAL file (in
 * the kernel's page cache) when COMMIT returns, so a process crash or kill -9 after that
 * cannot lose it; the WAL is fsynced at checkpoints, so a power loss or kernel crash may
 * roll back the last commits (never corrupt the file). `synchronous: 'full'` fsyncs every
 * commit for power-loss durability at a cost in latency.
 *
 * Files: a new store is created 0600 before SQLite opens it (SQLite gives its -wal and -shm
 * the main file's mode), so the umask cannot widen it.
 *
 * Retention: alerts are kept `retentionDays` before the newest alert in the store (or the
 * clock, if that is earlier), so a store of old captures keeps its results; audit rows follow
 * the clock. A read-only opener (`serve`, `evidence`) passes `pruneOnOpen: false`.
 *
 * Privacy: `secure_delete` zeroes deleted content, `temp_store=MEMORY` keeps sorts and
 * temporary tables off disk, and after a prune the WAL is checkpointed and truncated so old
 * page images do not linger. Candidates whose evidence holds a fødselsnummer-like value are
 * refused before they reach SQLite.
 */
import { closeSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { MIGRATIONS, migrate, schemaVersion, type Migration } from './schema.js';
import { SqliteFlowHistory } from './sqlite-flow-history.js';
import { SqliteRemoteSessions } from './sqlite-remote-sessions.js';
import {
  ALERT_COLS,
  KIND_RANK,
  alertListPlan,
  asList,
  mergeSensors,
  sightingsOf,
  type SightingRow,
  alertOf,
  auditListPlan,
  auditRow,
  checkRetention,
  checkTransitionInput,
  deviceCursor,
  deviceLimit,
  emptyUpsertResult,
  encodeDeviceCursor,
  kvJson,
  KV_LIST_MAX,
  parseJson,
  prepareCandidate,
  pruneCutoffs,
  rowToAlert,
  subjectJson,
  type AlertRow,
  type Prepared,
} from './query.js';
import { DEFAULT_RETENTION_DAYS, SYSTEM_ACTOR, type DeviceQuery, type Store, type StoreOptions, type UpsertOptions } from './store.js';
import {
  type AuditEntry,
  type DeviceRow,
  type RemoteSession,
  type RemoteSessionQuery,
  type RemoteSessionRow,
  type RemoteSessionWriteResult,
  type FlowHistoryExtent,
  type FlowHistoryRow,
  type FlowHistoryWriteResult,
  type FlowMatrix,
  type FlowMatrixQuery,
  type FlowPeers,
  type FlowPeersQuery,
  type PruneCutoff,
  type AuditInput,
  type AuditQuery,
  type Alert,
  type AlertCandidate,
  type AlertHistoryEntry,
  type AlertQuery,
  type AlertStatus,
  type AlertWithHistory,
  type HistoryAction,
  type Page,
  type PruneResult,
  type Severity,
  type UpsertResult,
  AlertTransitionError,
  SEVERITY_RANK,
  StoreInputError,
} from './types.js';
import { defaultSensorName, isSensorName } from './sensor-name.js';
import { inPrefix, SQLITE_IP_IN } from './ip-prefix.js';
import { containsFnr, tsFromMs } from './values.js';

export { DEFAULT_RETENTION_DAYS, SYSTEM_ACTOR, type UpsertOptions };

export interface SqliteStoreOptions extends StoreOptions {
  /** 'normal' (default): durable against process crash. 'full': also against power loss. */
  synchronous?: 'normal' | 'full';
  /** For tests and future versions; default MIGRATIONS. */
  migrations?: readonly Migration[];
  /** Milliseconds to wait for another process's write lock (e.g. `serve` next to `run`); default 5000. */
  busyTimeoutMs?: number;
}

/** Creates the store file 0600 if it does not exist yet (an explicit mode: the umask can only narrow it). */
function createPrivate(path: string): void {
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}


export class SqliteStore implements Store {
  readonly backend = 'sqlite' as const;
  readonly path: string;
  readonly retentionDays: number;
  readonly sensor: string;
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly onPrune: (result: PruneResult, cutoff: PruneCutoff) => void;
  private readonly flowHistory: SqliteFlowHistory;
  private readonly remoteSessions: SqliteRemoteSessions;
  private readonly queryCache = new Map<string, Database.Statement>();
  private closed = false;

  private readonly sSelectForUpsert: Database.Statement;
  private readonly sInsert: Database.Statement;
  private readonly sUpdate: Database.Statement;
  private readonly sGet: Database.Statement;
  private readonly sHistory: Database.Statement;
  private readonly sInsertHistory: Database.Statement;
  private readonly sStatus: Database.Statement;
  private readonly sSetStatus: Database.Statement;
  private readonly sAudit: Database.Statement;
  private readonly sKvGet: Database.Statement;
  private readonly sKvSet: Database.Statement;
  private readonly sKvDel: Database.Statement;
  private readonly sOpenCounts: Database.Statement;

  /** Opens (creating if needed) the store at `path`, applies migrations and prunes. */
  static open(path: string, options: SqliteStoreOptions = {}): SqliteStore {
    return new SqliteStore(path, options);
  }

  private constructor(path: string, options: SqliteStoreOptions) {
    const days = options.retentionDays ?? DEFAULT_RETENTION_DAYS;
    checkRetention(days);
    const sensor = options.sensor ?? defaultSensorName();
    if (!isSensorName(sensor)) throw new StoreInputError(`sensor: "${sensor}" is not a sensor name`);
    this.sensor = sensor;
    this.path = path;
    this.retentionDays = days;
    this.now = options.now ?? Date.now;
    this.onPrune = options.onPrune ?? (() => {});
    if (path !== ':memory:' && path !== '') createPrivate(path);
    const db = new Database(path, { timeout: options.busyTimeoutMs ?? 5000 });
    this.db = db;
    // The alert list's CIDR filter (PostgreSQL has inet for it).
    db.function(SQLITE_IP_IN, { deterministic: true }, inPrefix);
    try {
      // auto_vacuum only takes effect on a new file (before the first table): set it first.
      db.pragma('auto_vacuum = INCREMENTAL');
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      db.pragma('foreign_keys = ON');
      db.pragma('secure_delete = ON');
      db.pragma('temp_store = MEMORY');
      // After a checkpoint the WAL is truncated to this size rather than left at its peak.
      db.pragma(`journal_size_limit = ${16 << 20}`);
      migrate(db, options.migrations ?? MIGRATIONS, tsFromMs(this.now()).iso);
    } catch (e) {
      db.close();
      throw e;
    }

    this.sSelectForUpsert = db.prepare('SELECT count, first_seen, first_seen_ms, last_seen, last_seen_ms, status, severity, sensors FROM alerts WHERE id = ?');
    this.sInsert = db.prepare(
      `INSERT INTO alerts (id, rule_id, title, severity, sev_rank, guide_refs, first_seen, first_seen_ms, last_seen, last_seen_ms, count, status,
         subject, src_ip, dst_ip, zone_src, zone_dst, device_id, evidence, recommendation, updated_at, sensors)
       VALUES (@id, @rule_id, @title, @severity, @sev_rank, @guide_refs, @first_seen, @first_seen_ms, @last_seen, @last_seen_ms, @count, 'open',
         @subject, @src_ip, @dst_ip, @zone_src, @zone_dst, @device_id, @evidence, @recommendation, @updated_at, @sensors)`,
    );
    this.sUpdate = db.prepare(
      `UPDATE alerts SET title = @title, severity = @severity, sev_rank = @sev_rank, guide_refs = @guide_refs,
         first_seen = @first_seen, first_seen_ms = @first_seen_ms, last_seen = @last_seen, last_seen_ms = @last_seen_ms,
         count = @count, status = @status, evidence = @evidence, recommendation = @recommendation, updated_at = @updated_at,
         sensors = @sensors
       WHERE id = @id`,
    );
    this.sGet = db.prepare(`SELECT ${ALERT_COLS} FROM alerts WHERE id = ?`);
    this.sHistory = db.prepare('SELECT at, actor, action, comment FROM alert_history WHERE alert_id = ? ORDER BY id');
    this.sInsertHistory = db.prepare('INSERT INTO alert_history (alert_id, at, at_ms, actor, action, comment) VALUES (?, ?, ?, ?, ?, ?)');
    this.sStatus = db.prepare('SELECT status FROM alerts WHERE id = ?');
    this.sSetStatus = db.prepare('UPDATE alerts SET status = ?, updated_at = ? WHERE id = ?');
    this.sAudit = db.prepare('INSERT INTO audit_log (at, at_ms, actor, role, action, query, sensor) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.sKvGet = db.prepare('SELECT value FROM kv WHERE key = ?');
    this.sKvSet = db.prepare('INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at');
    this.sKvDel = db.prepare('DELETE FROM kv WHERE key = ?');
    this.sOpenCounts = db.prepare("SELECT severity, count(*) AS n FROM alerts WHERE status = 'open' GROUP BY severity");
    this.flowHistory = new SqliteFlowHistory(db);
    this.remoteSessions = new SqliteRemoteSessions(db);

    if (options.pruneOnOpen ?? true) this.pruneNow(this.now(), this.retentionDays);
  }

  // ------------------------------------------------------------------ writing alerts

  /**
   * Validates, PHI-checks and bounds each candidate, then applies the batch in one IMMEDIATE
   * transaction: new (rule_id, subject) → insert; existing → count and last_seen grow,
   * evidence/title/recommendation become the latest, severity only escalates (the highest
   * seen), first_seen is kept (or moves earlier for out-of-order input); a resolved alert reopens (history row by `muvakt`),
   * acknowledged stays acknowledged. When this returns, the batch is committed.
   */
  async upsertAlerts(batch: readonly AlertCandidate[], options: UpsertOptions = {}): Promise<UpsertResult> {
    const result = emptyUpsertResult();
    const prepared: Prepared[] = [];
    for (const c of batch) {
      const p = prepareCandidate(c, result);
      if (p !== null) prepared.push(p);
    }
    if (prepared.length === 0) return result;

    const kinds = new Map<string, { kind: 'created' | 'updated' | 'reopened'; alert: Alert }>();
    const nowTs = tsFromMs(this.now());
    this.db
      .transaction(() => {
        for (const p of prepared) {
          const c = p.c;
          const row = this.sSelectForUpsert.get(p.id) as
            | { count: number; first_seen: string; first_seen_ms: number; last_seen: string; last_seen_ms: number; status: AlertStatus; severity: Severity; sensors: string }
            | undefined;
          let status: AlertStatus = 'open';
          let severity = c.severity;
          let first = p.first;
          let last = p.last;
          let count = p.count;
          let sensors = [this.sensor];
          let kind: 'created' | 'updated' | 'reopened';
          if (row === undefined) {
            if (options.admitNew !== undefined && !options.admitNew(c.rule_id)) {
              result.capped++;
              continue;
            }
            this.sInsert.run({
              id: p.id,
              rule_id: c.rule_id,
              title: c.title,
              severity: c.severity,
              sev_rank: SEVERITY_RANK[c.severity],
              guide_refs: p.guideRefs,
              first_seen: first.iso,
              first_seen_ms: first.ms,
              last_seen: last.iso,
              last_seen_ms: last.ms,
              count,
              subject: subjectJson(c.subject),
              src_ip: c.subject.src_ip,
              dst_ip: c.subject.dst_ip,
              zone_src: c.subject.zone_src,
              zone_dst: c.subject.zone_dst,
              device_id: c.subject.device_id || null,
              evidence: p.evidence,
              recommendation: c.recommendation,
              updated_at: nowTs.iso,
              sensors: JSON.stringify(sensors),
            });
            kind = 'created';
          } else {
            if (row.first_seen <= first.iso) first = { iso: row.first_seen, ms: row.first_seen_ms };
            if (row.last_seen > last.iso) last = { iso: row.last_seen, ms: row.last_seen_ms };
            count += row.count;
            status = row.status;
            sensors = mergeSensors(parseJson<string[]>(row.sensors, []), this.sensor);
            if (SEVERITY_RANK[row.severity] > SEVERITY_RANK[severity]) severity = row.severity;
            kind = 'updated';
            if (status === 'resolved') {
              status = 'open';
              kind = 'reopened';
              this.sInsertHistory.run(p.id, nowTs.iso, nowTs.ms, SYSTEM_ACTOR, 'reopen', `fired again at ${p.last.iso}`);
            }
            this.sUpdate.run({
              id: p.id,
              title: c.title,
              severity,
              sev_rank: SEVERITY_RANK[severity],
              guide_refs: p.guideRefs,
              first_seen: first.iso,
              first_seen_ms: first.ms,
              last_seen: last.iso,
              last_seen_ms: last.ms,
              count,
              status,
              evidence: p.evidence,
              recommendation: c.recommendation,
              updated_at: nowTs.iso,
              sensors: JSON.stringify(sensors),
            });
          }
          const prev = kinds.get(p.id);
          // The same alert twice in one batch: created beats reopened beats updated.
          kinds.set(p.id, {
            kind: prev !== undefined && KIND_RANK[prev.kind] > KIND_RANK[kind] ? prev.kind : kind,
            alert: alertOf(p, { severity, first: first.iso, last: last.iso, count, status, updatedAt: nowTs.iso, sensors }),
          });
        }
      })
      .immediate();
    for (const { kind, alert } of kinds.values()) result[kind].push(alert);
    return result;
  }

  // ------------------------------------------------------------------ reading alerts

  /**
   * One page of alerts, newest first (or most severe first, then newest). Keyset pagination
   * on (sort key, id): a row inserted while a client pages never shifts or duplicates the
   * rows after the cursor. last_seen and severity only grow, so an alert updated while a
   * client pages moves towards page 1: it is never returned twice, and shows on the first page of a
   * fresh listing. The cursor is opaque and bound to the query's filters and sort.
   */
  async listAlerts(q: AlertQuery = {}): Promise<Page<Alert>> {
    const plan = alertListPlan(q, 'sqlite');
    const rows = this.cached(`SELECT ${ALERT_COLS} FROM alerts${plan.where}${plan.orderLimit}`).all(...plan.params, plan.limit + 1) as AlertRow[];
    const more = rows.length > plan.limit;
    if (more) rows.length = plan.limit;
    return { items: rows.map(rowToAlert), next_cursor: more ? plan.cursorAfter(rows[rows.length - 1]) : null };
  }

  /** The alert with its lifecycle history (oldest first), or null. */
  async getAlert(id: string): Promise<AlertWithHistory | null> {
    return this.alertNow(id);
  }

  private alertNow(id: string): AlertWithHistory | null {
    if (typeof id !== 'string') return null;
    const row = this.sGet.get(id) as AlertRow | undefined;
    if (row === undefined) return null;
    return { ...rowToAlert(row), history: this.sHistory.all(id) as AlertHistoryEntry[] };
  }

  /** Open alerts by severity (for `muvakt_alerts_open{severity}`). */
  async openCounts(): Promise<Record<Severity, number>> {
    const out: Record<Severity, number> = { low: 0, medium: 0, high: 0, critical: 0 };
    for (const r of this.sOpenCounts.all() as { severity: Severity; n: number }[]) out[r.severity] = r.n;
    return out;
  }

  // ------------------------------------------------------------------ lifecycle

  /** open → acknowledged. Null for an unknown id; AlertTransitionError from any other status. */
  async acknowledge(id: string, actor: string, comment = ''): Promise<AlertWithHistory | null> {
    return this.transition(id, actor, comment, 'ack', ['open'], 'acknowledged');
  }

  /** open | acknowledged → resolved. */
  async resolve(id: string, actor: string, comment = ''): Promise<AlertWithHistory | null> {
    return this.transition(id, actor, comment, 'resolve', ['open', 'acknowledged'], 'resolved');
  }

  /** acknowledged | resolved → open (an officer undoing an ack or resolve). */
  async reopen(id: string, actor: string, comment = ''): Promise<AlertWithHistory | null> {
    return this.transition(id, actor, comment, 'reopen', ['acknowledged', 'resolved'], 'open');
  }

  private transition(id: string, actor: string, comment: string, action: HistoryAction, from: AlertStatus[], to: AlertStatus): AlertWithHistory | null {
    checkTransitionInput(actor, comment);
    if (typeof id !== 'string') return null;
    const t = tsFromMs(this.now());
    const found = this.db
      .transaction(() => {
        const row = this.sStatus.get(id) as { status: AlertStatus } | undefined;
        if (row === undefined) return false;
        if (!from.includes(row.status)) throw new AlertTransitionError(id, row.status, action);
        this.sSetStatus.run(to, t.iso, id);
        this.sInsertHistory.run(id, t.iso, t.ms, actor, action, comment);
        return true;
      })
      .immediate();
    return found ? this.alertNow(id) : null;
  }

  // ------------------------------------------------------------------ audit

  /** Records who read or changed what. The query is bounded to 4 KiB and fødselsnummer-like values are redacted. Returns the row id. */
  async audit(entry: AuditInput): Promise<number> {
    const r = auditRow(entry, this.now());
    return Number(this.sAudit.run(r.at.iso, r.at.ms, r.actor, r.role, r.action, r.query, this.sensor).lastInsertRowid);
  }

  /**
   * Writes device records of the inventory (one transaction; a device seen again is replaced
   * by its newer record, devices not in the batch stay). Records are refused if they hold a
   * fødselsnummer-like value, like alert evidence.
   */
  async saveDevices(rows: readonly DeviceRow[]): Promise<number> {
    const sight = this.cached(
      `INSERT INTO device_sightings (device_id, sensor, first_seen_ms, last_seen_ms) VALUES (?, ?, ?, ?)
       ON CONFLICT (device_id, sensor) DO UPDATE SET first_seen_ms = min(first_seen_ms, excluded.first_seen_ms), last_seen_ms = max(last_seen_ms, excluded.last_seen_ms)`,
    );
    const put = this.db.prepare(
      `INSERT INTO inventory_devices (id, zone, role, exposure_score, exposure_level, first_seen_ms, last_seen_ms, summary, detail)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET zone = excluded.zone, role = excluded.role, exposure_score = excluded.exposure_score,
         exposure_level = excluded.exposure_level, first_seen_ms = min(first_seen_ms, excluded.first_seen_ms),
         last_seen_ms = max(last_seen_ms, excluded.last_seen_ms), summary = excluded.summary, detail = excluded.detail`,
    );
    let saved = 0;
    this.db.transaction(() => {
      for (const r of rows) {
        const summary = JSON.stringify(r.summary);
        const detail = JSON.stringify(r.detail);
        if (containsFnr(summary) || containsFnr(detail)) continue;
        put.run(r.id, r.zone, r.role, r.score, r.level, r.firstSeenMs, r.lastSeenMs, summary, detail);
        sight.run(r.id, this.sensor, r.firstSeenMs, r.lastSeenMs);
        saved++;
      }
    }).immediate();
    return saved;
  }

  /** Device summaries, most exposed first, keyset-paginated on (score, id). */
  async listDevices(q: DeviceQuery = {}): Promise<Page<unknown>> {
    const limit = deviceLimit(q.limit);
    const after = deviceCursor(q.cursor);
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.zone !== undefined) {
      where.push('zone = ?');
      args.push(q.zone);
    }
    const sensor = asList(q.sensor, null, 'sensor');
    if (sensor !== null) {
      where.push('id IN (SELECT device_id FROM device_sightings WHERE sensor IN (SELECT value FROM json_each(?)))');
      args.push(JSON.stringify(sensor));
    }
    if (after) {
      where.push('(exposure_score < ? OR (exposure_score = ? AND id > ?))');
      args.push(after.s, after.s, after.id);
    }
    const rows = this.cached(
      `SELECT id, exposure_score AS s, summary,
         (SELECT json_group_array(sensor) FROM (SELECT sensor FROM device_sightings WHERE device_id = inventory_devices.id ORDER BY sensor)) AS sensors
       FROM inventory_devices ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY exposure_score DESC, id LIMIT ?`,
    ).all(...args, limit + 1) as { id: string; s: number; summary: string; sensors: string }[];
    const items = rows.slice(0, limit).map((r) => ({ ...(JSON.parse(r.summary) as object), sensors: parseJson<string[]>(r.sensors, []) }) as unknown);
    const last = rows.length > limit ? rows[limit - 1] : null;
    return { items, next_cursor: last ? encodeDeviceCursor(last.s, last.id) : null };
  }

  async getDevice(id: string): Promise<unknown | null> {
    const row = this.db.prepare('SELECT detail FROM inventory_devices WHERE id = ?').get(id) as { detail: string } | undefined;
    if (!row) return null;
    const sightings = sightingsOf(
      this.cached('SELECT sensor, first_seen_ms, last_seen_ms FROM device_sightings WHERE device_id = ? ORDER BY sensor').all(id) as SightingRow[],
    );
    return { ...(JSON.parse(row.detail) as object), sensors: sightings.map((s) => s.sensor), sightings };
  }

  /** Audit rows, newest first, keyset-paginated on id. */
  async listAudit(q: AuditQuery = {}): Promise<Page<AuditEntry>> {
    const plan = auditListPlan(q);
    const sql = `SELECT id, at, actor, role, action, query, sensor FROM audit_log${plan.where} ORDER BY id DESC LIMIT ?`;
    const rows = this.cached(sql).all(...plan.params, plan.limit + 1) as { id: number; at: string; actor: string; role: string; action: string; query: string; sensor: string }[];
    const more = rows.length > plan.limit;
    if (more) rows.length = plan.limit;
    return {
      items: rows.map((r) => ({ ...r, query: parseJson<unknown>(r.query, null) })),
      next_cursor: more ? plan.cursorAfter(rows[rows.length - 1].id) : null,
    };
  }

  // ------------------------------------------------------------------ flow history

  async addFlowHistory(rows: readonly FlowHistoryRow[]): Promise<FlowHistoryWriteResult> {
    return this.flowHistory.add(rows);
  }

  async flowMatrix(q: FlowMatrixQuery = {}): Promise<FlowMatrix> {
    return this.flowHistory.matrix(q);
  }

  async flowHistoryExtent(sensor?: string): Promise<FlowHistoryExtent> {
    return this.flowHistory.extent(sensor);
  }

  async flowPeers(q: FlowPeersQuery): Promise<FlowPeers> {
    return this.flowHistory.peers(q);
  }

  // ------------------------------------------------------------------ remote-access sessions

  async upsertRemoteSessions(rows: readonly RemoteSessionRow[]): Promise<RemoteSessionWriteResult> {
    return this.remoteSessions.upsert(rows);
  }

  async listRemoteSessions(q: RemoteSessionQuery = {}): Promise<Page<RemoteSession>> {
    return this.remoteSessions.list(q);
  }

  // ------------------------------------------------------------------ small state

  async kvGet<T = unknown>(key: string): Promise<T | undefined> {
    const row = this.sKvGet.get(key) as { value: string } | undefined;
    return row === undefined ? undefined : parseJson<T | undefined>(row.value, undefined);
  }

  /** Stores a JSON value (≤ 1 MiB). Not pruned: the owner (inventory, baseline) ages its own state. */
  async kvSet(key: string, value: unknown): Promise<void> {
    const json = kvJson(key, value);
    this.sKvSet.run(key, json, tsFromMs(this.now()).iso);
  }

  async kvDelete(key: string): Promise<boolean> {
    return this.sKvDel.run(key).changes > 0;
  }

  async kvList<T = unknown>(prefix: string, limit = KV_LIST_MAX): Promise<{ key: string; value: T }[]> {
    const rows = this.cached('SELECT key, value FROM kv WHERE substr(key, 1, ?) = ? ORDER BY key LIMIT ?').all(prefix.length, prefix, Math.min(Math.max(1, limit), KV_LIST_MAX)) as { key: string; value: string }[];
    return rows.map((r) => ({ key: r.key, value: parseJson<T>(r.value, undefined as T) }));
  }

  // ------------------------------------------------------------------ retention

  /**
   * Deletes alerts whose last_seen is more than `days` before the newest alert's last_seen
   * (or before `now`, if that is earlier), with their history, and audit rows older than `days`
   * before `now` (LEV 6.3), and flow-history buckets more than `days` before the newest bucket's
   * end (or `now`). Measured from the newest data, a store of captures analysed long after they
   * were taken keeps their results; on a live sensor the newest data is about now.
   * Deleted content is zeroed (secure_delete), free pages are returned to the file system and
   * the WAL is checkpointed and truncated. What was deleted is reported to `onPrune`.
   */
  async prune(now: number | Date = this.now(), days: number = this.retentionDays): Promise<PruneResult> {
    return this.pruneNow(now, days);
  }

  private pruneNow(now: number | Date, days: number): PruneResult {
    checkRetention(days, 'days');
    const clock = typeof now === 'number' ? now : now.getTime();
    const newest = (this.cached('SELECT max(last_seen_ms) AS m FROM alerts').get() as { m: number | null }).m;
    const { alerts: alertCutoff, audit: auditCutoff } = pruneCutoffs(clock, newest, days);
    const flowCutoff = this.flowHistory.cutoff(clock, days);
    const sessionCutoff = this.remoteSessions.cutoff(clock, days);
    const res = this.db
      .transaction((): PruneResult => {
        const history = this.cached('DELETE FROM alert_history WHERE alert_id IN (SELECT id FROM alerts WHERE last_seen_ms < ?)').run(alertCutoff).changes;
        const alerts = this.cached('DELETE FROM alerts WHERE last_seen_ms < ?').run(alertCutoff).changes;
        const audit = this.cached('DELETE FROM audit_log WHERE at_ms < ?').run(auditCutoff).changes;
        const flow_history = this.flowHistory.prune(flowCutoff);
        const remote_sessions = this.remoteSessions.prune(sessionCutoff);
        return { alerts, history, audit, flow_history, remote_sessions };
      })
      .immediate();
    if (res.alerts + res.history + res.audit + res.flow_history + res.remote_sessions > 0) {
      this.db.pragma('incremental_vacuum');
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      this.onPrune(res, { alerts: tsFromMs(alertCutoff).iso, audit: tsFromMs(auditCutoff).iso, flow_history: tsFromMs(flowCutoff).iso, remote_sessions: tsFromMs(sessionCutoff).iso });
    }
    return res;
  }

  // ------------------------------------------------------------------ lifecycle of the store

  /** Checkpoints the WAL into the main file (e.g. before a backup). */
  checkpoint(): void {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  async schemaVersion(): Promise<number> {
    return schemaVersion(this.db);
  }

  get location(): string {
    return this.path;
  }

  async close(): Promise<void> {
    this.closeNow();
  }

  /** Closes at once (the file is closed when this returns). */
  closeNow(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.db.pragma('optimize');
    } finally {
      this.db.close();
    }
  }

  private cached(sql: string): Database.Statement {
    let s = this.queryCache.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      // Filter combinations are finite, but keep the cache bounded anyway.
      if (this.queryCache.size >= 256) this.queryCache.clear();
      this.queryCache.set(sql, s);
    }
    return s;
  }
}
