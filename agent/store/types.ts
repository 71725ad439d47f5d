/**
 * Types of the alert store: what the rule engine hands in (`AlertCandidate`) and what the
 * API and the NDJSON sinks get out (`Alert`, the contract shape in docs/alerts.md).
 *
 * `rules/` may not import from `agent/`, so these are plain structural types: a rule
 * finding with the same fields is an `AlertCandidate`. Severity and subject are the rule
 * engine's own.
 */
import type { AlertSubject, Severity } from '../../rules/engine/types.js';

export type { AlertSubject, Severity };
export { SEVERITIES } from '../../rules/engine/types.js';
export type AlertStatus = 'open' | 'acknowledged' | 'resolved';
export type HistoryAction = 'ack' | 'resolve' | 'reopen';

export const STATUSES: readonly AlertStatus[] = ['open', 'acknowledged', 'resolved'];

/** low = 1 … critical = 4; stored beside the name so "sort by severity" is an index scan. */
export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { low: 1, medium: 2, high: 3, critical: 4 };

/** A finding from the rule engine. PHI-free by contract; the store checks again. */
export interface AlertCandidate {
  rule_id: string;
  title: string;
  severity: Severity;
  guide_refs: string[];
  subject: AlertSubject;
  /** Protocol facts, addresses, zones, pseudonyms. Stored as JSON, bounded to 4 KiB. */
  evidence: Record<string, unknown>;
  recommendation: string;
  /** When it was seen: ISO 8601 (µs, like event `ts`). */
  ts: string;
  /** Occurrences this candidate stands for when pre-aggregated (default 1). */
  count?: number;
  /** Earliest occurrence when pre-aggregated (default `ts`). */
  first_ts?: string;
}

/** The alert contract (NDJSON and API). `updated_at` is an extension: when the row last changed. */
export interface Alert {
  id: string;
  rule_id: string;
  title: string;
  severity: Severity;
  guide_refs: string[];
  first_seen: string;
  last_seen: string;
  count: number;
  status: AlertStatus;
  subject: AlertSubject;
  evidence: Record<string, unknown>;
  recommendation: string;
  updated_at: string;
  /**
   * Every sensor that saw it (names, sorted; an extension beside the contract fields). Two
   * sensors on overlapping mirror ports raise one alert that lists both: the name is not part
   * of the dedup key. Empty for alerts stored before sensors had names.
   */
  sensors: string[];
}

export interface AlertHistoryEntry {
  at: string;
  actor: string;
  action: HistoryAction;
  comment: string;
}

export interface AlertWithHistory extends Alert {
  history: AlertHistoryEntry[];
}

/** What one `upsertAlerts` call did. Each alert id appears in at most one list, in its final state. */
export interface UpsertResult {
  created: Alert[];
  updated: Alert[];
  /** Were resolved and fired again: now open (with a history row). */
  reopened: Alert[];
  /** New alerts refused by the per-rule rate cap (updates are never capped). */
  capped: number;
  /** Candidates refused because their evidence or subject looked like a fødselsnummer. */
  rejected_phi: number;
  /** Candidates refused as malformed (bad severity, timestamp, empty rule id, unserialisable evidence). */
  invalid: number;
}

export interface AlertQuery {
  severity?: Severity | Severity[];
  /** Severity at least this (e.g. `high` = high + critical). */
  min_severity?: Severity;
  rule_id?: string | string[];
  status?: AlertStatus | AlertStatus[];
  /** Matches `zone_src` or `zone_dst`. */
  zone?: string;
  /** Matches `src_ip` or `dst_ip` (exact text). */
  ip?: string;
  /** Seen by any of these sensors. */
  sensor?: string | string[];
  /**
   * Free text, matched case-insensitively as a substring of the fields an alert stores that name
   * things: rule id, title, addresses, zones, device id, sensor names and the evidence's app,
   * device and AE-title fields (ALERT_TEXT_EVIDENCE_KEYS). 1–100 letters, digits, spaces and `._:@/()-`.
   */
  q?: string;
  /** Rule ids that match `q` by a text the store does not hold (a translated title): an alert of these rules matches too. */
  q_rule_ids?: string[];
  /** Active at or after: `last_seen >= since`. ISO 8601, epoch ms or Date. */
  since?: string | number | Date;
  /** Active at or before: `first_seen <= until`. */
  until?: string | number | Date;
  /** 1–1000, default 100. */
  limit?: number;
  /** `next_cursor` from the previous page of the same query. */
  cursor?: string | null;
  /** Newest first (`last_seen`, default) or most severe first, then newest. */
  sort?: 'last_seen' | 'severity';
}

