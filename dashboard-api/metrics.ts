/**
 * Prometheus metrics (docs/metrics.md). Nothing is counted per packet through
 * prom-client: every muvakt_* metric is filled at scrape time by a `collect` callback from
 * one snapshot of the sensor's own counters (`PipelineStats`, the flow table, analyzers),
 * taken through the provider function the process plugs in. `serve` (store only) provides
 * the alert gauges from the store.
 *
 * Label values are bounded: each label has a known vocabulary (apps, DICOM results and
 * commands, HL7 message types and ACK codes, TLS versions, rule ids, severities) and
 * anything else is counted as "other"; zone names must look like policy zone names and are
 * capped in number. No label ever carries an address, an AE title or a patient value.
 */
import client from 'prom-client';
import { KNOWN_APPS } from '../rules/policy/index.js';
import { ALL_RULES } from '../rules/index.js';
import { SEVERITIES, type Severity } from '../agent/store/index.js';
import type { ApiStore } from './types.js';

type Counts = Readonly<Record<string, number>> | ReadonlyMap<string, number>;

/** What the running sensor knows, as plain numbers. Every field is optional: missing = no samples (or 0). */
export interface SensorSnapshot {
  packets?: number;
  bytes?: number;
  captureDrops?: number;
  /** By layer: link, ipv4, ipv6, fragment, tcp, udp. */
  decodeErrors?: Counts;
  flowsActive?: number;
  /** Flows created, by app. */
  flowsByApp?: Counts;
  flowEvictions?: number;
  /** By result: accepted, rejected, aborted, released, incomplete. */
  dicomAssociations?: Counts;
  /** By command, e.g. C-STORE-RQ. */
  dicomDimse?: Counts;
  hl7Messages?: readonly { message_type: string; ack_code: string; count: number }[];
  /** By version as the TLS analyzer writes it ("TLS 1.2"). */
  tlsHandshakes?: Counts;
  /** Alerts raised (distinct alerts), by rule and severity. */
  alertsByRule?: readonly { rule_id: string; severity: string; count: number }[];
  alertsOpen?: Partial<Record<Severity, number>>;
  /** Devices in the inventory, by zone. */
  assetsByZone?: Counts;
  /** Connections that carried patient data in cleartext, by protocol (dicom, hl7, http, syslog…). */
  cleartextPhiFlows?: Counts;
  /** Remote-access sessions seen, by protocol and whether they were encrypted. */
  remoteAccessSessions?: readonly { protocol: string; encrypted: boolean; count: number }[];
}

export type SnapshotProvider = () => SensorSnapshot;

export const OTHER = 'other';
const MAX_SERIES = 200;

const DECODE_LAYERS = ['link', 'ipv4', 'ipv6', 'fragment', 'tcp', 'udp'];
const DICOM_RESULTS = ['accepted', 'rejected', 'aborted', 'released', 'incomplete'];
const DIMSE_COMMANDS = ['C-STORE', 'C-FIND', 'C-MOVE', 'C-GET', 'C-ECHO', 'C-CANCEL', 'N-EVENT-REPORT', 'N-GET', 'N-SET', 'N-ACTION', 'N-CREATE', 'N-DELETE'].flatMap(
  (c) => (c === 'C-CANCEL' ? ['C-CANCEL-RQ'] : [`${c}-RQ`, `${c}-RSP`]),
);
/** HL7 v2 message types common in hospitals; the rest are "other". */
export const HL7_MESSAGE_TYPES = [
  'ACK', 'ADT^A01', 'ADT^A02', 'ADT^A03', 'ADT^A04', 'ADT^A05', 'ADT^A06', 'ADT^A07', 'ADT^A08', 'ADT^A11', 'ADT^A12', 'ADT^A13',
  'ADT^A17', 'ADT^A28', 'ADT^A29', 'ADT^A31', 'ADT^A34', 'ADT^A40', 'ADT^A47', 'BAR^P01', 'BAR^P05', 'DFT^P03', 'MDM^T01', 'MDM^T02',
  'MDM^T04', 'MFN^M02', 'OML^O21', 'OML^O33', 'ORL^O22', 'ORM^O01', 'ORR^O02', 'ORU^R01', 'ORU^R30', 'OUL^R22', 'QBP^Q11', 'QRY^A19',
  'RDE^O11', 'RDS^O13', 'RSP^K11', 'SIU^S12', 'SIU^S13', 'SIU^S14', 'SIU^S15', 'SIU^S17', 'VXU^V04',
];
const ACK_CODES = ['AA', 'AE', 'AR', 'CA', 'CE', 'CR', 'none'];
const TLS_VERSIONS = ['SSL 2.0', 'SSL 3.0', 'TLS 1.0', 'TLS 1.1', 'TLS 1.2', 'TLS 1.3'];
const ZONE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

