/**
 * Flow history in SQLite (table flow_history, migration 4): upsert-add writes, the zone
 * matrix of a time range, the extent for a range picker, retention relative to the newest bucket.
 */
import type Database from 'better-sqlite3';
import { isPeerRow, MAX_MATRIX_ITEMS, MAX_PEER_ITEMS, MAX_PEER_SERIES, matrixBounds, peerFilter, validFlowHistoryRow } from './flow-history.js';
import type { FlowHistoryExtent, FlowHistoryRow, FlowHistoryWriteResult, FlowMatrix, FlowMatrixItem, FlowMatrixQuery, FlowPeers, FlowPeersQuery } from './types.js';
import { tsFromMs } from './values.js';

const DAY_MS = 86_400_000;

const ADD = `INSERT INTO flow_history (bucket_ms, sensor, zone_src, zone_dst, app, encrypted, bucket_s, bytes, flows, phi_flows)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (bucket_ms, sensor, zone_src, zone_dst, app, encrypted) DO UPDATE SET
    bucket_s = max(bucket_s, excluded.bucket_s), bytes = bytes + excluded.bytes,
    flows = flows + excluded.flows, phi_flows = phi_flows + excluded.phi_flows`;
const ADD_PEER = `INSERT INTO flow_peers (bucket_ms, sensor, client_ip, server_ip, zone_src, zone_dst, app, encrypted, bucket_s, bytes, flows, phi_flows)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (bucket_ms, sensor, client_ip, server_ip, zone_src, zone_dst, app, encrypted) DO UPDATE SET
    bucket_s = max(bucket_s, excluded.bucket_s), bytes = bytes + excluded.bytes,
    flows = flows + excluded.flows, phi_flows = phi_flows + excluded.phi_flows`;
const PRUNE_PEERS = 'DELETE FROM flow_peers WHERE bucket_ms <= ? AND bucket_ms + bucket_s * 1000 <= ?';
// Both by the primary key's leading bucket_ms: no scan of the table.
const NEWEST = 'SELECT bucket_ms + bucket_s * 1000 AS m FROM flow_history ORDER BY bucket_ms DESC LIMIT 1';
const PRUNE = 'DELETE FROM flow_history WHERE bucket_ms <= ? AND bucket_ms + bucket_s * 1000 <= ?';

export class SqliteFlowHistory {
  private readonly statements = new Map<string, Database.Statement>();
  private tablePresent = false;
  private peersPresent = false;

  constructor(private readonly db: Database.Database) {}

  /** Whether the table exists (retention runs on stores opened with fewer migrations too). */
  private present(): boolean {
    this.tablePresent ||= this.db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'flow_history'").get() !== undefined;
    return this.tablePresent;
  }

  private peerTable(): boolean {
    this.peersPresent ||= this.db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'flow_peers'").get() !== undefined;
    return this.peersPresent;
  }

  /** Prepared on first use: a store opened with fewer migrations (tests, an older schema) has no table yet. */
  private stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /** Adds the rows in one transaction (same key: bytes, flows and PHI flows sum). Bad rows are refused and counted. */
  add(rows: readonly FlowHistoryRow[]): FlowHistoryWriteResult {
    const ok = rows.filter(validFlowHistoryRow);
    const result = { written: ok.length, rejected: rows.length - ok.length };
    if (ok.length === 0) return result;
    this.db
      .transaction(() => {
        const add = this.stmt(ADD);
        for (const r of ok) {
          if (isPeerRow(r)) this.stmt(ADD_PEER).run(r.bucketMs, r.sensor, r.clientIp, r.serverIp, r.zoneSrc, r.zoneDst, r.app, r.encrypted ? 1 : 0, r.bucketSeconds, r.bytes, r.flows, r.phiFlows);
          else add.run(r.bucketMs, r.sensor, r.zoneSrc, r.zoneDst, r.app, r.encrypted ? 1 : 0, r.bucketSeconds, r.bytes, r.flows, r.phiFlows);
        }
      })
      .immediate();
    return result;
  }

  /** The zone matrix: rows of the buckets overlapping [since, until] summed by zone pair, app and encryption, largest first. */
  matrix(q: FlowMatrixQuery): FlowMatrix {
    const { sinceMs, untilMs, sensor } = matrixBounds(q);
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (sinceMs !== null) {
      // Any bucket that is not over by `since`; the index on bucket_ms narrows to one bucket length earlier.
      where.push('bucket_ms > ? - 86400000', 'bucket_ms + bucket_s * 1000 > ?');
      params.push(sinceMs, sinceMs);
    }
    if (untilMs !== null) {
      where.push('bucket_ms <= ?');
      params.push(untilMs);
    }
    if (sensor !== null) {
      where.push('sensor = ?');
      params.push(sensor);
    }
    const filter = where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
    const rows = this.stmt(
        `SELECT zone_src, zone_dst, app, encrypted, sum(bytes) AS bytes, sum(flows) AS flows, sum(phi_flows) AS phi
         FROM flow_history${filter} GROUP BY zone_src, zone_dst, app, encrypted
         ORDER BY bytes DESC, zone_src, zone_dst, app, encrypted LIMIT ?`,
      ).all(...params, MAX_MATRIX_ITEMS + 1) as { zone_src: string; zone_dst: string; app: string; encrypted: number; bytes: number; flows: number; phi: number }[];
    const truncated = rows.length > MAX_MATRIX_ITEMS;
    if (truncated) rows.length = MAX_MATRIX_ITEMS;
    const span = this.stmt(`SELECT min(bucket_ms) AS a, max(bucket_ms + bucket_s * 1000) AS b FROM flow_history${filter}`).get(...params) as { a: number | null; b: number | null };
    const items: FlowMatrixItem[] = rows.map((r) => ({ zone_src: r.zone_src, zone_dst: r.zone_dst, app: r.app, encrypted: r.encrypted === 1, bytes: r.bytes, flows: r.flows, phi: r.phi }));
    return { items, from: span.a === null ? null : tsFromMs(span.a).iso, to: span.b === null ? null : tsFromMs(span.b).iso, truncated };
  }

