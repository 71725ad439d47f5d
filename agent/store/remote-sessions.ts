/**
 * Remote-access sessions, the part every store backend shares: checking rows before they are
 * written, the listing's filters and cursor (SQL with `?` placeholders; PostgreSQL numbers
 * them), and the row → API shape. The SQL of each backend lives beside it
 * (sqlite-remote-sessions.ts, pg-remote-sessions.ts).
 */
import { ipTextVersion } from '../../protocols/ip/ip-text.js';
import { REMOTE_PROTOCOLS } from '../../protocols/events/remote.js';
import { asList, decodeCursor, encodeCursor, fingerprint, isText, limitParam, parseJson, timeParam } from './query.js';
import { StoreInputError, type RemoteSession, type RemoteSessionQuery, type RemoteSessionRow } from './types.js';
import { containsFnr, tsFromMs } from './values.js';

const MAX_NAME = 128;
/** external → jump host → device is three; a chain of jump hosts a little more. */
const MAX_PATH = 8;

/** Columns in the order both backends select them. */
export const REMOTE_SESSION_COLS =
  'id, sensor, flow_id, protocol, encrypted, src_ip, src_port, dst_ip, dst_port, zone_src, zone_dst, start_ms, end_ms, last_seen_ms, bytes_toserver, bytes_toclient, vendor, outside_window, jump_host, inbound_id, path';

/** A stored row as either backend returns it (PostgreSQL BIGINTs may come back as strings). */
export interface RemoteSessionDbRow {
  id: string;
  sensor: string;
  flow_id: string;
  protocol: string;
  encrypted: number | boolean;
  src_ip: string;
  src_port: number;
  dst_ip: string;
  dst_port: number;
  zone_src: string;
  zone_dst: string;
  start_ms: number | string;
  end_ms: number | string | null;
  last_seen_ms: number | string;
  bytes_toserver: number | string;
  bytes_toclient: number | string;
  vendor: string | null;
  outside_window: number | boolean | null;
  jump_host: string | null;
  inbound_id: string | null;
  path: string;
}

