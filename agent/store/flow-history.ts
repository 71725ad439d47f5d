/**
 * Flow history, the part every store backend shares: checking rows before they are written
 * and the query's bounds. The SQL lives with each backend (sqlite-flow-history.ts, …).
 */
import { StoreInputError, type FlowHistoryRow, type FlowMatrixQuery, type FlowPeersQuery } from './types.js';
import { containsFnr, toTs } from './values.js';

/** Groups a matrix returns at most (zone pairs × apps × encryption; far more than a real site has). */
export const MAX_MATRIX_ITEMS = 10_000;
const MAX_NAME = 128;
const MAX_BUCKET_SECONDS = 86_400;

function isName(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_NAME && !containsFnr(v);
}

/** Address text as the pipeline writes it (IPv4 dotted, IPv6 colon-hex). */
function isAddress(v: unknown): v is string {
  return typeof v === 'string' && v.length >= 2 && v.length <= 64 && /^[0-9A-Fa-f.:]+$/.test(v);
}

/** Whether a row is a peer (address-pair) row rather than a zone row. */
export function isPeerRow(r: FlowHistoryRow): boolean {
  return r.clientIp !== undefined || r.serverIp !== undefined;
}

/** Pairs a peer query returns at most (largest by bytes). */
export const MAX_PEER_ITEMS = 2000;
/** Peer buckets a series returns at most (a year of hours, summed by the caller to days). */
export const MAX_PEER_SERIES = 24 * 366;

function isCount(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

/** Whether a row may be written: names bounded and free of fødselsnummer-like values, counts whole and non-negative. */
export function validFlowHistoryRow(r: FlowHistoryRow): boolean {
  return (
    r !== null &&
    typeof r === 'object' &&
    isCount(r.bucketMs) &&
    Number.isInteger(r.bucketSeconds) &&
    r.bucketSeconds >= 1 &&
    r.bucketSeconds <= MAX_BUCKET_SECONDS &&
    isName(r.sensor) &&
    isName(r.zoneSrc) &&
    isName(r.zoneDst) &&
    isName(r.app) &&
    typeof r.encrypted === 'boolean' &&
    isCount(r.bytes) &&
    isCount(r.flows) &&
    isCount(r.phiFlows) &&
    (!isPeerRow(r) || (isAddress(r.clientIp) && isAddress(r.serverIp)))
  );
}

/**
 * A peer query checked, as a WHERE with `?` placeholders over flow_peers. At least the
 * addresses or the zone pair; StoreInputError for bad input.
 */
export function peerFilter(q: FlowPeersQuery, dialect: 'sqlite' | 'postgres'): { where: string; params: unknown[] } {
  const { sinceMs, untilMs, sensor } = matrixBounds(q);
  const where: string[] = [];
  const params: unknown[] = [];
  if (q.ips !== undefined) {
    if (!Array.isArray(q.ips) || q.ips.length === 0 || q.ips.length > 64 || !q.ips.every(isAddress)) throw new StoreInputError('ips: expected 1–64 addresses');
    if (dialect === 'postgres') {
      where.push('(client_ip = ANY(?) OR server_ip = ANY(?))');
      params.push(q.ips, q.ips);
    } else {
      where.push('(client_ip IN (SELECT value FROM json_each(?)) OR server_ip IN (SELECT value FROM json_each(?)))');
      params.push(JSON.stringify(q.ips), JSON.stringify(q.ips));
    }
  }
  if (q.zone_src !== undefined || q.zone_dst !== undefined) {
    if (!isName(q.zone_src) || !isName(q.zone_dst)) throw new StoreInputError('zone_src, zone_dst: expected both zone names');
    where.push('zone_src = ?', 'zone_dst = ?');
    params.push(q.zone_src, q.zone_dst);
  }
  if (where.length === 0) throw new StoreInputError('ips or zone_src and zone_dst: expected one of them');
  if (sinceMs !== null) {
    where.push('bucket_ms + bucket_s * 1000 > ?');
    params.push(sinceMs);
  }
  if (untilMs !== null) {
    where.push('bucket_ms <= ?');
    params.push(untilMs);
  }
  if (sensor !== null) {
    where.push('sensor = ?');
    params.push(sensor);
  }
  return { where: ` WHERE ${where.join(' AND ')}`, params };
}

/** The matrix query checked: epoch-ms bounds (null = open) and the sensor. StoreInputError for bad input. */
export function matrixBounds(q: FlowMatrixQuery): { sinceMs: number | null; untilMs: number | null; sensor: string | null } {
  const at = (v: string | number | Date | undefined, field: string): number | null => {
    if (v === undefined) return null;
    const t = toTs(v);
    if (t === null) throw new StoreInputError(`${field}: expected an ISO 8601 time or epoch milliseconds`);
    return t.ms;
  };
  const sinceMs = at(q.since, 'since');
  const untilMs = at(q.until, 'until');
  if (sinceMs !== null && untilMs !== null && untilMs < sinceMs) throw new StoreInputError('until: is before since');
  if (q.sensor !== undefined && (typeof q.sensor !== 'string' || q.sensor.length === 0 || q.sensor.length > MAX_NAME)) {
    throw new StoreInputError(`sensor: expected a name of 1–${MAX_NAME} characters`);
  }
  return { sinceMs, untilMs, sensor: q.sensor ?? null };
}

/** Rows of one key summed into one (a single multi-row upsert may not touch a row twice). */
export function mergeFlowHistoryRows(rows: readonly FlowHistoryRow[]): FlowHistoryRow[] {
  const byKey = new Map<string, FlowHistoryRow>();
  for (const r of rows) {
    const key = `${r.bucketMs}\u0000${r.sensor}\u0000${r.zoneSrc}\u0000${r.zoneDst}\u0000${r.app}\u0000${r.encrypted ? 1 : 0}\u0000${r.clientIp ?? ''}\u0000${r.serverIp ?? ''}`;
    const m = byKey.get(key);
    if (m === undefined) byKey.set(key, { ...r });
    else {
      m.bytes += r.bytes;
      m.flows += r.flows;
      m.phiFlows += r.phiFlows;
      m.bucketSeconds = Math.max(m.bucketSeconds, r.bucketSeconds);
    }
  }
  return [...byKey.values()];
}
