/**
 * What both store backends share: input validation, the PHI refusal of candidates, cursors and
 * the filters of the listings, written once so SQLite and PostgreSQL answer the same query the
 * same way (and a cursor means the same thing on both). SQL here uses `?` placeholders; the
 * PostgreSQL backend numbers them (`toPgParams`).
 */
import { nodeCrypto } from '../../protocols/node-crypto.js';
import {
  type Alert,
  type AlertCandidate,
  type AlertQuery,
  type AlertSubject,
  type AuditInput,
  type AuditQuery,
  type AlertStatus,
  type Severity,
  type UpsertResult,
  SEVERITIES,
  SEVERITY_RANK,
  STATUSES,
  StoreInputError,
} from './types.js';
import { filterPrefix, SQLITE_IP_IN } from './ip-prefix.js';
import { alertIdFromKey, alertKey, boundEvidence, boundJson, containsFnr, parseTs, redactFnr, safeJson, toTs, tsFromMs, type Timestamp } from './values.js';

export const DAY_MS = 86_400_000;
export const MAX_LIMIT = 1000;
const DEFAULT_LIMIT = 100;
export const MAX_TEXT = 1024;
export const MAX_COMMENT = 2000;
const MAX_AUDIT_QUERY_BYTES = 4096;
const MAX_KV_BYTES = 1 << 20;
/** Entries one kvList call returns at most. */
export const KV_LIST_MAX = 10_000;

/** An alert as both backends store it (text JSON columns, ms beside ISO times). */
export interface AlertRow {
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
  /** JSON array of sensor names. */
  sensors: string;
}

export const ALERT_COLS =
  'id, rule_id, title, severity, sev_rank, guide_refs, first_seen, first_seen_ms, last_seen, last_seen_ms, count, status, subject, evidence, recommendation, updated_at, sensors';

/** Sensor names kept per alert: a fleet is a handful of sensors; the bound keeps a row small whatever happens. */
export const MAX_SENSORS_PER_ALERT = 64;

/** `known` plus `name`, sorted and bounded (the known names win when full). */
export function mergeSensors(known: readonly string[], name: string): string[] {
  if (name === '' || known.includes(name)) return [...known];
  if (known.length >= MAX_SENSORS_PER_ALERT) return [...known];
  return [...known, name].sort();
}

/** A candidate that passed validation and the PHI check, ready for the backend. */
export interface Prepared {
  id: string;
  c: AlertCandidate;
  first: Timestamp;
  last: Timestamp;
  count: number;
  guideRefs: string;
  evidence: string;
}

export const KIND_RANK = { updated: 1, reopened: 2, created: 3 } as const;

export function emptyUpsertResult(): UpsertResult {
  return { created: [], updated: [], reopened: [], capped: 0, rejected_phi: 0, invalid: 0 };
}

export function parseJson<T>(s: string, fallback: T): T {
  try {
    return JSON.parse(s) as T;
  } catch {
    return fallback;
  }
}

export function rowToAlert(r: AlertRow): Alert {
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
    sensors: parseJson<string[]>(r.sensors, []),
  };
}

export function subjectJson(s: AlertSubject): string {
  const o: AlertSubject = { src_ip: s.src_ip, dst_ip: s.dst_ip, zone_src: s.zone_src, zone_dst: s.zone_dst };
  if (s.device_id !== undefined && s.device_id !== '') o.device_id = s.device_id;
  return JSON.stringify(o);
}

export function isText(v: unknown, max = MAX_TEXT): v is string {
  return typeof v === 'string' && v.length <= max;
}

export function asList<T extends string>(v: T | T[] | undefined, allowed: readonly string[] | null, field: string): T[] | null {
  if (v === undefined) return null;
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0 || list.length > 100) throw new StoreInputError(`${field}: expected 1–100 values`);
  for (const x of list) {
    if (typeof x !== 'string' || x.length === 0 || x.length > MAX_TEXT) throw new StoreInputError(`${field}: expected a non-empty string`);
    if (allowed !== null && !allowed.includes(x)) throw new StoreInputError(`${field}: expected one of ${allowed.join(', ')}, got "${x}"`);
  }
  return [...new Set(list)].sort();
}

export function timeParam(v: string | number | Date | undefined, field: string): Timestamp | null {
  if (v === undefined) return null;
  const t = toTs(v);
  if (t === null) throw new StoreInputError(`${field}: expected an ISO 8601 time or epoch milliseconds`);
  return t;
}

export function limitParam(v: number | undefined): number {
  if (v === undefined) return DEFAULT_LIMIT;
  if (!Number.isInteger(v) || v < 1 || v > MAX_LIMIT) throw new StoreInputError(`limit: expected an integer 1–${MAX_LIMIT}`);
  return v;
}