  /** Address pairs of a device's addresses or of one zone pair, summed over the buckets that overlap the range, with the flows per bucket. */
  peers(q: FlowPeersQuery): FlowPeers {
    const { where, params } = peerFilter(q, 'sqlite');
    const rows = this.stmt(
      `SELECT client_ip, server_ip, zone_src, zone_dst, app, encrypted, min(bucket_ms) AS a, max(bucket_ms + bucket_s * 1000) AS b,
              sum(bytes) AS bytes, sum(flows) AS flows, sum(phi_flows) AS phi
       FROM flow_peers${where} GROUP BY client_ip, server_ip, zone_src, zone_dst, app, encrypted
       ORDER BY bytes DESC, client_ip, server_ip, app, encrypted LIMIT ?`,
    ).all(...params, MAX_PEER_ITEMS + 1) as { client_ip: string; server_ip: string; zone_src: string; zone_dst: string; app: string; encrypted: number; a: number; b: number; bytes: number; flows: number; phi: number }[];
    const truncated = rows.length > MAX_PEER_ITEMS;
    if (truncated) rows.length = MAX_PEER_ITEMS;
    const series = this.stmt(
      `SELECT bucket_ms AS t, max(bucket_s) AS s, sum(flows) AS flows, sum(bytes) AS bytes FROM flow_peers${where} GROUP BY bucket_ms ORDER BY bucket_ms DESC LIMIT ?`,
    ).all(...params, MAX_PEER_SERIES) as { t: number; s: number; flows: number; bytes: number }[];
    series.reverse();
    return {
      items: rows.map((r) => ({
        client_ip: r.client_ip,
        server_ip: r.server_ip,
        zone_src: r.zone_src,
        zone_dst: r.zone_dst,
        app: r.app,
        encrypted: r.encrypted === 1,
        first_seen: tsFromMs(r.a).iso,
        last_seen: tsFromMs(r.b).iso,
        bytes: r.bytes,
        flows: r.flows,
        phi: r.phi,
      })),
      series: series.map((r) => ({ start: tsFromMs(r.t).iso, seconds: r.s, flows: r.flows, bytes: r.bytes })),
      from: series.length === 0 ? null : tsFromMs(series[0].t).iso,
      to: series.length === 0 ? null : tsFromMs(series[series.length - 1].t + series[series.length - 1].s * 1000).iso,
      truncated,
    };
  }

  /** Sensors with flow history and the span of the buckets (of one sensor, if given). */
  extent(sensor?: string): FlowHistoryExtent {
    const { sensor: s } = matrixBounds({ sensor });
    const sensors = (this.stmt('SELECT DISTINCT sensor FROM flow_history ORDER BY sensor').all() as { sensor: string }[]).map((r) => r.sensor);
    const filter = s === null ? '' : ' WHERE sensor = ?';
    const args = s === null ? [] : [s];
    const span = this.stmt(`SELECT min(bucket_ms) AS a, max(bucket_ms + bucket_s * 1000) AS b FROM flow_history${filter}`).get(...args) as { a: number | null; b: number | null };
    const last = this.stmt(`SELECT bucket_s AS s FROM flow_history${filter} ORDER BY bucket_ms DESC LIMIT 1`).get(...args) as { s: number } | undefined;
    return {
      sensors,
      from: span.a === null ? null : tsFromMs(span.a).iso,
      to: span.b === null ? null : tsFromMs(span.b).iso,
      bucket_seconds: last?.s ?? null,
    };
  }

  /**
   * The retention cut for `days` at clock `now`: measured from the end of the newest bucket (or
   * `now`, if earlier), as alerts are from the newest alert, so a store of old captures keeps them.
   */
  cutoff(now: number, days: number): number {
    if (!this.present()) return now - days * DAY_MS;
    const newest = (this.stmt(NEWEST).get() as { m: number } | undefined)?.m;
    return (newest === undefined ? now : Math.min(now, newest)) - days * DAY_MS;
  }

  /** Deletes buckets that ended at or before `cutoffMs` (inside the caller's transaction). */
  prune(cutoffMs: number): number {
    if (!this.present()) return 0;
    const peers = this.peerTable() ? this.stmt(PRUNE_PEERS).run(cutoffMs, cutoffMs).changes : 0;
    return this.stmt(PRUNE).run(cutoffMs, cutoffMs).changes + peers;
  }
}
