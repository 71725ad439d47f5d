/**
 * Prometheus metrics (docs/metrics.md). Nothing is counted per packet through
 * prom-client: every muvakt_* metric is filled at scrape time from one snapshot of the
 * sensor's own counters (`PipelineStats`, the flow table, analyzers), taken through the
 * provider function the process plugs in. A process exports only what it knows: `serve`
 * (store only) has the store-derived series (alerts, devices) and its own HTTP metrics, never
 * the capture counters, which only a live sensor has; and a value the snapshot does not give
 * has no sample at all rather than a made-up 0.
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
import { acceptanceFor, isActive, listAcceptances } from '../agent/risk-acceptances.js';
import { ENCAP_KIND_NAMES } from '../protocols/link/tunnel.js';
import type { ApiStore } from './types.js';
import type { Counts, SensorSnapshot } from '../agent/sensor/snapshot.js';

export type { SensorSnapshot };

export type SnapshotProvider = () => SensorSnapshot | Promise<SensorSnapshot>;

export const OTHER = 'other';
const MAX_SERIES = 200;

const DECODE_LAYERS = ['link', 'ipv4', 'ipv6', 'fragment', 'tcp', 'udp', 'encap'];
const ENCAP_KINDS = ENCAP_KIND_NAMES.filter((k) => k !== 'none');
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
  kind: vocabulary(ENCAP_KINDS),
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
  protocol: vocabulary(['dicom', 'dicomweb', 'hl7', 'http', 'syslog', 'snmp', 'ftp', 'smtp', 'pop3', 'imap', 'tcp', 'udp', 'rdp', 'vnc', 'ssh', 'telnet', 'teamviewer', 'anydesk']),
  encrypted: vocabulary(['true', 'false']),
  reason: vocabulary(['full', 'age', 'phi', 'rejected']),
  table: vocabulary(['flows', 'devices', 'analyzer_states', 'ftp_data_expectations']),
  what: vocabulary(['devices', 'analyzer_states']),
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
  /** Who knows it: only a live sensor, or anything with the store (`serve` too). */
  source: 'sensor' | 'store';
  /** A plain number (no labels) or samples; undefined = nothing known (no sample). */
  read: (s: SensorSnapshot) => number | Sample[] | undefined;
}

const S = 'sensor' as const;