export function encodeCursor(fingerprint: string, key: (string | number)[]): string {
  return Buffer.from(JSON.stringify({ q: fingerprint, k: key })).toString('base64url');
}

export function decodeCursor(cursor: string, fingerprint: string, shape: ('s' | 'n')[]): (string | number)[] {
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

export function fingerprint(o: unknown): string {
  return nodeCrypto().createHash('sha256').update(JSON.stringify(o)).digest('base64url').slice(0, 12);
}

/**
 * Validates one candidate, refuses it when anything in it validates as a fødselsnummer, and
 * bounds its evidence. Counts refusals in `result`; null when refused.
 */
export function prepareCandidate(c: AlertCandidate, result: UpsertResult): Prepared | null {
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

/** The alert a prepared candidate describes, with the merged fields the store decided. */
export function alertOf(p: Prepared, m: { severity: Severity; first: string; last: string; count: number; status: AlertStatus; updatedAt: string; sensors: string[] }): Alert {
  return {
    id: p.id,
    rule_id: p.c.rule_id,
    title: p.c.title,
    severity: m.severity,
    guide_refs: JSON.parse(p.guideRefs) as string[],
    first_seen: m.first,
    last_seen: m.last,
    count: m.count,
    status: m.status,
    subject: JSON.parse(subjectJson(p.c.subject)) as AlertSubject,
    evidence: JSON.parse(p.evidence) as Record<string, unknown>,
    recommendation: p.c.recommendation,
    updated_at: m.updatedAt,
    sensors: m.sensors,
  };
}

// ---------------------------------------------------------------- listings

export type Dialect = 'sqlite' | 'postgres';

/** Longest free-text search (`q`). */
export const MAX_ALERT_TEXT = 100;
/** Letters, digits, spaces and the punctuation of addresses, ids and names; nothing a LIKE or JSON would read specially. */
const ALERT_TEXT = /^[\p{L}\p{N}\p{M} ._:@/()-]+$/u;
/** Evidence fields that name things (apps, devices, DICOM AE titles) and take part in `q`; other evidence does not. */
export const ALERT_TEXT_EVIDENCE_KEYS = ['app', 'peer_app', 'device', 'seen_device', 'ae_title', 'calling_ae', 'called_ae'] as const;

/** `q` checked and folded to lower case; StoreInputError when empty, too long or with other characters. */
export function alertTextParam(v: unknown): string | null {
  if (v === undefined) return null;
  const s = typeof v === 'string' ? v.trim() : '';
  if (s.length === 0 || s.length > MAX_ALERT_TEXT || !ALERT_TEXT.test(s)) {
    throw new StoreInputError(`q: expected 1–${MAX_ALERT_TEXT} letters, digits, spaces or . _ : @ / ( ) -`);
  }
  return s.toLowerCase();
}

/**
 * The text `q` is matched in, one field per line (a newline cannot be in `q`, so a match never
 * spans two fields). The stored fields are ASCII (rule ids, English titles, addresses, policy
 * zone and sensor names), so SQL's lower() folds them as JavaScript folds `q`.
 */
function alertHaystack(dialect: Dialect): string {
  const fields = ['rule_id', 'title', 'src_ip', 'dst_ip', 'zone_src', 'zone_dst', "coalesce(device_id, '')", 'sensors'];
  for (const k of ALERT_TEXT_EVIDENCE_KEYS) fields.push(dialect === 'postgres' ? `coalesce(evidence::jsonb ->> '${k}', '')` : `coalesce(json_extract(evidence, '$.${k}'), '')`);
  return dialect === 'postgres' ? `lower(concat_ws(chr(10), ${fields.join(', ')}))` : `lower(${fields.join(" || char(10) || ")})`;
}

export interface ListPlan {
  /** `WHERE …` (or empty) with `?` placeholders. */
  where: string;
  params: unknown[];
  /** `ORDER BY … LIMIT ?` (the limit is the last param). */
  orderLimit: string;
  limit: number;
  /** The cursor of the page that ends with `row`. */
  cursorAfter(row: AlertRow): string;
}

/**
 * Validates an alert query and turns it into the WHERE/ORDER of a keyset page on
 * (sort key, id). last_seen and severity only grow, so an alert updated while a client pages
 * moves towards page 1: never returned twice. The cursor is opaque and bound to the filters.
 */
export function alertListPlan(q: AlertQuery, dialect: Dialect): ListPlan {
  const sort = q.sort ?? 'last_seen';
  if (sort !== 'last_seen' && sort !== 'severity') throw new StoreInputError('sort: expected last_seen or severity');
  const severity = asList(q.severity, SEVERITIES, 'severity');
  const status = asList(q.status, STATUSES, 'status');
  const ruleId = asList(q.rule_id, null, 'rule_id');
  const sensor = asList(q.sensor, null, 'sensor');
  if (q.min_severity !== undefined && !SEVERITIES.includes(q.min_severity)) throw new StoreInputError(`min_severity: expected one of ${SEVERITIES.join(', ')}`);
  for (const [f, v] of [['zone', q.zone], ['ip', q.ip]] as const) {
    if (v !== undefined && (!isText(v, 128) || v.length === 0)) throw new StoreInputError(`${f}: expected a non-empty string`);
  }
  const prefix = q.ip !== undefined && q.ip.includes('/') ? filterPrefix(q.ip) : null;
  if (q.ip !== undefined && q.ip.includes('/') && prefix === null) throw new StoreInputError('ip: expected an address or a CIDR prefix such as 10.77.10.0/24 or fd00::/64');
  const since = timeParam(q.since, 'since');
  const until = timeParam(q.until, 'until');
  const limit = limitParam(q.limit);
  const text = alertTextParam(q.q);
  const textRules = q.q_rule_ids === undefined || q.q_rule_ids.length === 0 ? null : asList(q.q_rule_ids, null, 'q_rule_ids');

  const where: string[] = [];
  const params: unknown[] = [];
  const listClause = (col: string, list: (string | number)[]) => {
    if (list.length === 1) {
      where.push(`${col} = ?`);
      params.push(list[0]);
    } else if (dialect === 'postgres') {
      where.push(`${col} = ANY(?)`);
      params.push(list);
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
  if (prefix !== null) {
    // PostgreSQL's inet: `<<=` is "inside or equal"; the guard keeps an empty address from the cast.
    const inside = (col: string) => (dialect === 'postgres' ? `(CASE WHEN ${col} ~ '^[0-9A-Fa-f.:]+$' THEN ${col}::inet <<= ?::inet ELSE false END)` : `${SQLITE_IP_IN}(${col}, ?) = 1`);
    where.push(`(${inside('src_ip')} OR ${inside('dst_ip')})`);
    params.push(prefix.text, prefix.text);
  } else if (q.ip !== undefined) {
    where.push('(src_ip = ? OR dst_ip = ?)');
    params.push(q.ip, q.ip);
  }
  if (sensor !== null) {
    // `sensors` is a JSON array of names on both backends.
    if (dialect === 'postgres') {
      where.push('jsonb_exists_any(sensors::jsonb, ?::text[])');
      params.push(sensor);
    } else {
      where.push('EXISTS (SELECT 1 FROM json_each(alerts.sensors) WHERE value IN (SELECT value FROM json_each(?)))');
      params.push(JSON.stringify(sensor));
    }
  }
  if (text !== null) {
    const found = dialect === 'postgres' ? `strpos(${alertHaystack(dialect)}, ?) > 0` : `instr(${alertHaystack(dialect)}, ?) > 0`;
    params.push(text);
    if (textRules === null) where.push(found);
    else if (dialect === 'postgres') {
      where.push(`(${found} OR rule_id = ANY(?))`);
      params.push(textRules);
    } else {
      where.push(`(${found} OR rule_id IN (SELECT value FROM json_each(?)))`);
      params.push(JSON.stringify(textRules));
    }
  }
  if (since !== null) {
    where.push('last_seen_ms >= ?');
    params.push(since.ms);
  }
  if (until !== null) {
    where.push('first_seen_ms <= ?');
    params.push(until.ms);
  }

  const fp = fingerprint({ sort, severity, min: q.min_severity ?? null, status, ruleId, zone: q.zone ?? null, ip: q.ip ?? null, since: since?.ms ?? null, until: until?.ms ?? null, ...(sensor !== null ? { sensor } : {}), ...(text !== null ? { text, textRules } : {}) });
  const keyCols = sort === 'severity' ? ['sev_rank', 'last_seen_ms', 'id'] : ['last_seen_ms', 'id'];
  if (q.cursor !== undefined && q.cursor !== null && q.cursor !== '') {
    const key = decodeCursor(q.cursor, fp, sort === 'severity' ? ['n', 'n', 's'] : ['n', 's']);
    where.push(`(${keyCols.join(', ')}) < (${keyCols.map(() => '?').join(', ')})`);
    params.push(...key);
  }
  // PostgreSQL's id columns are COLLATE "C" (see pg-schema.ts), so text order is SQLite's byte order.
  const order = keyCols.map((c) => `${c} DESC`).join(', ');
  return {
    where: where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '',
    params,
    orderLimit: ` ORDER BY ${order} LIMIT ?`,
    limit,
    cursorAfter: (r) => encodeCursor(fp, sort === 'severity' ? [r.sev_rank, r.last_seen_ms, r.id] : [r.last_seen_ms, r.id]),
  };
}

export interface AuditPlan {
  where: string;
  params: unknown[];
  limit: number;
  cursorAfter(id: number): string;
}

/** Audit rows, newest first, keyset-paginated on id. */
export function auditListPlan(q: AuditQuery): AuditPlan {
  const where: string[] = [];
  const params: unknown[] = [];
  for (const f of ['actor', 'action', 'sensor'] as const) {
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
  const fp = fingerprint({ audit: true, actor: q.actor ?? null, action: q.action ?? null, since: since?.ms ?? null, until: until?.ms ?? null, ...(q.sensor !== undefined ? { sensor: q.sensor } : {}) });
  if (q.cursor !== undefined && q.cursor !== null && q.cursor !== '') {
    where.push('id < ?');
    params.push(decodeCursor(q.cursor, fp, ['n'])[0]);
  }
  return { where: where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '', params, limit, cursorAfter: (id) => encodeCursor(fp, [id]) };
}

export interface SightingRow {
  sensor: string;
  first_seen_ms: number;
  last_seen_ms: number;
}

/** A device's sightings as the API shows them (ISO times). */
export function sightingsOf(rows: readonly SightingRow[]): { sensor: string; first_seen: string; last_seen: string }[] {
  return rows.map((r) => ({ sensor: r.sensor, first_seen: tsFromMs(Number(r.first_seen_ms)).iso, last_seen: tsFromMs(Number(r.last_seen_ms)).iso }));
}

/** The device listing's cursor: after (score, id), most exposed first. */
export function deviceCursor(cursor: string | undefined): { s: number; id: string } | null {
  if (cursor === undefined) return null;
  let after: { s: number; id: string } | null;
  try {
    after = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { s: number; id: string };
  } catch {
    after = null;
  }
  if (!after || typeof after.s !== 'number' || typeof after.id !== 'string') throw new StoreInputError('cursor: not a cursor this listing produced');
  return after;
}

export function encodeDeviceCursor(s: number, id: string): string {
  return Buffer.from(JSON.stringify({ s, id })).toString('base64url');
}

export function deviceLimit(limit: number | undefined): number {
  return Math.min(Math.max(limit ?? 100, 1), 1000);
}

// ---------------------------------------------------------------- writes other than alerts

/** A validated audit row: the query bounded to 4 KiB, fødselsnummer-like values redacted. */
export function auditRow(entry: AuditInput, now: number): { at: Timestamp; actor: string; role: string; action: string; query: string } {
  for (const f of ['actor', 'role', 'action'] as const) {
    if (!isText(entry[f], 200) || entry[f].length === 0) throw new StoreInputError(`${f}: expected a non-empty string of at most 200 characters`);
  }
  const at = entry.at === undefined ? tsFromMs(now) : toTs(entry.at);
  if (at === null) throw new StoreInputError('at: expected an ISO 8601 time or epoch milliseconds');
  const query = redactFnr(boundJson(entry.query ?? null, MAX_AUDIT_QUERY_BYTES));
  return { at, actor: redactFnr(entry.actor), role: entry.role, action: entry.action, query };
}

/** The JSON text of a kv value, or StoreInputError. */
export function kvJson(key: string, value: unknown): string {
  if (!isText(key, 256) || key.length === 0) throw new StoreInputError('key: expected a non-empty string of at most 256 characters');
  const json = safeJson(value);
  if (json === null || Buffer.byteLength(json) > MAX_KV_BYTES) throw new StoreInputError('value: expected JSON of at most 1 MiB');
  return json;
}

/** Checks of a lifecycle change's actor and comment (a comment with a fødselsnummer is refused). */
export function checkTransitionInput(actor: string, comment: string): void {
  if (!isText(actor, 200) || actor.length === 0) throw new StoreInputError('actor: expected a non-empty string of at most 200 characters');
  if (typeof comment !== 'string' || comment.length > MAX_COMMENT) throw new StoreInputError(`comment: expected a string of at most ${MAX_COMMENT} characters`);
  if (containsFnr(comment)) throw new StoreInputError('comment: looks like it holds a fødselsnummer; patient identifiers are not stored');
}

export function checkRetention(days: number, field = 'retentionDays'): void {
  if (!(days > 0) || !Number.isFinite(days)) throw new StoreInputError(`${field}: expected a positive number${field === 'retentionDays' ? ' of days' : ''}, got ${days}`);
}

/** Cut-offs of a prune: alerts relative to the newest alert (or the clock, if earlier), audit to the clock. */
export function pruneCutoffs(clock: number, newest: number | null, days: number): { alerts: number; audit: number } {
  return { alerts: (newest === null ? clock : Math.min(clock, newest)) - days * DAY_MS, audit: clock - days * DAY_MS };
}
