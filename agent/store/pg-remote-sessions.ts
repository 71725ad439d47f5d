/**
 * Remote-access sessions in PostgreSQL: the same table, upsert, listing and retention as
 * sqlite-remote-sessions.ts, in PostgreSQL's SQL. `PG_REMOTE_SESSIONS_DDL` is the table's
 * migration (the same version number as SQLite's).
 */
import type { PgQueryable } from './pg-flow-history.js';
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

const COLUMNS = 22;
/** Rows per INSERT statement (22 parameters each; PostgreSQL allows 65,535). */
const ROWS_PER_STATEMENT = 500;

export const PG_REMOTE_SESSIONS_DDL = `
CREATE TABLE remote_sessions (
  id             TEXT COLLATE "C" PRIMARY KEY,
  sensor         TEXT COLLATE "C" NOT NULL,
  flow_id        TEXT NOT NULL,
  protocol       TEXT NOT NULL,
  encrypted      BOOLEAN NOT NULL,
  src_ip         TEXT COLLATE "C" NOT NULL,
  src_port       INTEGER NOT NULL,
  dst_ip         TEXT COLLATE "C" NOT NULL,
  dst_port       INTEGER NOT NULL,
  zone_src       TEXT NOT NULL,
  zone_dst       TEXT NOT NULL,
  start_ms       BIGINT NOT NULL,
  end_ms         BIGINT,
  last_seen_ms   BIGINT NOT NULL,
  bytes_toserver BIGINT NOT NULL CHECK (bytes_toserver >= 0),
  bytes_toclient BIGINT NOT NULL CHECK (bytes_toclient >= 0),
  vendor         TEXT COLLATE "C",
  outside_window BOOLEAN,
  jump_host      TEXT,
  inbound_id     TEXT,
  path           TEXT NOT NULL,
  origin_ip      TEXT COLLATE "C" NOT NULL
);
CREATE INDEX remote_sessions_start    ON remote_sessions (start_ms, id);
CREATE INDEX remote_sessions_sensor   ON remote_sessions (sensor, start_ms, id);
CREATE INDEX remote_sessions_vendor   ON remote_sessions (vendor, start_ms, id);
CREATE INDEX remote_sessions_src_ip   ON remote_sessions (src_ip, start_ms, id);
CREATE INDEX remote_sessions_dst_ip   ON remote_sessions (dst_ip, start_ms, id);
CREATE INDEX remote_sessions_origin   ON remote_sessions (origin_ip, start_ms, id);
CREATE INDEX remote_sessions_last     ON remote_sessions (last_seen_ms);
`;

function numbered(sql: string, from = 0): string {
  let n = from;
  return sql.replace(/\?/g, () => `$${++n}`);
}

const bool = (b: boolean) => b;
const inList = (column: string, n: number) => `${column} IN (${Array.from({ length: n }, () => '?').join(', ')})`;

export class PgRemoteSessions {
  constructor(private readonly db: PgQueryable) {}

  /** Each statement is atomic; a write older than the stored one (by last packet) changes nothing. */
  async upsert(rows: readonly RemoteSessionRow[]): Promise<RemoteSessionWriteResult> {
    const ok = rows.filter(validRemoteSessionRow);
    const result = { written: ok.length, rejected: rows.length - ok.length };
    const latest = latestRemoteSessionRows(ok);
    for (let i = 0; i < latest.length; i += ROWS_PER_STATEMENT) {
      const chunk = latest.slice(i, i + ROWS_PER_STATEMENT);
      const values: unknown[] = [];
      const tuples = chunk.map((r, j) => {
        values.push(...remoteSessionValues(r, bool));
        return `(${Array.from({ length: COLUMNS }, (_, k) => `$${j * COLUMNS + k + 1}`).join(', ')})`;
      });
      await this.db.query(
        `INSERT INTO remote_sessions AS s (${REMOTE_SESSION_COLS}, origin_ip) VALUES ${tuples.join(', ')}
         ON CONFLICT (id) DO UPDATE SET
           encrypted = excluded.encrypted, start_ms = least(s.start_ms, excluded.start_ms), end_ms = excluded.end_ms,
           last_seen_ms = excluded.last_seen_ms, bytes_toserver = excluded.bytes_toserver, bytes_toclient = excluded.bytes_toclient,
           vendor = excluded.vendor, outside_window = excluded.outside_window, jump_host = excluded.jump_host,
           inbound_id = excluded.inbound_id, path = excluded.path, origin_ip = excluded.origin_ip
         WHERE excluded.last_seen_ms >= s.last_seen_ms`,
        values,
      );
    }
    return result;
  }

  async list(q: RemoteSessionQuery): Promise<Page<RemoteSession>> {
    const plan = remoteSessionListPlan(q, bool, inList);
    const sql = numbered(`SELECT ${REMOTE_SESSION_COLS} FROM remote_sessions${plan.where} ORDER BY start_ms DESC, id DESC LIMIT ?`);
    const rows = (await this.db.query(sql, [...plan.params, plan.limit + 1])).rows as unknown as RemoteSessionDbRow[];
    const more = rows.length > plan.limit;
    if (more) rows.length = plan.limit;
    return { items: rows.map(rowToRemoteSession), next_cursor: more ? plan.cursorAfter(rows[rows.length - 1]) : null };
  }

  async cutoff(now: number, days: number): Promise<number> {
    const r = (await this.db.query('SELECT max(last_seen_ms) AS m FROM remote_sessions')).rows[0];
    return remoteSessionCutoff(now, r === undefined || r.m === null ? null : Number(r.m), days);
  }

  async prune(cutoffMs: number): Promise<number> {
    return (await this.db.query('DELETE FROM remote_sessions WHERE last_seen_ms < $1::bigint', [cutoffMs])).rowCount ?? 0;
  }
}
