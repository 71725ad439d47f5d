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
import { createHash } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { MIGRATIONS, migrate, type Migration } from './schema.js';
import { SqliteFlowHistory } from './sqlite-flow-history.js';
import {
  type AuditEntry,
  type DeviceRow,
  type FlowHistoryExtent,
  type FlowHistoryRow,
  type FlowHistoryWriteResult,
  type FlowMatrix,
  type FlowMatrixQuery,
  type PruneCutoff,
  type AuditInput,
  type AuditQuery,
  type Alert,
  type AlertCandidate,
  type AlertHistoryEntry,
  type AlertQuery,
  type AlertStatus,
  type AlertSubject,
  type AlertWithHistory,
  type HistoryAction,
  type Page,
  type PruneResult,
  type Severity,
  type UpsertResult,
  AlertTransitionError,
  SEVERITIES,
  SEVERITY_RANK,
  STATUSES,
  StoreInputError,
} from './types.js';
import { alertIdFromKey, alertKey, boundEvidence, boundJson, containsFnr, parseTs, redactFnr, safeJson, toTs, tsFromMs, type Timestamp } from './values.js';

export const DEFAULT_RETENTION_DAYS = 180;
const DAY_MS = 86_400_000;
const MAX_LIMIT = 1000;
const DEFAULT_LIMIT = 100;
const MAX_TEXT = 1024;
const MAX_COMMENT = 2000;
const MAX_AUDIT_QUERY_BYTES = 4096;
const MAX_KV_BYTES = 1 << 20;
/** Actor of lifecycle changes the sensor makes itself (a resolved alert firing again). */
export const SYSTEM_ACTOR = 'muvakt';

export interface SqliteStoreOptions {
  /** Days to keep alerts (by last_seen) and audit rows; default 180 (LEV 6.3). */
  retentionDays?: number;
  /** 'normal' (default): durable against process crash. 'full': also against power loss. */
  synchronous?: 'normal' | 'full';
  /** Prune at open (default true). Readers (`serve`, `evidence`) pass false: they never delete. */
  pruneOnOpen?: boolean;
  /** Told of every prune that deleted something (the process logs it: see agent/store-file.ts); default: nobody. */
  onPrune?: (result: PruneResult, cutoff: PruneCutoff) => void;
  /** Clock (epoch ms) for updated_at, audit and pruning; default Date.now. */
  now?: () => number;
  /** For tests and future versions; default MIGRATIONS. */
  migrations?: readonly Migration[];
  /** Milliseconds to wait for another process's write lock (e.g. `serve` next to `run`); default 5000. */
  busyTimeoutMs?: number;
}

export interface UpsertOptions {
  /** Asked once per alert that does not exist yet; false refuses it (the per-rule rate cap). */
  admitNew?: (ruleId: string) => boolean;
}

interface AlertRow {
  id: string;
  rule_id: string;
  title: string;
  severity: Severity;
  sev_rank: number;
  guide_refs: string;
  first_seen: string;
  first_seen_ms: number;
  last_seen: string;
  last_seen_ms: number;
  count: number;
  status: AlertStatus;
  subject: string;
  evidence: string;
  recommendation: string;
  updated_at: string;
}

interface Prepared {
  id: string;
  c: AlertCandidate;
  first: Timestamp;
  last: Timestamp;
  count: number;
  guideRefs: string;
  evidence: string;
}

const KIND_RANK = { updated: 1, reopened: 2, created: 3 } as const;

const ALERT_COLS =
  'id, rule_id, title, severity, sev_rank, guide_refs, first_seen, first_seen_ms, last_seen, last_seen_ms, count, status, subject, evidence, recommendation, updated_at';

function parseJson<T>(s: string, fallback: T): T {
  try {
    return JSON.parse(s) as T;
  } catch {
    return fallback;
  }
}

function rowToAlert(r: AlertRow): Alert {
  return {
    id: r.id,
    rule_id: r.rule_id,
    title: r.title,
    severity: r.severity,
    guide_refs: parseJson<string[]>(r.guide_refs, []),
    first_seen: r.first_seen,
    last_seen: r.last_seen,
    count: r.count,
    status: r.status,
    subject: parseJson<AlertSubject>(r.subject, { src_ip: '', dst_ip: '', zone_src: '', zone_dst: '' }),
    evidence: parseJson<Record<string, unknown>>(r.evidence, {}),
    recommendation: r.recommendation,
    updated_at: r.updated_at,
  };
}

