/**
 * Schema and ordered migrations. `schema_version` holds one row per applied migration; each
 * migration runs in its own IMMEDIATE transaction together with its version row, so a crash
 * mid-migration leaves the previous version intact and the next open applies it again.
 *
 * Append migrations; never edit one that has shipped. v1 creates everything.
 */
import type Database from 'better-sqlite3';

export interface Migration {
  version: number;
  name: string;
  up(db: Database.Database): void;
}

/** 'MUVK' in the SQLite header (`PRAGMA application_id`), so a wrong `--db` file is refused. */
export const APPLICATION_ID = 0x4d55564b;

const V1 = `
CREATE TABLE alerts (
  id             TEXT PRIMARY KEY,              -- sha256(rule_id, subject)[0:32], stable across restarts
  rule_id        TEXT NOT NULL,
  title          TEXT NOT NULL,
  severity       TEXT NOT NULL CHECK (severity IN ('low','medium','high','critical')),
  sev_rank       INTEGER NOT NULL CHECK (sev_rank BETWEEN 1 AND 4),
  guide_refs     TEXT NOT NULL,                 -- JSON array
  first_seen     TEXT NOT NULL,                 -- ISO 8601 UTC, µs
  first_seen_ms  INTEGER NOT NULL,
  last_seen      TEXT NOT NULL,
  last_seen_ms   INTEGER NOT NULL,
  count          INTEGER NOT NULL CHECK (count >= 1),
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
-- Keyset pagination: every index ends in (last_seen_ms, id) so a filter + "newest first" is one range scan.
CREATE INDEX alerts_last_seen ON alerts (last_seen_ms, id);
CREATE INDEX alerts_severity  ON alerts (sev_rank, last_seen_ms, id);
CREATE INDEX alerts_rule      ON alerts (rule_id, last_seen_ms, id);
CREATE INDEX alerts_status    ON alerts (status, last_seen_ms, id);
CREATE INDEX alerts_src_ip    ON alerts (src_ip, last_seen_ms, id);
CREATE INDEX alerts_dst_ip    ON alerts (dst_ip, last_seen_ms, id);
CREATE INDEX alerts_zone_src  ON alerts (zone_src, last_seen_ms, id);
CREATE INDEX alerts_zone_dst  ON alerts (zone_dst, last_seen_ms, id);

CREATE TABLE alert_history (
  id       INTEGER PRIMARY KEY AUTOINCREMENT,
  alert_id TEXT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
  at       TEXT NOT NULL,
  at_ms    INTEGER NOT NULL,
  actor    TEXT NOT NULL,
  action   TEXT NOT NULL CHECK (action IN ('ack','resolve','reopen')),
  comment  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX alert_history_alert ON alert_history (alert_id, id);

-- Who read or changed what (LEV 6.4). AUTOINCREMENT: ids are never reused after pruning, so cursors stay sane.
CREATE TABLE audit_log (
  id     INTEGER PRIMARY KEY AUTOINCREMENT,
  at     TEXT NOT NULL,
  at_ms  INTEGER NOT NULL,
  actor  TEXT NOT NULL,
  role   TEXT NOT NULL,
  action TEXT NOT NULL,
  query  TEXT NOT NULL                          -- JSON, bounded, fødselsnummer-like values redacted
);
CREATE INDEX audit_log_at     ON audit_log (at_ms);
CREATE INDEX audit_log_actor  ON audit_log (actor, id);
CREATE INDEX audit_log_action ON audit_log (action, id);

-- Small state for the inventory and baseline (JSON values).
CREATE TABLE kv (
  key        TEXT PRIMARY KEY,
  value      TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'alerts, alert_history, audit_log, kv',
    up(db) {
      db.exec(V1);
      db.pragma(`application_id = ${APPLICATION_ID}`);
    },
  },
  {
    version: 2,
    name: 'inventory_devices',
    up(db) {
      db.exec(`
