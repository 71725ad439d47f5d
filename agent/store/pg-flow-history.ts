/**
 * Flow history in PostgreSQL: the same table, upsert-add, matrix, extent and retention as
 * sqlite-flow-history.ts, in PostgreSQL's SQL, over anything that runs a query (a pg Pool or
 * client). `PG_FLOW_HISTORY_DDL` is the table's migration (the same version number as SQLite's).
 */
import { isPeerRow, MAX_MATRIX_ITEMS, MAX_PEER_ITEMS, MAX_PEER_SERIES, matrixBounds, mergeFlowHistoryRows, peerFilter, validFlowHistoryRow } from './flow-history.js';
import type { FlowHistoryExtent, FlowHistoryRow, FlowHistoryWriteResult, FlowMatrix, FlowMatrixQuery, FlowPeers, FlowPeersQuery } from './types.js';
import { tsFromMs } from './values.js';

const DAY_MS = 86_400_000;
/** Rows per INSERT statement (10 parameters each; PostgreSQL allows 65,535 parameters). */
const ROWS_PER_STATEMENT = 1000;

export const PG_FLOW_HISTORY_DDL = `
CREATE TABLE flow_history (
  bucket_ms  BIGINT NOT NULL,
  sensor     TEXT COLLATE "C" NOT NULL,
  zone_src   TEXT COLLATE "C" NOT NULL,
  zone_dst   TEXT COLLATE "C" NOT NULL,
  app        TEXT COLLATE "C" NOT NULL,
  encrypted  BOOLEAN NOT NULL,
  bucket_s   INTEGER NOT NULL CHECK (bucket_s BETWEEN 1 AND 86400),
  bytes      BIGINT NOT NULL CHECK (bytes >= 0),
  flows      BIGINT NOT NULL CHECK (flows >= 0),
  phi_flows  BIGINT NOT NULL CHECK (phi_flows >= 0),
  PRIMARY KEY (bucket_ms, sensor, zone_src, zone_dst, app, encrypted)
);
CREATE INDEX flow_history_sensor ON flow_history (sensor, bucket_ms);
`;

/** The address-pair table (migration 6): hourly rows per client, server, zones, app and encryption. */
export const PG_FLOW_PEERS_DDL = `
CREATE TABLE flow_peers (
  bucket_ms  BIGINT NOT NULL,
  sensor     TEXT COLLATE "C" NOT NULL,
  client_ip  TEXT COLLATE "C" NOT NULL,
  server_ip  TEXT COLLATE "C" NOT NULL,
  zone_src   TEXT COLLATE "C" NOT NULL,
  zone_dst   TEXT COLLATE "C" NOT NULL,
  app        TEXT COLLATE "C" NOT NULL,
  encrypted  BOOLEAN NOT NULL,
  bucket_s   INTEGER NOT NULL CHECK (bucket_s BETWEEN 1 AND 86400),
  bytes      BIGINT NOT NULL CHECK (bytes >= 0),
  flows      BIGINT NOT NULL CHECK (flows >= 0),
  phi_flows  BIGINT NOT NULL CHECK (phi_flows >= 0),
  PRIMARY KEY (bucket_ms, sensor, client_ip, server_ip, zone_src, zone_dst, app, encrypted)
);
CREATE INDEX flow_peers_client ON flow_peers (client_ip, bucket_ms);
CREATE INDEX flow_peers_server ON flow_peers (server_ip, bucket_ms);
CREATE INDEX flow_peers_zones  ON flow_peers (zone_src, zone_dst, bucket_ms);
`;

/** `?` placeholders numbered for PostgreSQL. */
function numbered(sql: string): string {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
}

/** What the module needs of node-postgres: a Pool or a client. */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }>;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const iso = (v: unknown): string | null => (v === null || v === undefined ? null : tsFromMs(Number(v)).iso);

export class PgFlowHistory {
  constructor(private readonly db: PgQueryable) {}