function subjectJson(s: AlertSubject): string {
  const o: AlertSubject = { src_ip: s.src_ip, dst_ip: s.dst_ip, zone_src: s.zone_src, zone_dst: s.zone_dst };
  if (s.device_id !== undefined && s.device_id !== '') o.device_id = s.device_id;
  return JSON.stringify(o);
}

function isText(v: unknown, max = MAX_TEXT): v is string {
  return typeof v === 'string' && v.length <= max;
}

function asList<T extends string>(v: T | T[] | undefined, allowed: readonly string[] | null, field: string): T[] | null {
  if (v === undefined) return null;
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0 || list.length > 100) throw new StoreInputError(`${field}: expected 1–100 values`);
  for (const x of list) {
    if (typeof x !== 'string' || x.length === 0 || x.length > MAX_TEXT) throw new StoreInputError(`${field}: expected a non-empty string`);
    if (allowed !== null && !allowed.includes(x)) throw new StoreInputError(`${field}: expected one of ${allowed.join(', ')}, got "${x}"`);
  }
  return [...new Set(list)].sort();
}

function timeParam(v: string | number | Date | undefined, field: string): Timestamp | null {
  if (v === undefined) return null;
  const t = toTs(v);
  if (t === null) throw new StoreInputError(`${field}: expected an ISO 8601 time or epoch milliseconds`);
  return t;
}

function limitParam(v: number | undefined): number {
  if (v === undefined) return DEFAULT_LIMIT;
  if (!Number.isInteger(v) || v < 1 || v > MAX_LIMIT) throw new StoreInputError(`limit: expected an integer 1–${MAX_LIMIT}`);
  return v;
}

function encodeCursor(fingerprint: string, key: (string | number)[]): string {
  return Buffer.from(JSON.stringify({ q: fingerprint, k: key })).toString('base64url');
}

function decodeCursor(cursor: string, fingerprint: string, shape: ('s' | 'n')[]): (string | number)[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new StoreInputError('cursor: not a cursor from this API');
  }
  const p = parsed as { q?: unknown; k?: unknown };
  if (typeof p !== 'object' || p === null || !Array.isArray(p.k) || p.k.length !== shape.length) throw new StoreInputError('cursor: not a cursor from this API');
  if (p.q !== fingerprint) throw new StoreInputError('cursor: belongs to a different query (filters or sort changed)');
  p.k.forEach((x, i) => {
    if (shape[i] === 'n' ? !Number.isSafeInteger(x) : typeof x !== 'string') throw new StoreInputError('cursor: not a cursor from this API');
  });
  return p.k as (string | number)[];
}

function fingerprint(o: unknown): string {
  return createHash('sha256').update(JSON.stringify(o)).digest('base64url').slice(0, 12);
}

/** Creates the store file 0600 if it does not exist yet (an explicit mode: the umask can only narrow it). */
function createPrivate(path: string): void {
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}


export class SqliteStore {
  readonly path: string;
  readonly retentionDays: number;
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly onPrune: (result: PruneResult, cutoff: PruneCutoff) => void;
  private readonly flowHistory: SqliteFlowHistory;
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
    if (!(days > 0) || !Number.isFinite(days)) throw new StoreInputError(`retentionDays: expected a positive number of days, got ${days}`);
    this.path = path;
    this.retentionDays = days;
    this.now = options.now ?? Date.now;
    this.onPrune = options.onPrune ?? (() => {});
    if (path !== ':memory:' && path !== '') createPrivate(path);
    const db = new Database(path, { timeout: options.busyTimeoutMs ?? 5000 });
    this.db = db;
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

