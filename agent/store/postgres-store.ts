/**
 * The alert store on PostgreSQL (node-postgres, a `pg.Pool`): for a fleet, several sensors and
 * API replicas on one database. Same semantics as the SQLite store (one conformance suite runs
 * against both); what differs is how several writers stay correct:
 *
 * - Alert upserts are one `INSERT … ON CONFLICT (id) DO UPDATE` per batch whose SET merges in
 *   SQL (count = stored + new, earliest first_seen, latest last_seen, highest severity), so two
 *   sensors upserting the same alert at once give one row with both counts. Existing rows of the
 *   batch are locked first (`FOR UPDATE`, in id order, so two batches never deadlock), which
 *   tells resolved-and-firing-again (reopen, with its history row) from a plain update.
 * - Lifecycle changes lock the row (`FOR UPDATE`) before checking the status.
 * - Audit rows commit before the API handler runs (the route awaits `audit()`).
 * - Migrations take an advisory lock (pg-schema.ts).
 *
 * Durability: COMMIT returns once the server has the transaction in its WAL (with the server's
 * default `synchronous_commit = on`, flushed to disk), so kill -9 of a sensor loses nothing
 * reported as stored. Retention is relative to the newest alert, as in SQLite; PostgreSQL does
 * not zero deleted rows (SQLite's secure_delete): VACUUM reclaims them (see docs/deployment.md).
 *
 * The URL's password is never logged; pass it in PGPASSWORD or a PGPASSFILE rather than the URL.
 */
import pg from 'pg';
import { PG_MIGRATIONS, pgMigrate, pgSchemaVersion, type PgMigration } from './pg-schema.js';
import { PgFlowHistory } from './pg-flow-history.js';
import { PgRemoteSessions } from './pg-remote-sessions.js';
import { redactDbUrl } from './location.js';
import {
  ALERT_COLS,
  MAX_SENSORS_PER_ALERT,
  alertListPlan,
  asList,
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
  type Alert,
  type AlertCandidate,
  type AlertHistoryEntry,
  type AlertQuery,
  type AlertStatus,
  type AlertWithHistory,
  type AuditEntry,
  type AuditInput,
  type AuditQuery,
  type DeviceRow,
  type HistoryAction,
  type Page,
  type PruneResult,
  type Severity,
  type UpsertResult,
  AlertTransitionError,
  SEVERITY_RANK,
  StoreInputError,
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
} from './types.js';
import { defaultSensorName, isSensorName } from './sensor-name.js';
import { containsFnr, tsFromMs } from './values.js';

export interface PostgresStoreOptions extends StoreOptions {
  /** Connections in the pool (default 4: a sensor writes one batch at a time). */
  poolSize?: number;
  /** For tests and future versions; default PG_MIGRATIONS. */
  migrations?: readonly PgMigration[];
  /** Milliseconds to wait for a connection (default 10 000). */
  connectTimeoutMs?: number;
}

const INT8_OID = 20;
/** int8 (BIGINT, count(*)) as a JS number: every value the store keeps fits in 2^53. */
const TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID && format !== 'binary') return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format);
  },
} as unknown as pg.CustomTypesConfig;

/** `?` placeholders (query.ts) → `$1, $2, …`. The store's own SQL has no other `?`. */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

interface Merged {
  p: Prepared;
  severity: Severity;
}

export class PostgresStore implements Store {
  readonly backend = 'postgres' as const;
  readonly location: string;
  readonly retentionDays: number;
  readonly sensor: string;
  private readonly pool: pg.Pool;
  private readonly now: () => number;
  private readonly onPrune: (result: PruneResult, cutoff: PruneCutoff) => void;
  private closed = false;

