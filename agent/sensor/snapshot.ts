/**
 * What a running sensor reports about itself, as plain numbers: the live sensor fills it (in a
 * worker thread it crosses to the main thread as a message), the API's /metrics renders it.
 * It lives with the sensor so the sensor never imports the API.
 */
import type { Severity } from '../store/index.js';
import type { SpoolGateStats } from '../store/spool-gate.js';

export type Counts = Readonly<Record<string, number>> | ReadonlyMap<string, number>;

/** What the running sensor knows, as plain numbers. Every field is optional: missing = no samples (or 0). */
export interface SensorSnapshot {
  packets?: number;
  bytes?: number;
  captureDrops?: number;
  /** By layer: link, ipv4, ipv6, fragment, tcp, udp, encap. */
  decodeErrors?: Counts;
  /** Tunnel layers peeled, by kind (gre, erspan2, vxlan, …). */
  decapsulated?: Counts;
  /** Frames dropped because their tunnels nested too deep. */
  encapTooDeep?: number;
  flowsActive?: number;
  /** Flows created, by app. */
  flowsByApp?: Counts;
  flowEvictions?: number;
  /** Entries evicted to stay within a cap, by table: flows, devices, analyzer_states. */
  evictions?: Counts;
  /** Work not done near the memory ceiling, by what: devices, analyzer_states. */
  shed?: Counts;
  /** The --memory-ceiling in bytes, and whether analysis is being shed now. */
  memoryCeilingBytes?: number;
  memoryShedding?: boolean;
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
  /** Alerts not resolved that an active risk acceptance covers, by severity. */
  alertsAccepted?: Partial<Record<Severity, number>>;
  /** Devices in the inventory, by zone. */
  assetsByZone?: Counts;
  /** Connections that carried patient data in cleartext, by protocol (dicom, hl7, http, syslog…). */
  cleartextPhiFlows?: Counts;
  /** Remote-access sessions seen, by protocol and whether they were encrypted. */
  remoteAccessSessions?: readonly { protocol: string; encrypted: boolean; count: number }[];
  /** TCP flows that ended, and those seen in one direction only (a half-mirrored SPAN). */
  tcpFlowsEnded?: number;
  oneSidedTcpFlows?: number;
  /** The alert writer's queue in front of the store (absent without --policy). */
  storeWriter?: { pendingAlerts: number; commitErrors: number; droppedAlerts: number };
  /**
   * The store spool: what the sensor could not write to its store yet, on local disk (absent
   * without --policy). `oldestSeconds` is 0 when it is empty; `dropped` by reason (full, age, phi, rejected).
   */
  storeSpool?: { bytes: number; records: number; oldestSeconds: number; dropped: Counts; storeReachable: boolean };
  /** The flow history's rows waiting for the store, its failed writes, and flows folded (key cap) or dropped (pending cap). Absent without --policy. */
  flowHistory?: { pendingRows: number; writeErrors: number; overflowFlows: number; droppedFlows: number; peerDroppedFlows: number };
  /** The remote-session log: sessions followed, records waiting for the store, failed writes, records dropped (pending cap). Absent without --policy. */
  remoteSessions?: { open: number; pending: number; writeErrors: number; dropped: number };
  /** The syslog exporter's disk spool (absent without --syslog). */
  syslog?: { pendingBytes: number; connected: boolean; dropped: number };
}

/** The spool's part of the /metrics snapshot. */
export function spoolSnapshot(s: SpoolGateStats, now = Date.now()): NonNullable<SensorSnapshot['storeSpool']> {
  return {
    bytes: s.bytes,
    records: s.records,
    oldestSeconds: s.oldestMs === null ? 0 : Math.max(0, (now - s.oldestMs) / 1000),
    dropped: { ...s.dropped },
    storeReachable: !s.storeUnavailable,
  };
}