    this.sSelectForUpsert = db.prepare('SELECT count, first_seen, first_seen_ms, last_seen, last_seen_ms, status, severity FROM alerts WHERE id = ?');
    this.sInsert = db.prepare(
      `INSERT INTO alerts (id, rule_id, title, severity, sev_rank, guide_refs, first_seen, first_seen_ms, last_seen, last_seen_ms, count, status,
         subject, src_ip, dst_ip, zone_src, zone_dst, device_id, evidence, recommendation, updated_at)
       VALUES (@id, @rule_id, @title, @severity, @sev_rank, @guide_refs, @first_seen, @first_seen_ms, @last_seen, @last_seen_ms, @count, 'open',
         @subject, @src_ip, @dst_ip, @zone_src, @zone_dst, @device_id, @evidence, @recommendation, @updated_at)`,
    );
    this.sUpdate = db.prepare(
      `UPDATE alerts SET title = @title, severity = @severity, sev_rank = @sev_rank, guide_refs = @guide_refs,
         first_seen = @first_seen, first_seen_ms = @first_seen_ms, last_seen = @last_seen, last_seen_ms = @last_seen_ms,
         count = @count, status = @status, evidence = @evidence, recommendation = @recommendation, updated_at = @updated_at
       WHERE id = @id`,
    );
    this.sGet = db.prepare(`SELECT ${ALERT_COLS} FROM alerts WHERE id = ?`);
    this.sHistory = db.prepare('SELECT at, actor, action, comment FROM alert_history WHERE alert_id = ? ORDER BY id');
    this.sInsertHistory = db.prepare('INSERT INTO alert_history (alert_id, at, at_ms, actor, action, comment) VALUES (?, ?, ?, ?, ?, ?)');
    this.sStatus = db.prepare('SELECT status FROM alerts WHERE id = ?');
    this.sSetStatus = db.prepare('UPDATE alerts SET status = ?, updated_at = ? WHERE id = ?');
    this.sAudit = db.prepare('INSERT INTO audit_log (at, at_ms, actor, role, action, query) VALUES (?, ?, ?, ?, ?, ?)');
    this.sKvGet = db.prepare('SELECT value FROM kv WHERE key = ?');
    this.sKvSet = db.prepare('INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at');
    this.sKvDel = db.prepare('DELETE FROM kv WHERE key = ?');
    this.sOpenCounts = db.prepare("SELECT severity, count(*) AS n FROM alerts WHERE status = 'open' GROUP BY severity");
    this.flowHistory = new SqliteFlowHistory(db);

