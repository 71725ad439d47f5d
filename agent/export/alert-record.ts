/**
 * What leaves the sensor about an alert, built field by field from a whitelist: an alert that
 * somehow carried an extra property (or a future store column) is not exported by accident.
 * Alerts come from the PHI-free store; evidence is exported to NDJSON only (as the API returns
 * it), never to syslog.
 */
import { alertForExport } from '../alerts.js';
import type { Alert, AlertSubject } from '../store/index.js';
import type { AlertChange } from './siem-record.js';

export const RECORD_FIELDS = [
  'id', 'rule_id', 'title', 'severity', 'guide_refs', 'first_seen', 'last_seen', 'count', 'status',
  'subject', 'evidence', 'recommendation', 'updated_at', 'sensors', 'title_nb', 'recommendation_nb',
] as const;
export const SUBJECT_FIELDS = ['src_ip', 'dst_ip', 'zone_src', 'zone_dst', 'device_id'] as const;

export type AlertRecord = Alert & { title_nb?: string; recommendation_nb?: string };

function subjectOf(s: AlertSubject): AlertSubject {
  const o: AlertSubject = { src_ip: String(s.src_ip), dst_ip: String(s.dst_ip), zone_src: String(s.zone_src), zone_dst: String(s.zone_dst) };
  if (typeof s.device_id === 'string' && s.device_id !== '') o.device_id = s.device_id;
  return o;
}

/** The alert as the API returns it (plus the rule's bokmål texts), whitelisted. */
export function alertRecord(alert: Alert): AlertRecord {
  const a = alertForExport(alert);
  const r: AlertRecord = {
    id: a.id,
    rule_id: a.rule_id,
    title: a.title,
    severity: a.severity,
    guide_refs: [...a.guide_refs],
    first_seen: a.first_seen,
    last_seen: a.last_seen,
    count: a.count,
    status: a.status,
    subject: subjectOf(a.subject),
    evidence: a.evidence,
    recommendation: a.recommendation,
    updated_at: a.updated_at,
    sensors: Array.isArray(a.sensors) ? a.sensors.map(String) : [],
  };
  if (a.title_nb !== undefined) r.title_nb = a.title_nb;
  if (a.recommendation_nb !== undefined) r.recommendation_nb = a.recommendation_nb;
  return r;
}

/** Something alerts are handed to once stored (see AlertingSink's onCommit). */
export interface AlertExporter {
  /** `change`: why they are handed on (new, or reopened after being resolved). */
  export(alerts: readonly Alert[], change?: AlertChange): void;
  close(): void | Promise<void>;
}
