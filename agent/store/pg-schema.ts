/**
 * PostgreSQL schema and its ordered migrations: the same versions, names and meaning as the
 * SQLite ones (schema.ts), in PostgreSQL's own SQL. `schema_version` holds one row per applied
 * migration (the same table as in a SQLite store). The pending migrations run in one transaction
 * together with their version rows, under a transaction-level advisory lock, so several sensors
 * and API replicas starting at once migrate the database exactly once; a crash mid-migration
 * leaves the version the database had. One commit, not one per migration: each commit waits for
 * the WAL to reach the disk, and a new fleet database has every migration to apply.
 *
 * Append migrations (to both files, same version number); never edit one that has shipped.
 * Text keys are COLLATE "C": byte order, as in SQLite, so keyset cursors page identically.
 */
import { PG_FLOW_HISTORY_DDL, PG_FLOW_PEERS_DDL } from './pg-flow-history.js';
import { PG_REMOTE_SESSIONS_DDL } from './pg-remote-sessions.js';
import type pg from 'pg';

export interface PgMigration {
  version: number;
  name: string;
  sql: string;
}

/** Key of the advisory lock the migrations hold ('MUVK'). */
export const MIGRATION_LOCK = 0x4d55564b;

export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: 'alerts, alert_history, audit_log, kv',
    sql: `
CREATE TABLE alerts (
  id             TEXT COLLATE "C" PRIMARY KEY,  -- sha256(rule_id, subject)[0:32], stable across restarts and sensors
  rule_id        TEXT NOT NULL,
  title          TEXT NOT NULL,
  severity       TEXT NOT NULL CHECK (severity IN ('low','medium','high','critical')),
  sev_rank       INTEGER NOT NULL CHECK (sev_rank BETWEEN 1 AND 4),
  guide_refs     TEXT NOT NULL,                 -- JSON array
  first_seen     TEXT COLLATE "C" NOT NULL,     -- ISO 8601 UTC, µs (text order is time order)
  first_seen_ms  BIGINT NOT NULL,
  last_seen      TEXT COLLATE "C" NOT NULL,
  last_seen_ms   BIGINT NOT NULL,
  count          BIGINT NOT NULL CHECK (count >= 1),
  status         TEXT NOT NULL CHECK (status IN ('open','acknowledged','resolved')),
  subject        TEXT NOT NULL,                 -- JSON {src_ip, dst_ip, zone_src, zone_dst, device_id?}
  src_ip         TEXT NOT NULL,
  dst_ip         TEXT NOT NULL,
  zone_src       TEXT NOT NULL,
  zone_dst       TEXT NOT NULL,
  device_id      TEXT,
  evidence       TEXT NOT NULL,                 -- JSON, ≤ 4 KiB, PHI-free
  recommendation TEXT NOT NULL,
  updated_at     TEXT NOT NULL
);
CREATE INDEX alerts_last_seen ON alerts (last_seen_ms, id);
CREATE INDEX alerts_severity  ON alerts (sev_rank, last_seen_ms, id);
CREATE INDEX alerts_rule      ON alerts (rule_id, last_seen_ms, id);
CREATE INDEX alerts_status    ON alerts (status, last_seen_ms, id);
CREATE INDEX alerts_src_ip    ON alerts (src_ip, last_seen_ms, id);
CREATE INDEX alerts_dst_ip    ON alerts (dst_ip, last_seen_ms, id);
CREATE INDEX alerts_zone_src  ON alerts (zone_src, last_seen_ms, id);
CREATE INDEX alerts_zone_dst  ON alerts (zone_dst, last_seen_ms, id);

CREATE TABLE alert_history (
  id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  alert_id TEXT COLLATE "C" NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
  at       TEXT NOT NULL,
  at_ms    BIGINT NOT NULL,
  actor    TEXT NOT NULL,
  action   TEXT NOT NULL CHECK (action IN ('ack','resolve','reopen')),
  comment  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX alert_history_alert ON alert_history (alert_id, id);

-- Who read or changed what (LEV 6.4). Identity ids are never reused, so cursors stay sane.
CREATE TABLE audit_log (
  id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at     TEXT NOT NULL,
  at_ms  BIGINT NOT NULL,
  actor  TEXT NOT NULL,
  role   TEXT NOT NULL,
  action TEXT NOT NULL,
  query  TEXT NOT NULL
);
CREATE INDEX audit_log_at     ON audit_log (at_ms);
CREATE INDEX audit_log_actor  ON audit_log (actor, id);
CREATE INDEX audit_log_action ON audit_log (action, id);

CREATE TABLE kv (
  key        TEXT COLLATE "C" PRIMARY KEY,
  value      TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
`,
  },
  {
    version: 2,
    name: 'inventory_devices',
    sql: `
CREATE TABLE inventory_devices (
  id             TEXT COLLATE "C" PRIMARY KEY,  -- mac:… or ip:…
  zone           TEXT NOT NULL,
  role           TEXT NOT NULL,
  exposure_score INTEGER NOT NULL,
  exposure_level TEXT NOT NULL,
  first_seen_ms  BIGINT NOT NULL,
  last_seen_ms   BIGINT NOT NULL,
  summary        TEXT NOT NULL,
  detail         TEXT NOT NULL
);
CREATE INDEX inventory_devices_rank ON inventory_devices (exposure_score DESC, id);
CREATE INDEX inventory_devices_zone ON inventory_devices (zone);
`,
  },
  {
    version: 3,
    name: 'sensor names: alerts.sensors, device_sightings, audit_log.sensor',
    sql: `
-- Every sensor that saw the alert (JSON array of names, sorted, bounded); not part of the id.
ALTER TABLE alerts ADD COLUMN sensors TEXT NOT NULL DEFAULT '[]';
CREATE INDEX alerts_sensors ON alerts USING gin ((sensors::jsonb));

CREATE TABLE device_sightings (
  device_id     TEXT COLLATE "C" NOT NULL REFERENCES inventory_devices (id) ON DELETE CASCADE,
  sensor        TEXT COLLATE "C" NOT NULL,
  first_seen_ms BIGINT NOT NULL,
  last_seen_ms  BIGINT NOT NULL,
  PRIMARY KEY (device_id, sensor)
);
CREATE INDEX device_sightings_sensor ON device_sightings (sensor, device_id);

ALTER TABLE audit_log ADD COLUMN sensor TEXT NOT NULL DEFAULT '';
`,
  },
  {
    version: 4,
    name: 'flow_history',
    sql: PG_FLOW_HISTORY_DDL,
  },
  {
    version: 5,
    name: 'remote_sessions',
    sql: PG_REMOTE_SESSIONS_DDL,
  },
  {
    version: 6,
    name: 'flow_peers',
    sql: PG_FLOW_PEERS_DDL,
  },
];