const DEFS: readonly MetricDef[] = [
  { name: 'muvakt_packets_total', help: 'Packets read from the capture', type: 'counter', source: S, labels: [], read: (s) => s.packets },
  { name: 'muvakt_bytes_total', help: 'Bytes read from the capture (on the wire)', type: 'counter', source: S, labels: [], read: (s) => s.bytes },
  { name: 'muvakt_capture_drops_total', help: 'Packets the kernel or interface dropped before the sensor saw them', type: 'counter', source: S, labels: [], read: (s) => s.captureDrops },
  { name: 'muvakt_decode_errors_total', help: 'Packets that failed to decode, by layer', type: 'counter', source: S, labels: ['layer'], read: (s) => one('layer', s.decodeErrors) },
  {
    name: 'muvakt_decapsulated_total',
    help: 'Tunnel layers peeled to reach the inner packet (mirror encapsulations), by kind',
    type: 'counter',
    source: S,
    labels: ['kind'],
    read: (s) => one('kind', s.decapsulated),
  },
  { name: 'muvakt_encap_too_deep_total', help: 'Frames dropped because their tunnels nested deeper than the sensor opens', type: 'counter', source: S, labels: [], read: (s) => s.encapTooDeep },
  { name: 'muvakt_flows_active', help: 'Flows in the flow table', type: 'gauge', source: S, labels: [], read: (s) => s.flowsActive },
  { name: 'muvakt_flows_total', help: 'Flows created, by application', type: 'counter', source: S, labels: ['app'], read: (s) => one('app', s.flowsByApp) },
  { name: 'muvakt_flow_evictions_total', help: 'Flows evicted because the flow table was full', type: 'counter', source: S, labels: [], read: (s) => s.flowEvictions },
  { name: 'muvakt_evictions_total', help: 'Entries evicted to stay within a memory cap, by table (flows, devices, analyzer_states, ftp_data_expectations)', type: 'counter', source: S, labels: ['table'], read: (s) => one('table', s.evictions) },
  { name: 'muvakt_shed_total', help: 'Work not done because the process was near its memory ceiling, by what (devices, analyzer_states; flows: ended early by the squeezed flow table)', type: 'counter', source: S, labels: ['what'], read: (s) => one('what', s.shed) },
  { name: 'muvakt_memory_ceiling_bytes', help: 'The resident-memory ceiling (--memory-ceiling) near which analysis is shed', type: 'gauge', source: S, labels: [], read: (s) => s.memoryCeilingBytes },
  { name: 'muvakt_memory_shedding', help: '1 while analysis is shed near the memory ceiling, else 0', type: 'gauge', source: S, labels: [], read: (s) => (s.memoryShedding === undefined ? undefined : Number(s.memoryShedding)) },
  { name: 'muvakt_dicom_associations_total', help: 'DICOM associations, by result', type: 'counter', source: S, labels: ['result'], read: (s) => one('result', s.dicomAssociations) },
  { name: 'muvakt_dicom_dimse_total', help: 'DICOM DIMSE messages, by command', type: 'counter', source: S, labels: ['command'], read: (s) => one('command', s.dicomDimse) },
  {
    name: 'muvakt_hl7_messages_total',
    help: 'HL7 v2 messages, by message type and the code of the ACK that answered them',
    type: 'counter',
    source: S,
    labels: ['message_type', 'ack_code'],
    read: (s) => s.hl7Messages?.map((m) => ({ labels: { message_type: m.message_type, ack_code: m.ack_code }, value: m.count })),
  },
  { name: 'muvakt_tls_handshakes_total', help: 'TLS handshakes, by version', type: 'counter', source: S, labels: ['version'], read: (s) => one('version', s.tlsHandshakes) },
  {
    name: 'muvakt_alerts_total',
    help: 'Alerts raised (distinct alerts in the store), by rule and severity',
    type: 'counter',
    source: 'store',
    labels: ['rule_id', 'severity'],
    read: (s) => s.alertsByRule?.map((a) => ({ labels: { rule_id: a.rule_id, severity: a.severity }, value: a.count })),
  },
  {
    name: 'muvakt_alerts_open',
    help: 'Open alerts, by severity',
    type: 'gauge',
    source: 'store',
    labels: ['severity'],
    read: (s) => (s.alertsOpen ? SEVERITIES.map((sev) => ({ labels: { severity: sev }, value: s.alertsOpen?.[sev] ?? 0 })) : undefined),
  },
  {
    name: 'muvakt_alerts_accepted',
    help: 'Alerts not resolved that an active risk acceptance covers, by severity (they are also counted as open while their status is open)',
    type: 'gauge',
    source: 'store',
    labels: ['severity'],
    read: (s) => (s.alertsAccepted ? SEVERITIES.map((sev) => ({ labels: { severity: sev }, value: s.alertsAccepted?.[sev] ?? 0 })) : undefined),
  },
  { name: 'muvakt_assets', help: 'Devices in the inventory, by zone', type: 'gauge', source: 'store', labels: ['zone'], read: (s) => one('zone', s.assetsByZone) },
  {
    name: 'muvakt_cleartext_phi_flows_total',
    help: 'Connections that carried patient data in cleartext, by protocol (LEV 6.4)',
    type: 'counter',
    source: S,
    labels: ['protocol'],
    read: (s) => one('protocol', s.cleartextPhiFlows),
  },
  {
    name: 'muvakt_remote_access_sessions_total',
    help: 'Remote-access sessions, by protocol and encryption (MU 4.7)',
    type: 'counter',
    source: S,
    labels: ['protocol', 'encrypted'],
    read: (s) => s.remoteAccessSessions?.map((r) => ({ labels: { protocol: r.protocol, encrypted: String(r.encrypted) }, value: r.count })),
  },
  { name: 'muvakt_tcp_flows_ended_total', help: 'TCP flows that ended (timed out, closed or flushed)', type: 'counter', source: S, labels: [], read: (s) => s.tcpFlowsEnded },
  {
    name: 'muvakt_tcp_one_sided_flows_total',
    help: 'TCP flows that ended with packets seen in one direction only: many mean the mirror port carries one direction (half-mirrored SPAN)',
    type: 'counter',
    source: S,
    labels: [],
    read: (s) => s.oneSidedTcpFlows,
  },
  { name: 'muvakt_store_pending_alerts', help: 'Alerts waiting to be committed to the store', type: 'gauge', source: S, labels: [], read: (s) => s.storeWriter?.pendingAlerts },
  { name: 'muvakt_store_commit_errors_total', help: 'Failed commits of alerts to the store (retried)', type: 'counter', source: S, labels: [], read: (s) => s.storeWriter?.commitErrors },
  {
    name: 'muvakt_store_dropped_alerts_total',
    help: 'Alerts dropped because commits kept failing and the queue was full',
    type: 'counter',
    source: S,
    labels: [],
    read: (s) => s.storeWriter?.droppedAlerts,
  },
  { name: 'muvakt_store_spool_bytes', help: 'Bytes of store writes held in the local spool while the store is unavailable', type: 'gauge', source: S, labels: [], read: (s) => s.storeSpool?.bytes },
  { name: 'muvakt_store_spool_records', help: 'Store writes (alert batches, device saves) held in the local spool', type: 'gauge', source: S, labels: [], read: (s) => s.storeSpool?.records },
  {
    name: 'muvakt_store_spool_oldest_seconds',
    help: 'Age of the oldest write in the store spool (0 when empty)',
    type: 'gauge',
    source: S,
    labels: [],
    read: (s) => s.storeSpool?.oldestSeconds,
  },
  {
    name: 'muvakt_store_spool_dropped_total',
    help: 'Store writes dropped from the spool, by reason: full (byte bound), age, phi (refused before disk), rejected (refused by the store)',
    type: 'counter',
    source: S,
    labels: ['reason'],
    read: (s) => one('reason', s.storeSpool?.dropped),
  },
  { name: 'muvakt_store_reachable', help: '1 while the store takes writes, 0 while writes go to the spool', type: 'gauge', source: S, labels: [], read: (s) => (s.storeSpool ? Number(s.storeSpool.storeReachable) : undefined) },
  { name: 'muvakt_flow_history_pending_rows', help: 'Flow-history rows waiting to be written to the store', type: 'gauge', source: S, labels: [], read: (s) => s.flowHistory?.pendingRows },
  { name: 'muvakt_flow_history_write_errors_total', help: 'Failed writes of the flow history to the store (the rows are kept and retried)', type: 'counter', source: S, labels: [], read: (s) => s.flowHistory?.writeErrors },
  {
    name: 'muvakt_flow_history_overflow_flows_total',
    help: "Flows counted in a bucket's (other) row because the bucket had reached its key cap",
    type: 'counter',
    source: S,
    labels: [],
    read: (s) => s.flowHistory?.overflowFlows,
  },
  {
    name: 'muvakt_flow_history_dropped_flows_total',
    help: 'Flows left out of the flow history because writes kept failing and the pending rows were at their cap',
    type: 'counter',
    source: S,
    labels: [],
    read: (s) => s.flowHistory?.droppedFlows,
  },
  {
    name: 'muvakt_flow_history_peer_dropped_flows_total',
    help: "Flows left out of an hour's address-pair rows because the hour had reached its pair cap or the pending rows their cap",
    type: 'counter',
    source: S,
    labels: [],
    read: (s) => s.flowHistory?.peerDroppedFlows,
  },
  { name: 'muvakt_remote_sessions_open', help: 'Remote-access sessions the sensor is following now', type: 'gauge', source: S, labels: [], read: (s) => s.remoteSessions?.open },
  { name: 'muvakt_remote_sessions_pending', help: 'Remote-access session records waiting to be written to the store', type: 'gauge', source: S, labels: [], read: (s) => s.remoteSessions?.pending },
  { name: 'muvakt_remote_sessions_write_errors_total', help: 'Failed writes of remote-access session records to the store (the records are kept and retried)', type: 'counter', source: S, labels: [], read: (s) => s.remoteSessions?.writeErrors },
  { name: 'muvakt_remote_sessions_dropped_total', help: 'Remote-access session records dropped because writes kept failing and the pending records were at their cap', type: 'counter', source: S, labels: [], read: (s) => s.remoteSessions?.dropped },
  { name: 'muvakt_syslog_spool_pending_bytes', help: 'Bytes of alerts in the syslog spool not yet delivered to the SIEM', type: 'gauge', source: S, labels: [], read: (s) => s.syslog?.pendingBytes },
  { name: 'muvakt_syslog_connected', help: '1 while the syslog connection to the SIEM is up', type: 'gauge', source: S, labels: [], read: (s) => (s.syslog ? Number(s.syslog.connected) : undefined) },
  { name: 'muvakt_syslog_dropped_total', help: 'Alerts not spooled for the SIEM because the spool was full', type: 'counter', source: S, labels: [], read: (s) => s.syslog?.dropped },
];