CREATE TABLE inventory_devices (
  id             TEXT PRIMARY KEY,              -- mac:… or ip:…
  zone           TEXT NOT NULL,
  role           TEXT NOT NULL,
  exposure_score INTEGER NOT NULL,
  exposure_level TEXT NOT NULL,
  first_seen_ms  INTEGER NOT NULL,
  last_seen_ms   INTEGER NOT NULL,
  summary        TEXT NOT NULL,                 -- JSON DeviceSummary (PHI-free)
  detail         TEXT NOT NULL                  -- JSON DeviceDetail (PHI-free)
);
CREATE INDEX inventory_devices_rank ON inventory_devices (exposure_score DESC, id);
CREATE INDEX inventory_devices_zone ON inventory_devices (zone);
`);
    },
  },
  {
    version: 3,
    name: 'sensor names: alerts.sensors, device_sightings, audit_log.sensor',
    up(db) {
      db.exec(`
-- Every sensor that saw the alert (JSON array of names, sorted, bounded). Not part of the id:
-- two sensors on overlapping mirrors raise one alert that lists both.
ALTER TABLE alerts ADD COLUMN sensors TEXT NOT NULL DEFAULT '[]';

-- Which sensor saw which device, and when (one device, one sighting per sensor).
CREATE TABLE device_sightings (
  device_id     TEXT NOT NULL REFERENCES inventory_devices (id) ON DELETE CASCADE,
  sensor        TEXT NOT NULL,
  first_seen_ms INTEGER NOT NULL,
  last_seen_ms  INTEGER NOT NULL,
  PRIMARY KEY (device_id, sensor)
) WITHOUT ROWID;
CREATE INDEX device_sightings_sensor ON device_sightings (sensor, device_id);

-- The muvakt instance (serve replica or sensor) that wrote the audit row.
ALTER TABLE audit_log ADD COLUMN sensor TEXT NOT NULL DEFAULT '';
`);
    },
  },
  {
    version: 4,
    name: 'flow_history',
    up(db) {
      // Flow aggregates by time bucket (agent/flows/flow-history.ts): names and counts, no addresses, no PHI.
      // Writes add up (upsert-add), so a bucket written in several flushes, or by a restarted sensor, sums.
      db.exec(`
CREATE TABLE flow_history (
  bucket_ms  INTEGER NOT NULL,                  -- bucket start, epoch ms of capture time
  sensor     TEXT NOT NULL,
  zone_src   TEXT NOT NULL,
  zone_dst   TEXT NOT NULL,
  app        TEXT NOT NULL,
  encrypted  INTEGER NOT NULL CHECK (encrypted IN (0, 1)),
  bucket_s   INTEGER NOT NULL CHECK (bucket_s BETWEEN 1 AND 86400),
  bytes      INTEGER NOT NULL CHECK (bytes >= 0),
  flows      INTEGER NOT NULL CHECK (flows >= 0),
  phi_flows  INTEGER NOT NULL CHECK (phi_flows >= 0),
  PRIMARY KEY (bucket_ms, sensor, zone_src, zone_dst, app, encrypted)
) WITHOUT ROWID;
CREATE INDEX flow_history_sensor ON flow_history (sensor, bucket_ms);
`);
    },
  },
  {
    version: 5,
    name: 'remote_sessions',
    up(db) {
      // The remote-access session log (MU 4.7: event registration for remote support). Addresses,
      // names and counts; never payload. A session is written again as it goes on: the latest write wins.
      db.exec(`