  /**
   * Adds the rows: each statement is atomic and sums into existing keys (several sensors may
   * write the same bucket at once: ON CONFLICT serialises them on the row).
   */
  async add(rows: readonly FlowHistoryRow[]): Promise<FlowHistoryWriteResult> {
    const ok = rows.filter(validFlowHistoryRow);
    const result = { written: ok.length, rejected: rows.length - ok.length };
    const all = mergeFlowHistoryRows(ok);
    const merged = all.filter((r) => !isPeerRow(r));
    await this.addPeers(all.filter(isPeerRow));
    for (let i = 0; i < merged.length; i += ROWS_PER_STATEMENT) {
      const chunk = merged.slice(i, i + ROWS_PER_STATEMENT);
      const values: unknown[] = [];
      const tuples = chunk.map((r, j) => {
        values.push(r.bucketMs, r.sensor, r.zoneSrc, r.zoneDst, r.app, r.encrypted, r.bucketSeconds, r.bytes, r.flows, r.phiFlows);
        return `(${Array.from({ length: 10 }, (_, k) => `$${j * 10 + k + 1}`).join(', ')})`;
      });
      await this.db.query(
        `INSERT INTO flow_history AS h (bucket_ms, sensor, zone_src, zone_dst, app, encrypted, bucket_s, bytes, flows, phi_flows)
         VALUES ${tuples.join(', ')}
         ON CONFLICT (bucket_ms, sensor, zone_src, zone_dst, app, encrypted) DO UPDATE SET
           bucket_s = greatest(h.bucket_s, excluded.bucket_s), bytes = h.bytes + excluded.bytes,
           flows = h.flows + excluded.flows, phi_flows = h.phi_flows + excluded.phi_flows`,
        values,
      );
    }
    return result;
  }

