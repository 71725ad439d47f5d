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