function vocabulary(values: Iterable<string>): (v: string) => string {
  const set = new Set(values);
  return (v) => (set.has(v) ? v : OTHER);
}

/** Label bounding per label name. */
export const LABEL_BOUNDS: Record<string, (v: string) => string> = {
  layer: vocabulary(DECODE_LAYERS),
  app: vocabulary(KNOWN_APPS),
  result: vocabulary(DICOM_RESULTS),
  command: vocabulary(DIMSE_COMMANDS),
  message_type: (v) => {
    // "ADT^A01^ADT_A01" (with message structure) counts as ADT^A01.
    const short = v.split('^').slice(0, 2).join('^');
    return HL7_MESSAGE_TYPES.includes(short) ? short : OTHER;
  },
  ack_code: (v) => (v === '' ? 'none' : ACK_CODES.includes(v) ? v : OTHER),
  version: vocabulary(TLS_VERSIONS),
  rule_id: vocabulary(ALL_RULES.map((r) => r.id)),
  severity: vocabulary(SEVERITIES),
  zone: (v) => (ZONE_NAME.test(v) ? v : OTHER),
  protocol: vocabulary(['dicom', 'hl7', 'http', 'syslog', 'snmp', 'ftp', 'smtp', 'pop3', 'imap', 'tcp', 'udp', 'rdp', 'vnc', 'ssh', 'telnet', 'teamviewer', 'anydesk']),
  encrypted: vocabulary(['true', 'false']),
};

type Sample = { labels: Record<string, string>; value: number };

function entries(c: Counts | undefined): [string, number][] {
  if (c === undefined) return [];
  return c instanceof Map ? [...c.entries()] : Object.entries(c as Record<string, number>);
}

/** Bounds label values, sums what collapses onto the same series, and caps the number of series. */
export function boundSamples(labelNames: readonly string[], raw: Iterable<Sample>): Sample[] {
  const out = new Map<string, Sample>();
  for (const s of raw) {
    if (!Number.isFinite(s.value) || s.value < 0) continue;
    const labels: Record<string, string> = {};
    for (const n of labelNames) labels[n] = LABEL_BOUNDS[n](String(s.labels[n] ?? ''));
    let key = labelNames.map((n) => labels[n]).join('\u0000');
    if (!out.has(key) && out.size >= MAX_SERIES) {
      for (const n of labelNames) labels[n] = OTHER;
      key = labelNames.map(() => OTHER).join('\u0000');
    }
    const prev = out.get(key);
    if (prev) prev.value += s.value;
    else out.set(key, { labels, value: s.value });
  }
  return [...out.values()];
}

const one = (label: string, c: Counts | undefined): Sample[] => entries(c).map(([k, v]) => ({ labels: { [label]: k }, value: v }));

interface MetricDef {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  labels: readonly string[];
  /** A plain number (no labels) or samples; undefined = nothing known (no labels: 0). */
  read: (s: SensorSnapshot) => number | Sample[] | undefined;
}

const DEFS: readonly MetricDef[] = [
  { name: 'muvakt_packets_total', help: 'Packets read from the capture', type: 'counter', labels: [], read: (s) => s.packets },
  { name: 'muvakt_bytes_total', help: 'Bytes read from the capture (on the wire)', type: 'counter', labels: [], read: (s) => s.bytes },
  { name: 'muvakt_capture_drops_total', help: 'Packets the kernel or interface dropped before the sensor saw them', type: 'counter', labels: [], read: (s) => s.captureDrops },
  { name: 'muvakt_decode_errors_total', help: 'Packets that failed to decode, by layer', type: 'counter', labels: ['layer'], read: (s) => one('layer', s.decodeErrors) },
  { name: 'muvakt_flows_active', help: 'Flows in the flow table', type: 'gauge', labels: [], read: (s) => s.flowsActive },
  { name: 'muvakt_flows_total', help: 'Flows created, by application', type: 'counter', labels: ['app'], read: (s) => one('app', s.flowsByApp) },
  { name: 'muvakt_flow_evictions_total', help: 'Flows evicted because the flow table was full', type: 'counter', labels: [], read: (s) => s.flowEvictions },
  { name: 'muvakt_dicom_associations_total', help: 'DICOM associations, by result', type: 'counter', labels: ['result'], read: (s) => one('result', s.dicomAssociations) },
  { name: 'muvakt_dicom_dimse_total', help: 'DICOM DIMSE messages, by command', type: 'counter', labels: ['command'], read: (s) => one('command', s.dicomDimse) },
  {
    name: 'muvakt_hl7_messages_total',
    help: 'HL7 v2 messages, by message type and the code of the ACK that answered them',
    type: 'counter',
    labels: ['message_type', 'ack_code'],
    read: (s) => s.hl7Messages?.map((m) => ({ labels: { message_type: m.message_type, ack_code: m.ack_code }, value: m.count })),
  },
  { name: 'muvakt_tls_handshakes_total', help: 'TLS handshakes, by version', type: 'counter', labels: ['version'], read: (s) => one('version', s.tlsHandshakes) },
  {
    name: 'muvakt_alerts_total',
    help: 'Alerts raised (distinct alerts in the store), by rule and severity',
    type: 'counter',
    labels: ['rule_id', 'severity'],
    read: (s) => s.alertsByRule?.map((a) => ({ labels: { rule_id: a.rule_id, severity: a.severity }, value: a.count })),
  },
  {
    name: 'muvakt_alerts_open',
    help: 'Open alerts, by severity',
    type: 'gauge',
    labels: ['severity'],
    read: (s) => (s.alertsOpen ? SEVERITIES.map((sev) => ({ labels: { severity: sev }, value: s.alertsOpen?.[sev] ?? 0 })) : undefined),
  },
  { name: 'muvakt_assets', help: 'Devices in the inventory, by zone', type: 'gauge', labels: ['zone'], read: (s) => one('zone', s.assetsByZone) },
  {
    name: 'muvakt_cleartext_phi_flows_total',
    help: 'Connections that carried patient data in cleartext, by protocol (LEV 6.4)',
    type: 'counter',
    labels: ['protocol'],
    read: (s) => one('protocol', s.cleartextPhiFlows),
  },
  {
    name: 'muvakt_remote_access_sessions_total',
    help: 'Remote-access sessions, by protocol and encryption (MU 4.7)',
    type: 'counter',
    labels: ['protocol', 'encrypted'],
    read: (s) => s.remoteAccessSessions?.map((r) => ({ labels: { protocol: r.protocol, encrypted: String(r.encrypted) }, value: r.count })),
  },
];