export interface Page<T> {
  items: T[];
  /** Pass back as `cursor` for the next page; null when this is the last page. */
  next_cursor: string | null;
}

export interface AuditInput {
  actor: string;
  role: string;
  /** e.g. `alerts.list`, `alerts.get`, `alerts.ack`, `assets.list`. */
  action: string;
  /** The query or target (filters, id). JSON; bounded and scrubbed of fødselsnummer-like values. */
  query: unknown;
  /** Default: now. */
  at?: string | number | Date;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  role: string;
  action: string;
  query: unknown;
  /** The muvakt instance (serve replica or sensor) that wrote the row; '' for rows from before instances had names. */
  sensor: string;
}

export interface AuditQuery {
  actor?: string;
  action?: string;
  /** Rows written by this instance. */
  sensor?: string;
  since?: string | number | Date;
  until?: string | number | Date;
  limit?: number;
  cursor?: string | null;
}

export interface PruneResult {
  alerts: number;
  history: number;
  audit: number;
  /** Flow-history rows (time buckets) deleted. */
  flow_history: number;
  /** Remote-access sessions deleted. */
  remote_sessions: number;
}

/** Where retention cut, per kind (ISO 8601): what was older is gone. */
export interface PruneCutoff {
  alerts: string;
  audit: string;
  flow_history: string;
  remote_sessions: string;
}

/**
 * One row of flow history: what one sensor saw flow from one zone to another, by app and
 * encryption, in one time bucket (see agent/flows/flow-history.ts and docs/flows.md).
 * PHI-free by construction: names and counts only. Two writes of the same key add up.
 */
export interface FlowHistoryRow {
  /** Bucket start, epoch milliseconds of capture time. */
  bucketMs: number;
  bucketSeconds: number;
  sensor: string;
  zoneSrc: string;
  zoneDst: string;
  app: string;
  encrypted: boolean;
  bytes: number;
  /** Flows active (carrying bytes) in the bucket. */
  flows: number;
  /** Of those, flows in which patient data had been seen in the clear. */
  phiFlows: number;
  /**
   * Set on peer rows only (table flow_peers, hourly): the flow's client and server address.
   * A row without them is a zone row (table flow_history); the two never mix in a query.
   */
  clientIp?: string;
  serverIp?: string;
}

/** Which address-pair rows to sum: a device's addresses, or one cell (zone pair) of the matrix. */
export interface FlowPeersQuery {
  /** Rows whose client or server is one of these addresses (1–64). */
  ips?: string[];
  /** Rows of this zone pair (both given, or neither). */
  zone_src?: string;
  zone_dst?: string;
  since?: string | number | Date;
  until?: string | number | Date;
  sensor?: string;
}

/** One address pair, app and encryption over the chosen buckets. */
export interface FlowPeerItem {
  client_ip: string;
  server_ip: string;
  zone_src: string;
  zone_dst: string;
  app: string;
  encrypted: boolean;
  /** Start of the first and end of the last bucket the pair was active in (ISO 8601). */
  first_seen: string;
  last_seen: string;
  bytes: number;
  /** Flow-hours: a flow active in n peer buckets counts n times. */
  flows: number;
  phi: number;
}

export interface FlowPeers {
  /** Largest by bytes first, at most MAX_PEER_ITEMS. */
  items: FlowPeerItem[];
  /** Flows and bytes of the matching rows per peer bucket, oldest first. */
  series: { start: string; seconds: number; flows: number; bytes: number }[];
  from: string | null;
  to: string | null;
  truncated: boolean;
}

export interface FlowHistoryWriteResult {
  written: number;
  /** Rows refused as malformed or holding a fødselsnummer-like value. */
  rejected: number;
}

export interface FlowMatrixQuery {
  /** Buckets that end after this (ISO 8601, epoch ms or Date). */
  since?: string | number | Date;
  /** Buckets that start at or before this. */
  until?: string | number | Date;
  /** One sensor's rows only (default: all sensors summed). */
  sensor?: string;
}

/** One cell entry of the zone matrix: the rows of the chosen buckets summed. */
export interface FlowMatrixItem {
  zone_src: string;
  zone_dst: string;
  app: string;
  encrypted: boolean;
  bytes: number;
  /** Flow-buckets: a flow active in n of the chosen buckets counts n times. */
  flows: number;
  /** Flow-buckets in which patient data had been seen in the clear. */
  phi: number;
}