  /** Connects, migrates (once, whoever else starts at the same time) and prunes unless told not to. */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const store = new PostgresStore(url, options);
    try {
      await pgMigrate(store.pool, options.migrations ?? PG_MIGRATIONS, tsFromMs(store.now()).iso);
      if (options.pruneOnOpen ?? true) await store.prune();
    } catch (e) {
      await store.close();
      throw e;
    }
    return store;
  }

  private constructor(url: string, options: PostgresStoreOptions) {
    const days = options.retentionDays ?? DEFAULT_RETENTION_DAYS;
    checkRetention(days);
    const sensor = options.sensor ?? defaultSensorName();
    if (!isSensorName(sensor)) throw new StoreInputError(`sensor: "${sensor}" is not a sensor name`);
    this.sensor = sensor;
    this.location = redactDbUrl(url);
    this.retentionDays = days;
    this.now = options.now ?? Date.now;
    this.onPrune = options.onPrune ?? (() => {});
    this.pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize ?? 4,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      idleTimeoutMillis: 30_000,
      application_name: 'muvakt',
      types: TYPES,
    });
    // An idle connection the server drops (restart, failover) must not crash the process: the
    // next query gets a fresh connection, or fails and is retried by its caller.
    this.pool.on('error', () => {});
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  private async tx<T>(work: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      try {
        const out = await work(client);
        await client.query('COMMIT');
        return out;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {});
        throw e;
      }
    } finally {
      client.release();
    }
  }

  private async q<T extends pg.QueryResultRow>(sql: string, params: unknown[] = [], c: pg.Pool | pg.PoolClient = this.pool): Promise<T[]> {
    return (await c.query<T>(numbered(sql), params)).rows;
  }

  // ------------------------------------------------------------------ writing alerts

  async upsertAlerts(batch: readonly AlertCandidate[], options: UpsertOptions = {}): Promise<UpsertResult> {
    const result = emptyUpsertResult();
    // One row per id in the statement (ON CONFLICT may touch a row once): merge repeats here,
    // with the same rules the SQL applies against the stored row.
    const byId = new Map<string, Merged>();
    for (const c of batch) {
      const p = prepareCandidate(c, result);
      if (p === null) continue;
      const m = byId.get(p.id);
      if (m === undefined) {
        byId.set(p.id, { p, severity: p.c.severity });
        continue;
      }
      const severity = SEVERITY_RANK[m.severity] > SEVERITY_RANK[p.c.severity] ? m.severity : p.c.severity;
      byId.set(p.id, {
        p: { ...p, first: m.p.first.iso <= p.first.iso ? m.p.first : p.first, last: m.p.last.iso > p.last.iso ? m.p.last : p.last, count: m.p.count + p.count },
        severity,
      });
    }
    if (byId.size === 0) return result;
    const nowTs = tsFromMs(this.now());
    const ids = [...byId.keys()].sort();

    const kinds = await this.tx(async (c) => {
      const existing = new Map<string, AlertStatus>();
      for (const r of await this.q<{ id: string; status: AlertStatus }>('SELECT id, status FROM alerts WHERE id = ANY(?) ORDER BY id FOR UPDATE', [ids], c)) {
        existing.set(r.id, r.status);
      }
      const rows: Merged[] = [];
      let capped = 0;
      for (const id of ids) {
        const m = byId.get(id)!;
        if (!existing.has(id) && options.admitNew !== undefined && !options.admitNew(m.p.c.rule_id)) {
          capped++;
          continue;
        }
        rows.push(m);
      }
      result.capped += capped;
      if (rows.length === 0) return [];
      const col = <T>(f: (m: Merged) => T) => rows.map(f);
      const returned = await this.q<AlertRow & { inserted: boolean }>(
        `INSERT INTO alerts AS a (id, rule_id, title, severity, sev_rank, guide_refs, first_seen, first_seen_ms, last_seen, last_seen_ms, count, status,
           subject, src_ip, dst_ip, zone_src, zone_dst, device_id, evidence, recommendation, updated_at, sensors)
         SELECT u.id, u.rule_id, u.title, u.severity, u.sev_rank, u.guide_refs, u.first_seen, u.first_seen_ms, u.last_seen, u.last_seen_ms, u.count, 'open',
           u.subject, u.src_ip, u.dst_ip, u.zone_src, u.zone_dst, u.device_id, u.evidence, u.recommendation, ?, ?
         FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::int[], ?::text[], ?::text[], ?::bigint[], ?::text[], ?::bigint[], ?::bigint[],
           ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[])
           AS u (id, rule_id, title, severity, sev_rank, guide_refs, first_seen, first_seen_ms, last_seen, last_seen_ms, count,
             subject, src_ip, dst_ip, zone_src, zone_dst, device_id, evidence, recommendation)
         ON CONFLICT (id) DO UPDATE SET
           title = excluded.title,
           severity = CASE WHEN a.sev_rank > excluded.sev_rank THEN a.severity ELSE excluded.severity END,
           sev_rank = GREATEST(a.sev_rank, excluded.sev_rank),
           guide_refs = excluded.guide_refs,
           first_seen = CASE WHEN a.first_seen <= excluded.first_seen THEN a.first_seen ELSE excluded.first_seen END,
           first_seen_ms = CASE WHEN a.first_seen <= excluded.first_seen THEN a.first_seen_ms ELSE excluded.first_seen_ms END,
           last_seen = CASE WHEN a.last_seen > excluded.last_seen THEN a.last_seen ELSE excluded.last_seen END,
           last_seen_ms = CASE WHEN a.last_seen > excluded.last_seen THEN a.last_seen_ms ELSE excluded.last_seen_ms END,
           count = a.count + excluded.count,
           status = CASE WHEN a.status = 'resolved' THEN 'open' ELSE a.status END,
           evidence = excluded.evidence,
           recommendation = excluded.recommendation,
           updated_at = excluded.updated_at,
           sensors = CASE WHEN jsonb_exists(a.sensors::jsonb, ?) OR jsonb_array_length(a.sensors::jsonb) >= ${MAX_SENSORS_PER_ALERT} THEN a.sensors
             ELSE (SELECT jsonb_agg(x ORDER BY x COLLATE "C")::text FROM (SELECT jsonb_array_elements_text(a.sensors::jsonb) AS x UNION SELECT ?) t) END
         RETURNING ${ALERT_COLS}, (xmax = 0) AS inserted`,
        [
          nowTs.iso,
          JSON.stringify([this.sensor]),
          col((m) => m.p.id),
          col((m) => m.p.c.rule_id),
          col((m) => m.p.c.title),
          col((m) => m.severity),
          col((m) => SEVERITY_RANK[m.severity]),
          col((m) => m.p.guideRefs),
          col((m) => m.p.first.iso),
          col((m) => m.p.first.ms),
          col((m) => m.p.last.iso),
          col((m) => m.p.last.ms),
          col((m) => m.p.count),
          col((m) => subjectJson(m.p.c.subject)),
          col((m) => m.p.c.subject.src_ip),
          col((m) => m.p.c.subject.dst_ip),
          col((m) => m.p.c.subject.zone_src),
          col((m) => m.p.c.subject.zone_dst),
          col((m) => m.p.c.subject.device_id || null),
          col((m) => m.p.evidence),
          col((m) => m.p.c.recommendation),
          this.sensor,
          this.sensor,
        ],
        c,
      );
      const reopened = returned.filter((r) => existing.get(r.id) === 'resolved');
      if (reopened.length > 0) {
        await this.q(
          `INSERT INTO alert_history (alert_id, at, at_ms, actor, action, comment)
           SELECT u.id, ?, ?, ?, 'reopen', u.comment FROM unnest(?::text[], ?::text[]) AS u (id, comment)`,
          [nowTs.iso, nowTs.ms, SYSTEM_ACTOR, reopened.map((r) => r.id), reopened.map((r) => `fired again at ${byId.get(r.id)!.p.last.iso}`)],
          c,
        );
      }
      return returned.map((r) => {
        const kind: 'created' | 'updated' | 'reopened' = existing.get(r.id) === 'resolved' ? 'reopened' : r.inserted && !existing.has(r.id) ? 'created' : 'updated';
        const m = byId.get(r.id)!;
        return { kind, alert: alertOf(m.p, { severity: r.severity, first: r.first_seen, last: r.last_seen, count: r.count, status: r.status, updatedAt: r.updated_at, sensors: parseJson<string[]>(r.sensors, []) }) };
      });
    });
    for (const { kind, alert } of kinds) result[kind].push(alert);
    return result;
  }

  // ------------------------------------------------------------------ reading alerts

  async listAlerts(q: AlertQuery = {}): Promise<Page<Alert>> {
    const plan = alertListPlan(q, 'postgres');
    const rows = await this.q<AlertRow>(`SELECT ${ALERT_COLS} FROM alerts${plan.where}${plan.orderLimit}`, [...plan.params, plan.limit + 1]);
    const more = rows.length > plan.limit;
    if (more) rows.length = plan.limit;
    return { items: rows.map(rowToAlert), next_cursor: more ? plan.cursorAfter(rows[rows.length - 1]) : null };
  }

  async getAlert(id: string): Promise<AlertWithHistory | null> {
    return this.alertWith(id, this.pool);
  }

  private async alertWith(id: string, c: pg.Pool | pg.PoolClient): Promise<AlertWithHistory | null> {
    if (typeof id !== 'string') return null;
    const rows = await this.q<AlertRow>(`SELECT ${ALERT_COLS} FROM alerts WHERE id = ?`, [id], c);
    if (rows.length === 0) return null;
    const history = await this.q<AlertHistoryEntry>('SELECT at, actor, action, comment FROM alert_history WHERE alert_id = ? ORDER BY id', [id], c);
    return { ...rowToAlert(rows[0]), history };
  }

  async openCounts(): Promise<Record<Severity, number>> {
    const out: Record<Severity, number> = { low: 0, medium: 0, high: 0, critical: 0 };
    for (const r of await this.q<{ severity: Severity; n: number }>("SELECT severity, count(*) AS n FROM alerts WHERE status = 'open' GROUP BY severity")) out[r.severity] = r.n;
    return out;
  }

  // ------------------------------------------------------------------ lifecycle

  async acknowledge(id: string, actor: string, comment = ''): Promise<AlertWithHistory | null> {
    return this.transition(id, actor, comment, 'ack', ['open'], 'acknowledged');
  }

  async resolve(id: string, actor: string, comment = ''): Promise<AlertWithHistory | null> {
    return this.transition(id, actor, comment, 'resolve', ['open', 'acknowledged'], 'resolved');
  }

  async reopen(id: string, actor: string, comment = ''): Promise<AlertWithHistory | null> {
    return this.transition(id, actor, comment, 'reopen', ['acknowledged', 'resolved'], 'open');
  }

  private async transition(id: string, actor: string, comment: string, action: HistoryAction, from: AlertStatus[], to: AlertStatus): Promise<AlertWithHistory | null> {
    checkTransitionInput(actor, comment);
    if (typeof id !== 'string') return null;
    const t = tsFromMs(this.now());
    return this.tx(async (c) => {
      const row = await this.q<{ status: AlertStatus }>('SELECT status FROM alerts WHERE id = ? FOR UPDATE', [id], c);
      if (row.length === 0) return null;
      if (!from.includes(row[0].status)) throw new AlertTransitionError(id, row[0].status, action);
      await this.q('UPDATE alerts SET status = ?, updated_at = ? WHERE id = ?', [to, t.iso, id], c);
      await this.q('INSERT INTO alert_history (alert_id, at, at_ms, actor, action, comment) VALUES (?, ?, ?, ?, ?, ?)', [id, t.iso, t.ms, actor, action, comment], c);
      return this.alertWith(id, c);
    });
  }

  // ------------------------------------------------------------------ audit

  async audit(entry: AuditInput): Promise<number> {
    const r = auditRow(entry, this.now());
    const rows = await this.q<{ id: number }>('INSERT INTO audit_log (at, at_ms, actor, role, action, query, sensor) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id', [
      r.at.iso,
      r.at.ms,
      r.actor,
      r.role,
      r.action,
      r.query,
      this.sensor,
    ]);
    return rows[0].id;
  }

  async listAudit(q: AuditQuery = {}): Promise<Page<AuditEntry>> {
    const plan = auditListPlan(q);
    const rows = await this.q<{ id: number; at: string; actor: string; role: string; action: string; query: string; sensor: string }>(
      `SELECT id, at, actor, role, action, query, sensor FROM audit_log${plan.where} ORDER BY id DESC LIMIT ?`,
      [...plan.params, plan.limit + 1],
    );
    const more = rows.length > plan.limit;
    if (more) rows.length = plan.limit;
    return { items: rows.map((r) => ({ ...r, query: parseJson<unknown>(r.query, null) })), next_cursor: more ? plan.cursorAfter(rows[rows.length - 1].id) : null };
  }

  // ------------------------------------------------------------------ inventory

  async saveDevices(rows: readonly DeviceRow[]): Promise<number> {
    // The last record of an id in the batch wins, as with one statement per row.
    const byId = new Map<string, { r: DeviceRow; summary: string; detail: string }>();
    let saved = 0;
    for (const r of rows) {
      const summary = JSON.stringify(r.summary);
      const detail = JSON.stringify(r.detail);
      if (containsFnr(summary) || containsFnr(detail)) continue;
      saved++;
      const prev = byId.get(r.id);
      const keep = prev === undefined ? { r, summary, detail } : { r: { ...r, firstSeenMs: Math.min(prev.r.firstSeenMs, r.firstSeenMs), lastSeenMs: Math.max(prev.r.lastSeenMs, r.lastSeenMs) }, summary, detail };
      byId.set(r.id, keep);
    }
    if (byId.size === 0) return 0;
    const list = [...byId.values()].sort((a, b) => (a.r.id < b.r.id ? -1 : a.r.id > b.r.id ? 1 : 0));
    await this.tx(async (c) => {
      await this.q(
      `INSERT INTO inventory_devices AS d (id, zone, role, exposure_score, exposure_level, first_seen_ms, last_seen_ms, summary, detail)
       SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::int[], ?::text[], ?::bigint[], ?::bigint[], ?::text[], ?::text[])
       ON CONFLICT (id) DO UPDATE SET zone = excluded.zone, role = excluded.role, exposure_score = excluded.exposure_score,
         exposure_level = excluded.exposure_level, first_seen_ms = LEAST(d.first_seen_ms, excluded.first_seen_ms),
         last_seen_ms = GREATEST(d.last_seen_ms, excluded.last_seen_ms), summary = excluded.summary, detail = excluded.detail`,
      [
        list.map((x) => x.r.id),
        list.map((x) => x.r.zone),
        list.map((x) => x.r.role),
        list.map((x) => x.r.score),
        list.map((x) => x.r.level),
        list.map((x) => x.r.firstSeenMs),
        list.map((x) => x.r.lastSeenMs),
        list.map((x) => x.summary),
        list.map((x) => x.detail),
      ],
      c,
      );
      await this.q(
        `INSERT INTO device_sightings AS s (device_id, sensor, first_seen_ms, last_seen_ms)
         SELECT u.id, ?, u.f, u.l FROM unnest(?::text[], ?::bigint[], ?::bigint[]) AS u (id, f, l)
         ON CONFLICT (device_id, sensor) DO UPDATE SET first_seen_ms = LEAST(s.first_seen_ms, excluded.first_seen_ms), last_seen_ms = GREATEST(s.last_seen_ms, excluded.last_seen_ms)`,
        [this.sensor, list.map((x) => x.r.id), list.map((x) => x.r.firstSeenMs), list.map((x) => x.r.lastSeenMs)],
        c,
      );
    });
    return saved;
  }

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
      where.push('id IN (SELECT device_id FROM device_sightings WHERE sensor = ANY(?::text[]))');
      args.push(sensor);
    }
    if (after) {
      where.push('(exposure_score < ? OR (exposure_score = ? AND id > ?))');
      args.push(after.s, after.s, after.id);
    }
    const rows = await this.q<{ id: string; s: number; summary: string; sensors: string[] | null }>(
      `SELECT id, exposure_score AS s, summary,
         (SELECT array_agg(sensor ORDER BY sensor) FROM device_sightings WHERE device_id = inventory_devices.id) AS sensors
       FROM inventory_devices ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY exposure_score DESC, id LIMIT ?`,
      [...args, limit + 1],
    );
    const items = rows.slice(0, limit).map((r) => ({ ...(JSON.parse(r.summary) as object), sensors: r.sensors ?? [] }) as unknown);
    const last = rows.length > limit ? rows[limit - 1] : null;
    return { items, next_cursor: last ? encodeDeviceCursor(last.s, last.id) : null };
  }

  async getDevice(id: string): Promise<unknown | null> {
    const rows = await this.q<{ detail: string }>('SELECT detail FROM inventory_devices WHERE id = ?', [id]);
    if (rows.length === 0) return null;
    const sightings = sightingsOf(await this.q<SightingRow>('SELECT sensor, first_seen_ms, last_seen_ms FROM device_sightings WHERE device_id = ? ORDER BY sensor', [id]));
    return { ...(JSON.parse(rows[0].detail) as object), sensors: sightings.map((s) => s.sensor), sightings };
  }

  // ------------------------------------------------------------------ small state

  async kvGet<T = unknown>(key: string): Promise<T | undefined> {
    const rows = await this.q<{ value: string }>('SELECT value FROM kv WHERE key = ?', [key]);
    return rows.length === 0 ? undefined : parseJson<T | undefined>(rows[0].value, undefined);
  }

  async kvSet(key: string, value: unknown): Promise<void> {
    const json = kvJson(key, value);
    await this.q('INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at', [
      key,
      json,
      tsFromMs(this.now()).iso,
    ]);
  }

  async kvDelete(key: string): Promise<boolean> {
    const r = await this.pool.query('DELETE FROM kv WHERE key = $1', [key]);
    return (r.rowCount ?? 0) > 0;
  }

  async kvList<T = unknown>(prefix: string, limit = KV_LIST_MAX): Promise<{ key: string; value: T }[]> {
    // left() compares code points whatever the database's collation; ORDER BY ... COLLATE "C" likewise.
    const rows = await this.q<{ key: string; value: string }>('SELECT key, value FROM kv WHERE left(key, ?) = ? ORDER BY key COLLATE "C" LIMIT ?', [prefix.length, prefix, Math.min(Math.max(1, limit), KV_LIST_MAX)]);
    return rows.map((r) => ({ key: r.key, value: parseJson<T>(r.value, undefined as T) }));
  }

  // ------------------------------------------------------------------ flow history

  async addFlowHistory(rows: readonly FlowHistoryRow[]): Promise<FlowHistoryWriteResult> {
    return new PgFlowHistory(this.pool).add(rows);
  }

  async flowMatrix(q: FlowMatrixQuery = {}): Promise<FlowMatrix> {
    return new PgFlowHistory(this.pool).matrix(q);
  }

  async flowHistoryExtent(sensor?: string): Promise<FlowHistoryExtent> {
    return new PgFlowHistory(this.pool).extent(sensor);
  }

  async flowPeers(q: FlowPeersQuery): Promise<FlowPeers> {
    return new PgFlowHistory(this.pool).peers(q);
  }

  // ------------------------------------------------------------------ retention

  // ------------------------------------------------------------------ remote-access sessions

  async upsertRemoteSessions(rows: readonly RemoteSessionRow[]): Promise<RemoteSessionWriteResult> {
    return new PgRemoteSessions(this.pool).upsert(rows);
  }

  async listRemoteSessions(q: RemoteSessionQuery = {}): Promise<Page<RemoteSession>> {
    return new PgRemoteSessions(this.pool).list(q);
  }

  async prune(now: number | Date = this.now(), days: number = this.retentionDays): Promise<PruneResult> {
    checkRetention(days, 'days');
    const clock = typeof now === 'number' ? now : now.getTime();
    const res = await this.tx(async (c) => {
      const newest = (await this.q<{ m: number | null }>('SELECT max(last_seen_ms) AS m FROM alerts', [], c))[0].m;
      const cut = pruneCutoffs(clock, newest, days);
      const history = (await c.query('DELETE FROM alert_history WHERE alert_id IN (SELECT id FROM alerts WHERE last_seen_ms < $1)', [cut.alerts])).rowCount ?? 0;
      const alerts = (await c.query('DELETE FROM alerts WHERE last_seen_ms < $1', [cut.alerts])).rowCount ?? 0;
      const audit = (await c.query('DELETE FROM audit_log WHERE at_ms < $1', [cut.audit])).rowCount ?? 0;
      const flows = new PgFlowHistory(c);
      const flowCut = await flows.cutoff(clock, days);
      const flow_history = await flows.prune(flowCut);
      const sessions = new PgRemoteSessions(c);
      const sessionCut = await sessions.cutoff(clock, days);
      const remote_sessions = await sessions.prune(sessionCut);
      return { result: { alerts, history, audit, flow_history, remote_sessions }, cut: { ...cut, flow_history: flowCut, remote_sessions: sessionCut } };
    });
    const r = res.result;
    if (r.alerts + r.history + r.audit + r.flow_history + r.remote_sessions > 0) {
      this.onPrune(r, { alerts: tsFromMs(res.cut.alerts).iso, audit: tsFromMs(res.cut.audit).iso, flow_history: tsFromMs(res.cut.flow_history).iso, remote_sessions: tsFromMs(res.cut.remote_sessions).iso });
    }
    return r;
  }

  async schemaVersion(): Promise<number> {
    return pgSchemaVersion(this.pool);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