export const METRIC_NAMES: readonly string[] = DEFS.map((d) => d.name);

export interface Metrics {
  readonly registry: client.Registry;
  readonly contentType: string;
  /** Takes one snapshot and renders the Prometheus text exposition. */
  render(): Promise<string>;
}

export interface MetricsOptions {
  /** The sensor's counters; called once per scrape. */
  snapshot?: SnapshotProvider;
  /** Default process metrics (CPU, memory, event loop lag, GC); default true. */
  processMetrics?: boolean;
}

export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const registry = new client.Registry();
  if (opts.processMetrics ?? true) client.collectDefaultMetrics({ register: registry });
  let current: SensorSnapshot = {};
  for (const d of DEFS) {
    const collect = function (this: client.Counter<string> | client.Gauge<string>) {
      const v = d.read(current);
      this.reset();
      if (v === undefined) return;
      if (typeof v === 'number') {
        if (Number.isFinite(v) && v >= 0) (this as client.Gauge<string>).inc(v);
        return;
      }
      for (const s of boundSamples(d.labels, v)) (this as client.Gauge<string>).inc(s.labels, s.value);
    };
    const cfg = { name: d.name, help: d.help, labelNames: [...d.labels], registers: [registry], collect };
    if (d.type === 'counter') new client.Counter(cfg);
    else new client.Gauge(cfg);
  }
  const provider = opts.snapshot ?? (() => ({}));
  return {
    registry,
    contentType: registry.contentType,
    async render() {
      current = provider();
      try {
        return await registry.metrics();
      } finally {
        current = {};
      }
    },
  };
}

/**
 * The alert part of the snapshot from the store: open alerts by severity (`openCounts`) and
 * distinct alerts by rule and severity (paged through `listAlerts`, at most `maxRows` rows,
 * cached for `ttlMs` so scrapes stay cheap).
 */
export function storeSnapshot(store: Pick<ApiStore, 'openCounts' | 'listAlerts'>, opts: { ttlMs?: number; maxRows?: number; now?: () => number } = {}): SnapshotProvider {
  const ttl = opts.ttlMs ?? 15_000;
  const maxRows = opts.maxRows ?? 100_000;
  const now = opts.now ?? Date.now;
  let cached: { at: number; byRule: { rule_id: string; severity: string; count: number }[] } | null = null;
  return () => {
    const alertsOpen = store.openCounts();
    if (cached === null || now() - cached.at >= ttl) {
      const counts = new Map<string, number>();
      let cursor: string | null = null;
      let rows = 0;
      do {
        const page = store.listAlerts({ limit: 1000, cursor });
        for (const a of page.items) {
          const k = `${a.rule_id}\u0000${a.severity}`;
          counts.set(k, (counts.get(k) ?? 0) + 1);
        }
        rows += page.items.length;
        cursor = page.next_cursor;
      } while (cursor !== null && rows < maxRows);
      const byRule = [...counts].map(([k, count]) => {
        const [rule_id, severity] = k.split('\u0000');
        return { rule_id, severity, count };
      });
      cached = { at: now(), byRule };
    }
    return { alertsOpen, alertsByRule: cached.byRule };
  };
}