    if (options.pruneOnOpen ?? true) this.prune();
  }

  // ------------------------------------------------------------------ writing alerts

  /**
   * Validates, PHI-checks and bounds each candidate, then applies the batch in one IMMEDIATE
   * transaction: new (rule_id, subject) → insert; existing → count and last_seen grow,
   * evidence/title/recommendation become the latest, severity only escalates (the highest
   * seen), first_seen is kept (or moves earlier for out-of-order input); a resolved alert reopens (history row by `muvakt`),
   * acknowledged stays acknowledged. When this returns, the batch is committed.
   */
  upsertAlerts(batch: readonly AlertCandidate[], options: UpsertOptions = {}): UpsertResult {
    const result: UpsertResult = { created: [], updated: [], reopened: [], capped: 0, rejected_phi: 0, invalid: 0 };
    const prepared: Prepared[] = [];
    for (const c of batch) {
      const p = this.prepareCandidate(c, result);
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
            | { count: number; first_seen: string; first_seen_ms: number; last_seen: string; last_seen_ms: number; status: AlertStatus; severity: Severity }
            | undefined;
          let status: AlertStatus = 'open';
          let severity = c.severity;
          let first = p.first;
          let last = p.last;
          let count = p.count;
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
            });
            kind = 'created';
          } else {
            if (row.first_seen <= first.iso) first = { iso: row.first_seen, ms: row.first_seen_ms };
            if (row.last_seen > last.iso) last = { iso: row.last_seen, ms: row.last_seen_ms };
            count += row.count;
            status = row.status;
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
            });
          }
          const prev = kinds.get(p.id);
          // The same alert twice in one batch: created beats reopened beats updated.
          kinds.set(p.id, {
            kind: prev !== undefined && KIND_RANK[prev.kind] > KIND_RANK[kind] ? prev.kind : kind,
            alert: {
              id: p.id,
              rule_id: c.rule_id,
              title: c.title,
              severity,
              guide_refs: JSON.parse(p.guideRefs) as string[],
              first_seen: first.iso,
              last_seen: last.iso,
              count,
              status,
              subject: JSON.parse(subjectJson(c.subject)) as AlertSubject,
              evidence: JSON.parse(p.evidence) as Record<string, unknown>,
              recommendation: c.recommendation,
              updated_at: nowTs.iso,
            },
          });
        }
      })
      .immediate();
    for (const { kind, alert } of kinds.values()) result[kind].push(alert);
    return result;
  }

  private prepareCandidate(c: AlertCandidate, result: UpsertResult): Prepared | null {
    const s = c?.subject;
    if (
      typeof c !== 'object' ||
      c === null ||
      !isText(c.rule_id, 128) ||
      c.rule_id.length === 0 ||
      !isText(c.title) ||
      !isText(c.recommendation, 4 * MAX_TEXT) ||
      !SEVERITIES.includes(c.severity) ||
      !Array.isArray(c.guide_refs) ||
      !c.guide_refs.every((g) => isText(g, 64)) ||
      typeof s !== 'object' ||
      s === null ||
      !isText(s.src_ip, 64) ||
      !isText(s.dst_ip, 64) ||
      !isText(s.zone_src, 128) ||
      !isText(s.zone_dst, 128) ||
      (s.device_id !== undefined && !isText(s.device_id, 128)) ||
      typeof c.evidence !== 'object' ||
      c.evidence === null ||
      Array.isArray(c.evidence) ||
      typeof c.ts !== 'string'
    ) {
      result.invalid++;
      return null;
    }
    const last = parseTs(c.ts);
    const first = c.first_ts === undefined ? last : parseTs(c.first_ts);
    const count = c.count ?? 1;
    const evJson = safeJson(c.evidence);
    if (last === null || first === null || !Number.isSafeInteger(count) || count < 1 || evJson === null) {
      result.invalid++;
      return null;
    }
    // Belt and braces: rules only emit PHI-free evidence, but nothing that validates as a
    // fødselsnummer is ever written, wherever in the candidate it sits.
    if (containsFnr(evJson) || containsFnr(c.title) || containsFnr(c.recommendation) || containsFnr(subjectJson(s))) {
      result.rejected_phi++;
      return null;
    }
    return {
      id: alertIdFromKey(alertKey(c.rule_id, s)),
      c,
      first: first.iso <= last.iso ? first : last,
      last: first.iso <= last.iso ? last : first,
      count,
      guideRefs: JSON.stringify(c.guide_refs),
      evidence: boundEvidence(evJson, c.evidence).json,
    };
  }

  // ------------------------------------------------------------------ reading alerts

  /**
   * One page of alerts, newest first (or most severe first, then newest). Keyset pagination
   * on (sort key, id): a row inserted while a client pages never shifts or duplicates the
   * rows after the cursor. last_seen and severity only grow, so an alert updated while a
   * client pages moves towards page 1: it is never returned twice, and shows on the first page of a
   * fresh listing. The cursor is opaque and bound to the query's filters and sort.
   */
  listAlerts(q: AlertQuery = {}): Page<Alert> {
    const sort = q.sort ?? 'last_seen';
    if (sort !== 'last_seen' && sort !== 'severity') throw new StoreInputError('sort: expected last_seen or severity');
    const severity = asList(q.severity, SEVERITIES, 'severity');
    const status = asList(q.status, STATUSES, 'status');
    const ruleId = asList(q.rule_id, null, 'rule_id');
    if (q.min_severity !== undefined && !SEVERITIES.includes(q.min_severity)) throw new StoreInputError(`min_severity: expected one of ${SEVERITIES.join(', ')}`);
    for (const [f, v] of [['zone', q.zone], ['ip', q.ip]] as const) {
      if (v !== undefined && (!isText(v, 128) || v.length === 0)) throw new StoreInputError(`${f}: expected a non-empty string`);
    }
    const since = timeParam(q.since, 'since');
    const until = timeParam(q.until, 'until');
    const limit = limitParam(q.limit);

    const where: string[] = [];
    const params: (string | number)[] = [];
    const listClause = (col: string, list: (string | number)[]) => {
      if (list.length === 1) {
        where.push(`${col} = ?`);
        params.push(list[0]);
      } else {
        where.push(`${col} IN (SELECT value FROM json_each(?))`);
        params.push(JSON.stringify(list));
      }
    };
    if (severity !== null) listClause('sev_rank', severity.map((s) => SEVERITY_RANK[s]));
    if (q.min_severity !== undefined) {
      where.push('sev_rank >= ?');
      params.push(SEVERITY_RANK[q.min_severity]);
    }
    if (status !== null) listClause('status', status);
    if (ruleId !== null) listClause('rule_id', ruleId);
    if (q.zone !== undefined) {
      where.push('(zone_src = ? OR zone_dst = ?)');
      params.push(q.zone, q.zone);
    }
    if (q.ip !== undefined) {
      where.push('(src_ip = ? OR dst_ip = ?)');
      params.push(q.ip, q.ip);
    }
    if (since !== null) {
      where.push('last_seen_ms >= ?');
      params.push(since.ms);
    }
    if (until !== null) {
      where.push('first_seen_ms <= ?');
      params.push(until.ms);
    }

    const fp = fingerprint({ sort, severity, min: q.min_severity ?? null, status, ruleId, zone: q.zone ?? null, ip: q.ip ?? null, since: since?.ms ?? null, until: until?.ms ?? null });
    const keyCols = sort === 'severity' ? ['sev_rank', 'last_seen_ms', 'id'] : ['last_seen_ms', 'id'];
    if (q.cursor !== undefined && q.cursor !== null && q.cursor !== '') {
      const key = decodeCursor(q.cursor, fp, sort === 'severity' ? ['n', 'n', 's'] : ['n', 's']);
      where.push(`(${keyCols.join(', ')}) < (${keyCols.map(() => '?').join(', ')})`);
      params.push(...key);
    }
    const sql =
      `SELECT ${ALERT_COLS} FROM alerts` +
      (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
      ` ORDER BY ${keyCols.map((c) => `${c} DESC`).join(', ')} LIMIT ?`;
    params.push(limit + 1);
    const rows = this.cached(sql).all(...params) as AlertRow[];
    const more = rows.length > limit;
    if (more) rows.length = limit;
    const lastRow = rows[rows.length - 1];
    const next = more
      ? encodeCursor(fp, sort === 'severity' ? [lastRow.sev_rank, lastRow.last_seen_ms, lastRow.id] : [lastRow.last_seen_ms, lastRow.id])
      : null;
    return { items: rows.map(rowToAlert), next_cursor: next };
  }

  /** The alert with its lifecycle history (oldest first), or null. */
  getAlert(id: string): AlertWithHistory | null {
    if (typeof id !== 'string') return null;
    const row = this.sGet.get(id) as AlertRow | undefined;
    if (row === undefined) return null;
    return { ...rowToAlert(row), history: this.sHistory.all(id) as AlertHistoryEntry[] };
  }

  /** Open alerts by severity (for `muvakt_alerts_open{severity}`). */
  openCounts(): Record<Severity, number> {
    const out: Record<Severity, number> = { low: 0, medium: 0, high: 0, critical: 0 };
    for (const r of this.sOpenCounts.all() as { severity: Severity; n: number }[]) out[r.severity] = r.n;
    return out;
  }

  // ------------------------------------------------------------------ lifecycle

  /** open → acknowledged. Null for an unknown id; AlertTransitionError from any other status. */
  acknowledge(id: string, actor: string, comment = ''): AlertWithHistory | null {
    return this.transition(id, actor, comment, 'ack', ['open'], 'acknowledged');
  }

  /** open | acknowledged → resolved. */
  resolve(id: string, actor: string, comment = ''): AlertWithHistory | null {
    return this.transition(id, actor, comment, 'resolve', ['open', 'acknowledged'], 'resolved');
  }

  /** acknowledged | resolved → open (an officer undoing an ack or resolve). */
  reopen(id: string, actor: string, comment = ''): AlertWithHistory | null {
    return this.transition(id, actor, comment, 'reopen', ['acknowledged', 'resolved'], 'open');
  }

  private transition(id: string, actor: string, comment: string, action: HistoryAction, from: AlertStatus[], to: AlertStatus): AlertWithHistory | null {
    if (!isText(actor, 200) || actor.length === 0) throw new StoreInputError('actor: expected a non-empty string of at most 200 characters');
    if (typeof comment !== 'string' || comment.length > MAX_COMMENT) throw new StoreInputError(`comment: expected a string of at most ${MAX_COMMENT} characters`);
    if (containsFnr(comment)) throw new StoreInputError('comment: looks like it holds a fødselsnummer; patient identifiers are not stored');
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
    return found ? this.getAlert(id) : null;
  }

  // ------------------------------------------------------------------ audit

  /** Records who read or changed what. The query is bounded to 4 KiB and fødselsnummer-like values are redacted. Returns the row id. */
  audit(entry: AuditInput): number {
    for (const f of ['actor', 'role', 'action'] as const) {
      if (!isText(entry[f], 200) || entry[f].length === 0) throw new StoreInputError(`${f}: expected a non-empty string of at most 200 characters`);
    }
    const at = entry.at === undefined ? tsFromMs(this.now()) : toTs(entry.at);
    if (at === null) throw new StoreInputError('at: expected an ISO 8601 time or epoch milliseconds');
    const query = redactFnr(boundJson(entry.query ?? null, MAX_AUDIT_QUERY_BYTES));
    return Number(this.sAudit.run(at.iso, at.ms, redactFnr(entry.actor), entry.role, entry.action, query).lastInsertRowid);
  }

  /**
   * Writes device records of the inventory (one transaction; a device seen again is replaced
   * by its newer record, devices not in the batch stay). Records are refused if they hold a
   * fødselsnummer-like value, like alert evidence.
   */
  saveDevices(rows: readonly DeviceRow[]): number {
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
        saved++;
      }
    }).immediate();
    return saved;
  }

  /** Device summaries, most exposed first, keyset-paginated on (score, id). */
  listDevices(q: { limit?: number; cursor?: string; zone?: string } = {}): Page<unknown> {
    const limit = Math.min(Math.max(q.limit ?? 100, 1), 1000);
    let after: { s: number; id: string } | null = null;
    if (q.cursor !== undefined) {
      try {
        after = JSON.parse(Buffer.from(q.cursor, 'base64url').toString('utf8')) as { s: number; id: string };
      } catch {
        after = null;
      }
      if (!after || typeof after.s !== 'number' || typeof after.id !== 'string') throw new StoreInputError('cursor: not a cursor this listing produced');
    }
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.zone !== undefined) {
      where.push('zone = ?');
      args.push(q.zone);
    }
    if (after) {
      where.push('(exposure_score < ? OR (exposure_score = ? AND id > ?))');
      args.push(after.s, after.s, after.id);
    }
    const rows = this.db
      .prepare(`SELECT id, exposure_score AS s, summary FROM inventory_devices ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY exposure_score DESC, id LIMIT ?`)
      .all(...args, limit + 1) as { id: string; s: number; summary: string }[];
    const items = rows.slice(0, limit).map((r) => JSON.parse(r.summary) as unknown);
    const last = rows.length > limit ? rows[limit - 1] : null;
    return { items, next_cursor: last ? Buffer.from(JSON.stringify({ s: last.s, id: last.id })).toString('base64url') : null };
  }

  getDevice(id: string): unknown | null {
    const row = this.db.prepare('SELECT detail FROM inventory_devices WHERE id = ?').get(id) as { detail: string } | undefined;
    return row ? (JSON.parse(row.detail) as unknown) : null;
  }

  /** Audit rows, newest first, keyset-paginated on id. */
  listAudit(q: AuditQuery = {}): Page<AuditEntry> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    for (const f of ['actor', 'action'] as const) {
      const v = q[f];
      if (v === undefined) continue;
      if (!isText(v, 200) || v.length === 0) throw new StoreInputError(`${f}: expected a non-empty string`);
      where.push(`${f} = ?`);
      params.push(v);
    }
    const since = timeParam(q.since, 'since');
    const until = timeParam(q.until, 'until');
    if (since !== null) {
      where.push('at_ms >= ?');
      params.push(since.ms);
    }
    if (until !== null) {
      where.push('at_ms <= ?');
      params.push(until.ms);
    }
    const limit = limitParam(q.limit);
    const fp = fingerprint({ audit: true, actor: q.actor ?? null, action: q.action ?? null, since: since?.ms ?? null, until: until?.ms ?? null });
    if (q.cursor !== undefined && q.cursor !== null && q.cursor !== '') {
      where.push('id < ?');
      params.push(decodeCursor(q.cursor, fp, ['n'])[0]);
    }
    const sql = `SELECT id, at, actor, role, action, query FROM audit_log${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    params.push(limit + 1);
    const rows = this.cached(sql).all(...params) as { id: number; at: string; actor: string; role: string; action: string; query: string }[];
    const more = rows.length > limit;
    if (more) rows.length = limit;
    return {
      items: rows.map((r) => ({ ...r, query: parseJson<unknown>(r.query, null) })),
      next_cursor: more ? encodeCursor(fp, [rows[rows.length - 1].id]) : null,
    };
  }

  // ------------------------------------------------------------------ flow history

  /** Adds flow-history rows in one transaction: a row for a key already stored sums into it (see docs/flows.md). */
  addFlowHistory(rows: readonly FlowHistoryRow[]): FlowHistoryWriteResult {
    return this.flowHistory.add(rows);
  }

  /** The zone matrix of the buckets overlapping [since, until], of one sensor or all. StoreInputError for bad bounds. */
  flowMatrix(q: FlowMatrixQuery = {}): FlowMatrix {
    return this.flowHistory.matrix(q);
  }

  /** Sensors with flow history and the time span it covers (of one sensor, if given). */
  flowHistoryExtent(sensor?: string): FlowHistoryExtent {
    return this.flowHistory.extent(sensor);
  }

  // ------------------------------------------------------------------ small state

  kvGet<T = unknown>(key: string): T | undefined {
    const row = this.sKvGet.get(key) as { value: string } | undefined;
    return row === undefined ? undefined : parseJson<T | undefined>(row.value, undefined);
  }

  /** Stores a JSON value (≤ 1 MiB). Not pruned: the owner (inventory, baseline) ages its own state. */
  kvSet(key: string, value: unknown): void {
    if (!isText(key, 256) || key.length === 0) throw new StoreInputError('key: expected a non-empty string of at most 256 characters');
    const json = safeJson(value);
    if (json === null || Buffer.byteLength(json) > MAX_KV_BYTES) throw new StoreInputError('value: expected JSON of at most 1 MiB');
    this.sKvSet.run(key, json, tsFromMs(this.now()).iso);
  }

  kvDelete(key: string): boolean {
    return this.sKvDel.run(key).changes > 0;
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
  prune(now: number | Date = this.now(), days: number = this.retentionDays): PruneResult {
    if (!(days > 0) || !Number.isFinite(days)) throw new StoreInputError(`days: expected a positive number, got ${days}`);
    const clock = typeof now === 'number' ? now : now.getTime();
    const newest = (this.cached('SELECT max(last_seen_ms) AS m FROM alerts').get() as { m: number | null }).m;
    const alertCutoff = (newest === null ? clock : Math.min(clock, newest)) - days * DAY_MS;
    const auditCutoff = clock - days * DAY_MS;
    const flowCutoff = this.flowHistory.cutoff(clock, days);
    const res = this.db
      .transaction((): PruneResult => {
        const history = this.cached('DELETE FROM alert_history WHERE alert_id IN (SELECT id FROM alerts WHERE last_seen_ms < ?)').run(alertCutoff).changes;
        const alerts = this.cached('DELETE FROM alerts WHERE last_seen_ms < ?').run(alertCutoff).changes;
        const audit = this.cached('DELETE FROM audit_log WHERE at_ms < ?').run(auditCutoff).changes;
        const flow_history = this.flowHistory.prune(flowCutoff);
        return { alerts, history, audit, flow_history };
      })
      .immediate();
    if (res.alerts + res.history + res.audit + res.flow_history > 0) {
      this.db.pragma('incremental_vacuum');
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      this.onPrune(res, { alerts: tsFromMs(alertCutoff).iso, audit: tsFromMs(auditCutoff).iso, flow_history: tsFromMs(flowCutoff).iso });
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

  close(): void {
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
