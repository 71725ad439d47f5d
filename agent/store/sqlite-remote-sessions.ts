/**
 * Remote-access sessions in SQLite (table remote_sessions, migration 5): upserts where the
 * latest write of a session wins, the filtered listing, retention relative to the newest session.
 */
import type Database from 'better-sqlite3';
import {
  latestRemoteSessionRows,
  REMOTE_SESSION_COLS,
  remoteSessionCutoff,
  remoteSessionListPlan,
  remoteSessionValues,
  rowToRemoteSession,
  validRemoteSessionRow,
  type RemoteSessionDbRow,
} from './remote-sessions.js';
import type { Page, RemoteSession, RemoteSessionQuery, RemoteSessionRow, RemoteSessionWriteResult } from './types.js';

// A write older than what is stored (a replayed or reordered batch) does not undo a later one.
const UPSERT = `INSERT INTO remote_sessions (${REMOTE_SESSION_COLS}, origin_ip)
  VALUES (${Array.from({ length: 22 }, () => '?').join(', ')})
  ON CONFLICT (id) DO UPDATE SET
    encrypted = excluded.encrypted, start_ms = min(start_ms, excluded.start_ms), end_ms = excluded.end_ms,
    last_seen_ms = excluded.last_seen_ms, bytes_toserver = excluded.bytes_toserver, bytes_toclient = excluded.bytes_toclient,
    vendor = excluded.vendor, outside_window = excluded.outside_window, jump_host = excluded.jump_host,
    inbound_id = excluded.inbound_id, path = excluded.path, origin_ip = excluded.origin_ip
  WHERE excluded.last_seen_ms >= remote_sessions.last_seen_ms`;

const bool = (b: boolean) => (b ? 1 : 0);
const inList = (column: string, n: number) => `${column} IN (${Array.from({ length: n }, () => '?').join(', ')})`;

export class SqliteRemoteSessions {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

  /** Whether the table exists (retention runs on stores opened with fewer migrations too). */
  private present(): boolean {
    return this.db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'remote_sessions'").get() !== undefined;
  }

  private stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      if (this.statements.size >= 128) this.statements.clear();
      this.statements.set(sql, s);
    }
    return s;
  }

  upsert(rows: readonly RemoteSessionRow[]): RemoteSessionWriteResult {
    const ok = rows.filter(validRemoteSessionRow);
    const result = { written: ok.length, rejected: rows.length - ok.length };
    if (ok.length === 0) return result;
    this.db
      .transaction(() => {
        const put = this.stmt(UPSERT);
        for (const r of latestRemoteSessionRows(ok)) put.run(...remoteSessionValues(r, bool));
      })
      .immediate();
    return result;
  }

  list(q: RemoteSessionQuery): Page<RemoteSession> {
    const plan = remoteSessionListPlan(q, bool, inList);
    const rows = this.stmt(`SELECT ${REMOTE_SESSION_COLS} FROM remote_sessions${plan.where} ORDER BY start_ms DESC, id DESC LIMIT ?`).all(
      ...plan.params,
      plan.limit + 1,
    ) as RemoteSessionDbRow[];
    const more = rows.length > plan.limit;
    if (more) rows.length = plan.limit;
    return { items: rows.map(rowToRemoteSession), next_cursor: more ? plan.cursorAfter(rows[rows.length - 1]) : null };
  }

  cutoff(now: number, days: number): number {
    if (!this.present()) return remoteSessionCutoff(now, null, days);
    const newest = (this.stmt('SELECT max(last_seen_ms) AS m FROM remote_sessions').get() as { m: number | null }).m;
    return remoteSessionCutoff(now, newest, days);
  }

  /** Deletes sessions whose last packet is before `cutoffMs` (inside the caller's transaction). */
  prune(cutoffMs: number): number {
    if (!this.present()) return 0;
    return this.stmt('DELETE FROM remote_sessions WHERE last_seen_ms < ?').run(cutoffMs).changes;
  }
}