  private async addPeers(rows: readonly FlowHistoryRow[]): Promise<void> {
    for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
      const chunk = rows.slice(i, i + ROWS_PER_STATEMENT);
      const values: unknown[] = [];
      const tuples = chunk.map((r, j) => {
        values.push(r.bucketMs, r.sensor, r.clientIp, r.serverIp, r.zoneSrc, r.zoneDst, r.app, r.encrypted, r.bucketSeconds, r.bytes, r.flows, r.phiFlows);
        return `(${Array.from({ length: 12 }, (_, k) => `$${j * 12 + k + 1}`).join(', ')})`;
      });
      await this.db.query(
        `INSERT INTO flow_peers AS h (bucket_ms, sensor, client_ip, server_ip, zone_src, zone_dst, app, encrypted, bucket_s, bytes, flows, phi_flows)
         VALUES ${tuples.join(', ')}
         ON CONFLICT (bucket_ms, sensor, client_ip, server_ip, zone_src, zone_dst, app, encrypted) DO UPDATE SET
           bucket_s = greatest(h.bucket_s, excluded.bucket_s), bytes = h.bytes + excluded.bytes,
           flows = h.flows + excluded.flows, phi_flows = h.phi_flows + excluded.phi_flows`,
        values,
      );
    }
  }

  async peers(q: FlowPeersQuery): Promise<FlowPeers> {
    const { where, params } = peerFilter(q, 'postgres');
    const rows = (
      await this.db.query(
        numbered(`SELECT client_ip, server_ip, zone_src, zone_dst, app, encrypted, min(bucket_ms) AS a, max(bucket_ms + bucket_s * 1000) AS b,
                sum(bytes) AS bytes, sum(flows) AS flows, sum(phi_flows) AS phi
         FROM flow_peers${where} GROUP BY client_ip, server_ip, zone_src, zone_dst, app, encrypted
         ORDER BY bytes DESC, client_ip, server_ip, app, encrypted LIMIT ${MAX_PEER_ITEMS + 1}`),
        params,
      )
    ).rows;
    const truncated = rows.length > MAX_PEER_ITEMS;
    if (truncated) rows.length = MAX_PEER_ITEMS;
    const series = (
      await this.db.query(numbered(`SELECT bucket_ms AS t, max(bucket_s) AS s, sum(flows) AS flows, sum(bytes) AS bytes FROM flow_peers${where} GROUP BY bucket_ms ORDER BY bucket_ms DESC LIMIT ${MAX_PEER_SERIES}`), params)
    ).rows.reverse();
    const last = series.at(-1);
    return {
      items: rows.map((r) => ({
        client_ip: String(r.client_ip),
        server_ip: String(r.server_ip),
        zone_src: String(r.zone_src),
        zone_dst: String(r.zone_dst),
        app: String(r.app),
        encrypted: r.encrypted === true,
        first_seen: iso(r.a)!,
        last_seen: iso(r.b)!,
        bytes: Number(r.bytes),
        flows: Number(r.flows),
        phi: Number(r.phi),
      })),
      series: series.map((r) => ({ start: iso(r.t)!, seconds: Number(r.s), flows: Number(r.flows), bytes: Number(r.bytes) })),
      from: series.length === 0 ? null : iso(series[0].t),
      to: last === undefined ? null : iso(Number(last.t) + Number(last.s) * 1000),
      truncated,
    };
  }

  async matrix(q: FlowMatrixQuery): Promise<FlowMatrix> {
    const { sinceMs, untilMs, sensor } = matrixBounds(q);
    const where: string[] = [];
    const params: unknown[] = [];
    if (sinceMs !== null) {
      params.push(sinceMs);
      where.push(`bucket_ms > $${params.length}::bigint - 86400000`, `bucket_ms + bucket_s * 1000 > $${params.length}::bigint`);
    }
    if (untilMs !== null) {
      params.push(untilMs);
      where.push(`bucket_ms <= $${params.length}::bigint`);
    }
    if (sensor !== null) {
      params.push(sensor);
      where.push(`sensor = $${params.length}`);
    }
    const filter = where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
    const rows = (
      await this.db.query(
        `SELECT zone_src, zone_dst, app, encrypted, sum(bytes) AS bytes, sum(flows) AS flows, sum(phi_flows) AS phi
         FROM flow_history${filter} GROUP BY zone_src, zone_dst, app, encrypted
         ORDER BY bytes DESC, zone_src COLLATE "C", zone_dst COLLATE "C", app COLLATE "C", encrypted LIMIT ${MAX_MATRIX_ITEMS + 1}`,
        params,
      )
    ).rows;
    const truncated = rows.length > MAX_MATRIX_ITEMS;
    if (truncated) rows.length = MAX_MATRIX_ITEMS;
    const span = (await this.db.query(`SELECT min(bucket_ms) AS a, max(bucket_ms + bucket_s * 1000) AS b FROM flow_history${filter}`, params)).rows[0];
    return {
      items: rows.map((r) => ({ zone_src: String(r.zone_src), zone_dst: String(r.zone_dst), app: String(r.app), encrypted: r.encrypted === true, bytes: Number(r.bytes), flows: Number(r.flows), phi: Number(r.phi) })),
      from: iso(span.a),
      to: iso(span.b),
      truncated,
    };
  }

  async extent(sensor?: string): Promise<FlowHistoryExtent> {
    const { sensor: s } = matrixBounds({ sensor });
    const sensors = (await this.db.query('SELECT sensor FROM flow_history GROUP BY sensor ORDER BY sensor COLLATE "C"')).rows.map((r) => String(r.sensor));
    const filter = s === null ? '' : ' WHERE sensor = $1';
    const args = s === null ? [] : [s];
    const span = (await this.db.query(`SELECT min(bucket_ms) AS a, max(bucket_ms + bucket_s * 1000) AS b FROM flow_history${filter}`, args)).rows[0];
    const last = (await this.db.query(`SELECT bucket_s FROM flow_history${filter} ORDER BY bucket_ms DESC LIMIT 1`, args)).rows[0];
    return { sensors, from: iso(span.a), to: iso(span.b), bucket_seconds: last === undefined ? null : num(last.bucket_s) };
  }

  /** The retention cut: `days` before the end of the newest bucket (or `now`, if earlier), as in SQLite. */
  async cutoff(now: number, days: number): Promise<number> {
    const r = (await this.db.query('SELECT bucket_ms + bucket_s * 1000 AS m FROM flow_history ORDER BY bucket_ms DESC LIMIT 1')).rows[0];
    const newest = r === undefined ? null : Number(r.m);
    return (newest === null ? now : Math.min(now, newest)) - days * DAY_MS;
  }

  async prune(cutoffMs: number): Promise<number> {
    const peers = (await this.db.query('DELETE FROM flow_peers WHERE bucket_ms <= $1::bigint AND bucket_ms + bucket_s * 1000 <= $1::bigint', [cutoffMs])).rowCount ?? 0;
    return ((await this.db.query('DELETE FROM flow_history WHERE bucket_ms <= $1::bigint AND bucket_ms + bucket_s * 1000 <= $1::bigint', [cutoffMs])).rowCount ?? 0) + peers;
  }
}
