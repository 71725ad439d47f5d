/**
 * The API's answers as the page reads them (docs/api.md; the exact schemas are in
 * dashboard-api/schemas.ts and the OpenAPI document). Written out here rather than imported so
 * that the browser bundle never pulls in the server's modules.
 */
export type Severity = 'critical' | 'high' | 'medium' | 'low';
export type AlertStatus = 'open' | 'acknowledged' | 'resolved';
export type Role = 'viewer' | 'officer' | 'admin';

export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low'];
export const STATUSES: readonly AlertStatus[] = ['open', 'acknowledged', 'resolved'];

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface Subject {
  src_ip: string;
  dst_ip: string;
  zone_src: string;
  zone_dst: string;
  device_id?: string;
}

export interface Alert {
  id: string;
  rule_id: string;
  title: string;
  title_nb?: string;
  severity: Severity;
  guide_refs: string[];
  first_seen: string;
  last_seen: string;
  count: number;
  status: AlertStatus;
  subject: Subject;
  evidence: Record<string, unknown>;
  recommendation: string;
  recommendation_nb?: string;
  updated_at: string;
  sensors: string[];
  /** The active risk acceptance covering it, if any. */
  accepted?: { id: string; owner: string; reason: string; reference: string; expires: string; expires_at: string };
}

export interface HistoryEntry {
  at: string;
  actor: string;
  action: 'ack' | 'resolve' | 'reopen';
  comment: string;
}

export interface AlertDetail extends Alert {
  history: HistoryEntry[];
}

export interface ExposureReason {
  fact: string;
  points: number;
  guide_ref: string;
}

export interface Asset {
  id: string;
  mac: string | null;
  ips: string[];
  vendor: string | null;
  names: string[];
  zone: string;
  role: string;
  scenario: number | null;
  exposure: { score: number; level: string; reasons: ExposureReason[] };
  first_seen: string;
  last_seen: string;
  sensors: string[];
}

/** `GET /assets/:id`: the inventory's device record; only the parts the page shows are named. */
export interface AssetDetail {
  id: string;
  mac: string | null;
  vendor: string | null;
  addresses?: { ip: string; first_seen?: string; last_seen?: string }[];
  names?: ({ name: string } | string)[];
  vlans?: number[];
  zone?: { name: string } | string;
  role?: string;
  roles?: { role: string; facts: string[] }[];
  scenario?: { number: number | null; name: string; facts?: string[]; guide_ref?: string } | number | null;
  properties?: Record<string, { value: string; facts: string[] }>;
  exposure?: { score: number; level: string; reasons: ExposureReason[] };
  countries?: string[];
  dicom_identity?: Record<string, string> | null;
  first_seen?: string;
  last_seen?: string;
  sensors?: string[];
  sightings?: { sensor: string; first_seen: string; last_seen: string }[];
}

export interface FlowItem {
  zone_src: string;
  zone_dst: string;
  app: string;
  encrypted: boolean;
  bytes: number;
  flows: number;
  phi: number;
}

export interface FlowSummary {
  generated_at: string;
  from: string | null;
  to: string | null;
  truncated: boolean;
  extent: { sensors: string[]; from: string | null; to: string | null; bucket_seconds: number };
  items: FlowItem[];
}

export interface Whoami {
  name: string;
  role: Role;
}

/** What a role may do, as the API enforces it (docs/api.md, "Authentication and roles"). */
export function mayChangeAlerts(role: Role): boolean {
  return role === 'officer' || role === 'admin';
}

/** One address pair, app and encryption over the hours asked for (`/flows/peers`, `/assets/:id/flows`). */
export interface PeerItem {
  client_ip: string;
  server_ip: string;
  zone_src: string;
  zone_dst: string;
  app: string;
  encrypted: boolean;
  first_seen: string;
  last_seen: string;
  bytes: number;
  flows: number;
  phi: number;
}

export interface FlowPeers {
  generated_at: string;
  device_id?: string;
  addresses?: string[];
  from: string | null;
  to: string | null;
  truncated: boolean;
  step: 'hour' | 'day';
  series: { start: string; flows: number; bytes: number }[];
  items: PeerItem[];
}

/** A recorded risk acceptance (`/risk-acceptances`). */
export interface RiskAcceptance {
  id: string;
  rule_id: string;
  scope: 'device' | 'pair' | 'zones';
  device_id?: string;
  src_ip?: string;
  dst_ip?: string;
  zone_src?: string;
  zone_dst?: string;
  reason: string;
  owner: string;
  reference: string;
  expires: string;
  active: boolean;
  /** How many stored alerts an acceptance in force covers. */
  covers_alerts?: number;
  revoked_at?: string;
}