export interface FlowMatrix {
  items: FlowMatrixItem[];
  /** Start of the first and end of the last bucket summed (ISO 8601); null when none matched. */
  from: string | null;
  to: string | null;
  /** True when there were more groups than a matrix returns (MAX_MATRIX_ITEMS); the largest by bytes are kept. */
  truncated: boolean;
}

/** What flow history the store holds (for a time-range picker): sensors and the span of their buckets. */
export interface FlowHistoryExtent {
  sensors: string[];
  /** Start of the oldest and end of the newest bucket (ISO 8601); null when there is none. */
  from: string | null;
  to: string | null;
  /** The bucket length of the newest rows, seconds; null when there is none. */
  bucket_seconds: number | null;
}

/**
 * One remote-access session as a sensor writes it (agent/sensor/remote-sessions.ts, docs/remote-sessions.md):
 * who connected where, when, for how long, how much each way, and under which vendor. Addresses
 * and names only, never payload. Written again as the session goes on: the latest write wins.
 */
export interface RemoteSessionRow {
  /** sha256(sensor, flow id)[0:32]: stable while the session lasts, unique across sensors. */
  id: string;
  sensor: string;
  /** The flow's id in the events (`flow.id`). */
  flowId: string;
  protocol: string;
  encrypted: boolean;
  srcIp: string;
  srcPort: number;
  dstIp: string;
  dstPort: number;
  zoneSrc: string;
  zoneDst: string;
  /** Epoch ms of capture time. */
  startMs: number;
  /** When the connection ended; null while it is open (or was still open when the sensor stopped). */
  endMs: number | null;
  /** The last packet seen so far. */
  lastSeenMs: number;
  bytesToServer: number;
  bytesToClient: number;
  /** The vendor of the policy the session belongs to; null when none. */
  vendor: string | null;
  /** Outside the vendor's window (site time) when the session started; null without a vendor. */
  outsideWindow: boolean | null;
  /** The jump host the session went through (to it, or on from it); null when none. */
  jumpHost: string | null;
  /** For an onward leg from a jump host: the id of the session into the jump host it continues. */
  inboundId: string | null;
  /** Addresses from the outermost end to the device: external → jump host → device. */
  path: string[];
}

/** A stored remote-access session as the API gives it. */
export interface RemoteSession {
  id: string;
  sensor: string;
  flow_id: string;
  protocol: string;
  encrypted: boolean;
  src_ip: string;
  src_port: number;
  dst_ip: string;
  dst_port: number;
  zone_src: string;
  zone_dst: string;
  start: string;
  /** null: the session had not ended when last written (open, or the sensor stopped first). */
  end: string | null;
  ongoing: boolean;
  last_seen: string;
  /** Seconds from start to end (or to the last packet, while ongoing). */
  duration_s: number;
  bytes_toserver: number;
  bytes_toclient: number;
  vendor: string | null;
  outside_window: boolean | null;
  jump_host: string | null;
  inbound_id: string | null;
  path: string[];
}

export interface RemoteSessionQuery {
  /** Sessions still going at or after this (ended at or after it, or ongoing). */
  since?: string | number | Date;
  /** Sessions that started at or before this. */
  until?: string | number | Date;
  /** An address anywhere on the session's path (client, server or jump host). */
  ip?: string;
  vendor?: string;
  protocol?: string | string[];
  outside_window?: boolean;
  sensor?: string | string[];
  /** 1–1000, default 100. */
  limit?: number;
  cursor?: string | null;
}

export interface RemoteSessionWriteResult {
  written: number;
  /** Rows refused as malformed or holding a fødselsnummer-like value. */
  rejected: number;
}

/** Bad input from a caller (API: 400). */
export class StoreInputError extends Error {
  override readonly name = 'StoreInputError';
}

/** A lifecycle change not allowed from the alert's current status (API: 409). */
export class AlertTransitionError extends Error {
  override readonly name = 'AlertTransitionError';
  constructor(
    readonly alertId: string,
    readonly from: AlertStatus,
    readonly action: HistoryAction,
  ) {
    super(`alert ${alertId} is ${from}: cannot ${action}`);
  }
}

/** One inventory device as the store keeps it (see agent/inventory). */
export interface DeviceRow {
  id: string;
  zone: string;
  role: string;
  score: number;
  level: string;
  firstSeenMs: number;
  lastSeenMs: number;
  summary: unknown;
  detail: unknown;
}