export const METRIC_NAMES: readonly string[] = DEFS.map((d) => d.name);
/** What `serve` (a store, no capture) exports besides process and HTTP metrics. */
export const STORE_METRIC_NAMES: readonly string[] = DEFS.filter((d) => d.source === 'store').map((d) => d.name);
/** The API's own request metrics (both `serve` and `run --listen`). */
export const HTTP_METRIC_NAMES = ['muvakt_http_requests_total', 'muvakt_http_request_duration_seconds'] as const;

const HTTP_METHODS = vocabulary(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export interface Metrics {
  readonly registry: client.Registry;
  readonly contentType: string;
  /** Takes one snapshot and renders the Prometheus text exposition. */
  render(): Promise<string>;
  /** Counts one answered API request; `route` is the route's template (bounded), or null when none matched. */
  observeRequest(method: string, route: string | null, statusCode: number, seconds: number): void;
}

export interface MetricsOptions {
  /** The sensor's counters; called once per scrape. */
  snapshot?: SnapshotProvider;
  /** A live capture feeds the snapshot: export the capture metrics (default false: store-derived only). */
  liveSensor?: boolean;
  /** Default process metrics (CPU, memory, event loop lag, GC); default true. */
  processMetrics?: boolean;
}

/** One muvakt_* metric rendered from the current snapshot: an unknown value has no sample. */
function snapshotMetric(d: MetricDef, current: () => SensorSnapshot) {
  return {
    name: d.name,
    help: d.help,
    type: d.type,
    labelNames: [...d.labels],
    get: async () => {
      const v = d.read(current());
      let values: Sample[] = [];
      if (typeof v === 'number') values = Number.isFinite(v) && v >= 0 ? [{ labels: {}, value: v }] : [];
      else if (v !== undefined) values = boundSamples(d.labels, v);
      return { name: d.name, help: d.help, type: d.type, values, aggregator: 'sum' as const };
    },
  };
}

export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const registry = new client.Registry();
  if (opts.processMetrics ?? true) client.collectDefaultMetrics({ register: registry });
  let current: SensorSnapshot = {};
  for (const d of DEFS) {
    if (d.source === 'sensor' && !opts.liveSensor) continue;
    registry.registerMetric(snapshotMetric(d, () => current) as unknown as client.Metric);
  }
  const requests = new client.Counter({
    name: HTTP_METRIC_NAMES[0],
    help: 'API requests answered, by method, route template and status code',
    labelNames: ['method', 'route', 'status_code'],
    registers: [registry],
  });
  const duration = new client.Histogram({
    name: HTTP_METRIC_NAMES[1],
    help: 'Time to answer an API request, by method and route template',
    labelNames: ['method', 'route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const provider = opts.snapshot ?? (() => ({}));
  return {
    registry,
    contentType: registry.contentType,
    async render() {
      current = await provider();
      try {
        return await registry.metrics();
      } finally {
        current = {};
      }
    },
    observeRequest(method, route, statusCode, seconds) {
      const m = HTTP_METHODS(method);
      // Route templates are the app's own ('/api/v1/alerts/:id'), so the label stays bounded.
      const r = route ?? 'unmatched';
      requests.inc({ method: m, route: r, status_code: String(statusCode >= 100 && statusCode < 600 ? statusCode : 0) });
      if (Number.isFinite(seconds) && seconds >= 0) duration.observe({ method: m, route: r }, seconds);
    },
  };
}

/**
 * The store-derived part of the snapshot: open alerts by severity (`openCounts`), distinct
 * alerts by rule and severity (paged through `listAlerts`) and devices by zone (paged through
 * the asset listing), at most `maxRows` rows each, cached for `ttlMs` so scrapes stay cheap.
 */
export function storeSnapshot(
  store: Pick<ApiStore, 'openCounts' | 'listAlerts' | 'kvList'>,
  opts: { ttlMs?: number; maxRows?: number; now?: () => number; assets?: { list(q: { limit: number; cursor?: string }): Promise<{ items: readonly { zone: string }[]; next_cursor: string | null }> } } = {},
): () => Promise<SensorSnapshot> {
  const ttl = opts.ttlMs ?? 15_000;
  const maxRows = opts.maxRows ?? 100_000;
  const now = opts.now ?? Date.now;
  let cached: { at: number; byRule: { rule_id: string; severity: string; count: number }[]; accepted: Record<Severity, number>; assetsByZone?: Record<string, number> } | null = null;
  return async () => {
    try {
      return await read();
    } catch {
      // A store that cannot be read has no alert or device figures to give: those series are
      // left out of this scrape (an unknown value has no sample) and the rest is still served.
      cached = null;
      return {};
    }
  };
  async function read(): Promise<SensorSnapshot> {
    const alertsOpen = await store.openCounts();
    if (cached === null || now() - cached.at >= ttl) {
      const counts = new Map<string, number>();
      const t = now();
      const acceptances = (await listAcceptances(store)).filter((x) => isActive(x, t));
      const accepted = Object.fromEntries(SEVERITIES.map((sev) => [sev, 0])) as Record<Severity, number>;
      let cursor: string | null = null;
      let rows = 0;
      do {
        const page = await store.listAlerts({ limit: 1000, cursor });
        for (const a of page.items) {
          const k = `${a.rule_id}\u0000${a.severity}`;
          counts.set(k, (counts.get(k) ?? 0) + 1);
          if (a.status !== 'resolved' && acceptances.length > 0 && acceptanceFor(a, acceptances) !== undefined) accepted[a.severity]++;
        }
        rows += page.items.length;
        cursor = page.next_cursor;
      } while (cursor !== null && rows < maxRows);
      const byRule = [...counts].map(([k, count]) => {
        const [rule_id, severity] = k.split('\u0000');
        return { rule_id, severity, count };
      });
      let assetsByZone: Record<string, number> | undefined;
      if (opts.assets) {
        assetsByZone = {};
        let next: string | undefined;
        let devices = 0;
        do {
          const page = await opts.assets.list({ limit: 1000, cursor: next });
          for (const d of page.items) assetsByZone[d.zone] = (assetsByZone[d.zone] ?? 0) + 1;
          devices += page.items.length;
          next = page.next_cursor ?? undefined;
        } while (next !== undefined && devices < maxRows);
      }
      cached = { at: now(), byRule, accepted, assetsByZone };
    }
    return { alertsOpen, alertsByRule: cached.byRule, alertsAccepted: cached.accepted, ...(cached.assetsByZone ? { assetsByZone: cached.assetsByZone } : {}) };
  }
}