/** The highest version applied (0 for an empty database). */
export async function pgSchemaVersion(db: pg.Pool | pg.PoolClient): Promise<number> {
  const t = await db.query<{ n: string | null }>("SELECT to_regclass('schema_version')::text AS n");
  if (t.rows[0].n === null) return 0;
  const r = await db.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_version');
  return r.rows[0].v ?? 0;
}

/**
 * Applies the migrations newer than the database's version, in order, in one transaction under
 * the advisory lock. Refuses a database written by a newer muvakt and a database that holds
 * other tables but no `schema_version`. Returns the versions applied.
 */
export async function pgMigrate(pool: pg.Pool, migrations: readonly PgMigration[] = PG_MIGRATIONS, nowIso = new Date().toISOString()): Promise<number[]> {
  for (let i = 0; i < migrations.length; i++) {
    if (migrations[i].version !== i + 1) throw new Error(`migration ${i} has version ${migrations[i].version}, expected ${i + 1}`);
  }
  const applied: number[] = [];
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      const hasVersionTable = (await client.query<{ n: string | null }>("SELECT to_regclass('schema_version')::text AS n")).rows[0].n !== null;
      if (!hasVersionTable) {
        const others = await client.query<{ n: string }>("SELECT count(*) AS n FROM pg_tables WHERE schemaname = current_schema()");
        if (Number(others.rows[0].n) > 0) throw new Error('not a muvakt store: the database holds other tables');
        await client.query('CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
      }
      const current = (await client.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_version')).rows[0].v ?? 0;
      if (current > migrations.length) throw new Error(`store schema version ${current} is newer than this muvakt knows (${migrations.length}); upgrade muvakt`);
      for (const next of migrations.slice(current)) {
        await client.query(next.sql);
        await client.query('INSERT INTO schema_version (version, name, applied_at) VALUES ($1, $2, $3)', [next.version, next.name, nowIso]);
        applied.push(next.version);
      }
      await client.query('COMMIT');
      return applied;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      throw e;
    }
  } finally {
    client.release();
  }
}