CREATE TABLE remote_sessions (
  id             TEXT PRIMARY KEY,              -- sha256(sensor, flow id)[0:32]
  sensor         TEXT NOT NULL,
  flow_id        TEXT NOT NULL,
  protocol       TEXT NOT NULL,
  encrypted      INTEGER NOT NULL CHECK (encrypted IN (0, 1)),
  src_ip         TEXT NOT NULL,
  src_port       INTEGER NOT NULL,
  dst_ip         TEXT NOT NULL,
  dst_port       INTEGER NOT NULL,
  zone_src       TEXT NOT NULL,
  zone_dst       TEXT NOT NULL,
  start_ms       INTEGER NOT NULL,              -- epoch ms of capture time
  end_ms         INTEGER,                       -- NULL: not ended when last written
  last_seen_ms   INTEGER NOT NULL,
  bytes_toserver INTEGER NOT NULL CHECK (bytes_toserver >= 0),
  bytes_toclient INTEGER NOT NULL CHECK (bytes_toclient >= 0),
  vendor         TEXT,
  outside_window INTEGER CHECK (outside_window IN (0, 1)),
  jump_host      TEXT,
  inbound_id     TEXT,                          -- the leg into the jump host this one continues
  path           TEXT NOT NULL,                 -- JSON array of addresses, outermost first
  origin_ip      TEXT NOT NULL                  -- path[0], for the address filter
);
CREATE INDEX remote_sessions_start    ON remote_sessions (start_ms, id);
CREATE INDEX remote_sessions_sensor   ON remote_sessions (sensor, start_ms, id);
CREATE INDEX remote_sessions_vendor   ON remote_sessions (vendor, start_ms, id);
CREATE INDEX remote_sessions_src_ip   ON remote_sessions (src_ip, start_ms, id);
CREATE INDEX remote_sessions_dst_ip   ON remote_sessions (dst_ip, start_ms, id);
CREATE INDEX remote_sessions_origin   ON remote_sessions (origin_ip, start_ms, id);
CREATE INDEX remote_sessions_last     ON remote_sessions (last_seen_ms);
`);
    },
  },
  {
    version: 6,
    name: 'flow_peers',
    up(db) {
      // Flow history per address pair in hourly buckets (agent/flows/flow-history.ts): a device's
      // peers over time and a matrix cell's flows. Addresses, names and counts; never payload.
      db.exec(`
CREATE TABLE flow_peers (
  bucket_ms  INTEGER NOT NULL,                  -- peer bucket start, epoch ms of capture time
  sensor     TEXT NOT NULL,
  client_ip  TEXT NOT NULL,
  server_ip  TEXT NOT NULL,
  zone_src   TEXT NOT NULL,
  zone_dst   TEXT NOT NULL,
  app        TEXT NOT NULL,
  encrypted  INTEGER NOT NULL CHECK (encrypted IN (0, 1)),
  bucket_s   INTEGER NOT NULL CHECK (bucket_s BETWEEN 1 AND 86400),
  bytes      INTEGER NOT NULL CHECK (bytes >= 0),
  flows      INTEGER NOT NULL CHECK (flows >= 0),
  phi_flows  INTEGER NOT NULL CHECK (phi_flows >= 0),
  PRIMARY KEY (bucket_ms, sensor, client_ip, server_ip, zone_src, zone_dst, app, encrypted)
) WITHOUT ROWID;
CREATE INDEX flow_peers_client ON flow_peers (client_ip, bucket_ms);
CREATE INDEX flow_peers_server ON flow_peers (server_ip, bucket_ms);
CREATE INDEX flow_peers_zones  ON flow_peers (zone_src, zone_dst, bucket_ms);
`);
    },
  },
];

/** The highest version applied to this file (0 for a new file). */
export function schemaVersion(db: Database.Database): number {
  const row = db.prepare('SELECT max(version) AS v FROM schema_version').get() as { v: number | null };
  return row.v ?? 0;
}

/**
 * Applies the migrations newer than the file's version, in order. Refuses a file written by a
 * newer muvakt (unknown version) and a SQLite file that is not a muvakt store. Returns the
 * versions applied.
 */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS, nowIso = new Date().toISOString()): number[] {
  for (let i = 0; i < migrations.length; i++) {
    if (migrations[i].version !== i + 1) throw new Error(`migration ${i} has version ${migrations[i].version}, expected ${i + 1}`);
  }
  const appId = db.pragma('application_id', { simple: true }) as number;
  const hasVersionTable = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_version'").get() !== undefined;
  if (!hasVersionTable) {
    const tables = db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").get() as { n: number };
    if (tables.n > 0 || (appId !== 0 && appId !== APPLICATION_ID)) throw new Error('not a muvakt store: the file holds other tables');
    db.exec('CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  } else if (appId !== 0 && appId !== APPLICATION_ID) {
    throw new Error(`not a muvakt store: application_id is 0x${appId.toString(16)}`);
  }
  const current = schemaVersion(db);
  if (current > migrations.length) {
    throw new Error(`store schema version ${current} is newer than this muvakt knows (${migrations.length}); upgrade muvakt`);
  }
  const applied: number[] = [];
  const record = db.prepare('INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)');
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      m.up(db);
      record.run(m.version, m.name, nowIso);
    }).immediate();
    applied.push(m.version);
  }
  return applied;
}