const isName = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_NAME && !containsFnr(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isPort = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535;
const isAddress = (v: unknown): v is string => typeof v === 'string' && v.length <= 64 && ipTextVersion(v) !== 0;
const isId = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{32}$/.test(v);

/** Whether a row may be written: every field in its shape, names free of fødselsnummer-like values. */
export function validRemoteSessionRow(r: RemoteSessionRow): boolean {
  return (
    r !== null &&
    typeof r === 'object' &&
    isId(r.id) &&
    isName(r.sensor) &&
    typeof r.flowId === 'string' &&
    /^[0-9a-f]{1,64}$/.test(r.flowId) &&
    (REMOTE_PROTOCOLS as readonly string[]).includes(r.protocol) &&
    typeof r.encrypted === 'boolean' &&
    isAddress(r.srcIp) &&
    isAddress(r.dstIp) &&
    isPort(r.srcPort) &&
    isPort(r.dstPort) &&
    isName(r.zoneSrc) &&
    isName(r.zoneDst) &&
    isCount(r.startMs) &&
    isCount(r.lastSeenMs) &&
    r.lastSeenMs >= r.startMs &&
    (r.endMs === null || (isCount(r.endMs) && r.endMs >= r.startMs)) &&
    isCount(r.bytesToServer) &&
    isCount(r.bytesToClient) &&
    (r.vendor === null || isName(r.vendor)) &&
    (r.outsideWindow === null || typeof r.outsideWindow === 'boolean') &&
    (r.jumpHost === null || isAddress(r.jumpHost)) &&
    (r.inboundId === null || isId(r.inboundId)) &&
    Array.isArray(r.path) &&
    r.path.length >= 1 &&
    r.path.length <= MAX_PATH &&
    r.path.every(isAddress)
  );
}

/** The values of one row in column order (REMOTE_SESSION_COLS), with `origin_ip` last. */
export function remoteSessionValues(r: RemoteSessionRow, bool: (b: boolean) => unknown): unknown[] {
  return [
    r.id,
    r.sensor,
    r.flowId,
    r.protocol,
    bool(r.encrypted),
    r.srcIp,
    r.srcPort,
    r.dstIp,
    r.dstPort,
    r.zoneSrc,
    r.zoneDst,
    r.startMs,
    r.endMs,
    r.lastSeenMs,
    r.bytesToServer,
    r.bytesToClient,
    r.vendor,
    r.outsideWindow === null ? null : bool(r.outsideWindow),
    r.jumpHost,
    r.inboundId,
    JSON.stringify(r.path),
    r.path[0],
  ];
}

/** Several writes of one session in a batch: the one seen last wins (as in the store). */
export function latestRemoteSessionRows(rows: readonly RemoteSessionRow[]): RemoteSessionRow[] {
  const byId = new Map<string, RemoteSessionRow>();
  for (const r of rows) {
    const m = byId.get(r.id);
    if (m === undefined || r.lastSeenMs >= m.lastSeenMs) byId.set(r.id, r);
  }
  return [...byId.values()];
}

const num = (v: number | string): number => Number(v);
const flag = (v: number | boolean | null): boolean | null => (v === null ? null : v === true || v === 1);

export function rowToRemoteSession(r: RemoteSessionDbRow): RemoteSession {
  const start = num(r.start_ms);
  const end = r.end_ms === null ? null : num(r.end_ms);
  const last = num(r.last_seen_ms);
  return {
    id: r.id,
    sensor: r.sensor,
    flow_id: r.flow_id,
    protocol: r.protocol,
    encrypted: flag(r.encrypted) === true,
    src_ip: r.src_ip,
    src_port: Number(r.src_port),
    dst_ip: r.dst_ip,
    dst_port: Number(r.dst_port),
    zone_src: r.zone_src,
    zone_dst: r.zone_dst,
    start: tsFromMs(start).iso,
    end: end === null ? null : tsFromMs(end).iso,
    ongoing: end === null,
    last_seen: tsFromMs(last).iso,
    duration_s: Math.round(((end ?? last) - start) / 10) / 100,
    bytes_toserver: num(r.bytes_toserver),
    bytes_toclient: num(r.bytes_toclient),
    vendor: r.vendor,
    outside_window: flag(r.outside_window),
    jump_host: r.jump_host,
    inbound_id: r.inbound_id,
    path: parseJson<string[]>(r.path, []),
  };
}

export interface RemoteSessionPlan {
  where: string;
  params: unknown[];
  limit: number;
  cursorAfter(r: RemoteSessionDbRow): string;
}

/**
 * Newest start first, keyset-paginated on (start_ms, id). `bool` is how the backend writes a
 * boolean parameter (SQLite 0/1, PostgreSQL true/false); `inList(n)` the SQL of "in these n values".
 */
export function remoteSessionListPlan(q: RemoteSessionQuery, bool: (b: boolean) => unknown, inList: (column: string, n: number) => string): RemoteSessionPlan {
  const where: string[] = [];
  const params: unknown[] = [];
  const since = timeParam(q.since, 'since');
  const until = timeParam(q.until, 'until');
  if (since !== null && until !== null && until.ms < since.ms) throw new StoreInputError('until: is before since');
  if (since !== null) {
    where.push('coalesce(end_ms, last_seen_ms) >= ?');
    params.push(since.ms);
  }
  if (until !== null) {
    where.push('start_ms <= ?');
    params.push(until.ms);
  }
  if (q.ip !== undefined) {
    if (!isText(q.ip, 64) || q.ip.length === 0) throw new StoreInputError('ip: expected an address');
    where.push('(src_ip = ? OR dst_ip = ? OR origin_ip = ?)');
    params.push(q.ip, q.ip, q.ip);
  }
  if (q.vendor !== undefined) {
    if (!isText(q.vendor, MAX_NAME) || q.vendor.length === 0) throw new StoreInputError('vendor: expected a name');
    where.push('vendor = ?');
    params.push(q.vendor);
  }
  const protocols = asList(q.protocol, REMOTE_PROTOCOLS, 'protocol');
  if (protocols !== null) {
    where.push(inList('protocol', protocols.length));
    params.push(...protocols);
  }
  if (q.outside_window !== undefined) {
    if (typeof q.outside_window !== 'boolean') throw new StoreInputError('outside_window: expected true or false');
    // false: sessions of a vendor inside its window (sessions without a vendor have no verdict).
    where.push('outside_window = ?');
    params.push(bool(q.outside_window));
  }
  const sensors = asList(q.sensor, null, 'sensor');
  if (sensors !== null) {
    where.push(inList('sensor', sensors.length));
    params.push(...sensors);
  }
  const limit = limitParam(q.limit);
  const fp = fingerprint({
    remote_sessions: true,
    since: since?.ms ?? null,
    until: until?.ms ?? null,
    ip: q.ip ?? null,
    vendor: q.vendor ?? null,
    protocol: protocols,
    outside_window: q.outside_window ?? null,
    sensor: sensors,
  });
  if (q.cursor !== undefined && q.cursor !== null && q.cursor !== '') {
    const [ms, id] = decodeCursor(q.cursor, fp, ['n', 's']);
    where.push('(start_ms < ? OR (start_ms = ? AND id < ?))');
    params.push(ms, ms, id);
  }
  return {
    where: where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '',
    params,
    limit,
    cursorAfter: (r) => encodeCursor(fp, [num(r.start_ms), r.id]),
  };
}

/** The retention cut: `days` before the newest session's last packet (or `now`, if earlier), as for alerts. */
export function remoteSessionCutoff(now: number, newest: number | null, days: number): number {
  return (newest === null ? now : Math.min(now, newest)) - days * 86_400_000;
}
