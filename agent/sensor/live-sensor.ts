import { CaptureBackendMissing, TcpdumpBackend, type LiveCaptureBackend } from '../capture/live-capture.js';
import { unreadAtStop } from '../capture/packet-record.js';
import { isoMicro } from '../events/format.js';
import type { SyslogExporterOptions } from '../export/syslog.js';
import { createLogger } from '../log.js';
import { assembleSensor } from './assembly.js';
import { memoryEpisodeText } from './memory-guard.js';
import { spoolSnapshot } from './snapshot.js';
import type { SensorSnapshot } from './snapshot.js';
import { FLOW_HISTORY_FLUSH_MS } from './flow-history-writer.js';
import { formatSummary } from './summary.js';

/** Everything `muvakt run` was told; plain data, so it can cross into a worker thread. */
export interface LiveSensorOptions {
  iface: string;
  filter?: string;
  snaplen: number;
  bufferKiB: number;
  promiscuous: boolean;
  statsIntervalSec: number;
  maxFlows: number;
  /** Memory bounds (cli/memory-options.ts); the assembly's defaults when absent. */
  maxDevices?: number;
  maxAnalyzerStates?: number;
  memoryCeiling?: number;
  events?: string;
  alerts?: string;
  policy?: string;
  db?: string;
  /** This sensor's name (`--sensor`, default the host name). */
  sensor?: string;
  /** Where writes wait while the store is unavailable, and its bounds (`--store-spool`, …). */
  storeSpool?: { file?: string; maxBytes?: number; maxAgeMs?: number };
  pseudonymKey?: string;
  /** Rotation of the --alerts file (default 100 MiB, 5 kept). */
  alertsMaxBytes?: number;
  alertsKeep?: number;
  /** Alerts to a SIEM as RFC 5424 syslog over TCP/TLS, spooled on disk (plain data: crosses into a worker). */
  syslog?: Omit<SyslogExporterOptions, 'onEvent'>;
  /** How often open flows are counted and the flow history written (default FLOW_HISTORY_FLUSH_MS). */
  flowHistoryFlushMs?: number;
}

export interface LiveSensor {
  /** The counters for /metrics, as plain numbers. */
  snapshot(): SensorSnapshot;
  /** Stops capture, flushes flows and alerts, saves the inventory; resolves with the summary text. */
  stop(): Promise<string>;
}

/** How often the inventory is written to the store while capturing. */
const INVENTORY_SAVE_MS = 60_000;

/**
 * The live capture and analysis of `muvakt run`: capture helper → pipeline → analyzers →
 * counters, inventory, rules and store. Runs on the main thread, or inside a worker when the
 * API listens beside it (`--listen`), so packet processing never starves the API.
 * Throws ConfigError for bad configuration; rejects with the reason when capture cannot start.
 */
export async function startLiveSensor(o: LiveSensorOptions): Promise<LiveSensor> {
  const log = createLogger();
  const sensor = await assembleSensor({
    policyFile: o.policy,
    pseudonymKeyFile: o.pseudonymKey,
    eventsFile: o.events,
    dbFile: o.db,
    defaultDb: 'muvakt.db',
    sensor: o.sensor,
    storeSpool: o.storeSpool ?? {},
    maxFlows: o.maxFlows,
    maxDevices: o.maxDevices,
    maxAnalyzerStates: o.maxAnalyzerStates,
    memoryCeiling: o.memoryCeiling,
    onMemory: (e) => (e.shedding ? log.warn : log.info).call(log, { rss_mb: Math.round(e.rssBytes / 1024 ** 2), ceiling_mb: Math.round(e.ceilingBytes / 1024 ** 2) }, memoryEpisodeText(e)),
    counters: true,
    alertStream: { alerts: o.alerts, alertsMaxBytes: o.alertsMaxBytes, alertsKeep: o.alertsKeep, syslog: o.syslog, log },
  });
  const { pipeline, inventory, alerting, syslog, storeGate } = sensor;
  const sink = sensor.events;
  const counters = sensor.counters!;
  const backend: LiveCaptureBackend = new TcpdumpBackend({ iface: o.iface, filter: o.filter, snaplen: o.snaplen, bufferKiB: o.bufferKiB, promiscuous: o.promiscuous });
  const t0 = process.hrtime.bigint();
  try {
    await backend.start(pipeline.handle);
  } catch (e) {
    await sensor.close({ saveInventory: false }).catch(() => {});
    throw e instanceof CaptureBackendMissing ? e : new Error(`cannot capture on ${o.iface}: ${(e as Error).message}`);
  }
  log.info({ interface: o.iface, sensor: sensor.sensor, backend: backend.name, bufferKiB: o.bufferKiB, snaplen: o.snaplen }, 'capture started');

  const emitStats = () => {
    const now = Date.now();
    sink.write({
      ts: isoMicro(Math.floor(now / 1000), (now % 1000) * 1e6),
      type: 'stats',
      capture: { interface: o.iface, received: backend.stats.received, dropped: backend.stats.dropped, if_dropped: backend.stats.ifDropped },
      packets: pipeline.stats.packets,
      bytes: pipeline.stats.bytes,
      flows_active: pipeline.flows.size,
      flow_evictions: pipeline.flows.evictions,
    });
    sink.flush();
  };
  // Flow timeouts follow the wall clock when the link is quiet.
  const ticker = setInterval(() => pipeline.tick(Date.now() / 1000), 1000);
  const statsTimer = setInterval(() => {
    backend.requestStats();
    // tcpdump answers SIGUSR1 on stderr; report on the next turn so the counters are fresh.
    setTimeout(() => {
      emitStats();
      log.info({ received: backend.stats.received, dropped: backend.stats.dropped, packets: pipeline.stats.packets, flows: pipeline.flows.size }, 'capture statistics');
    }, 200);
  }, o.statsIntervalSec * 1000);
  const saver = sensor.alerting
    ? setInterval(() => {
        sensor.save().catch((e: unknown) => log.warn({ err: (e as Error).message }, 'inventory not saved'));
      }, INVENTORY_SAVE_MS)
    : null;
  const historyTimer = sensor.flowHistory
    ? setInterval(() => {
        sensor.flushFlowHistory().catch((e: Error) => log.warn({ err: e.message }, 'flow history not written'));
      }, o.flowHistoryFlushMs ?? FLOW_HISTORY_FLUSH_MS)
    : null;

  return {
    snapshot(): SensorSnapshot {
      const st = pipeline.stats;
      const devices = inventory.inventory;
      const assetsByZone: Record<string, number> = {};
      for (const d of devices.devices()) assetsByZone[d.zone.name] = (assetsByZone[d.zone.name] ?? 0) + 1;
      return {
        packets: st.packets,
        bytes: st.bytes,
        captureDrops: backend.stats.dropped,
        decodeErrors: { ...st.decodeErrors },
        decapsulated: st.decapsulatedByKind(),
        encapTooDeep: st.encapTooDeep,
        flowsActive: pipeline.flows.size,
        flowsByApp: Object.fromEntries(st.flowsByApp),
        flowEvictions: pipeline.flows.evictions,
        evictions: { flows: pipeline.flows.evictions, devices: devices.counters.devices_evicted, analyzer_states: st.analyzerStateEvictions, ftp_data_expectations: pipeline.ftpData.evictions },
        shed: { devices: devices.counters.devices_shed, analyzer_states: st.analyzerStatesShed, flows: pipeline.flows.squeezed },
        ...(sensor.memory ? { memoryCeilingBytes: sensor.memory.ceilingBytes, memoryShedding: sensor.memory.shedding } : {}),
        dicomAssociations: { ...counters.dicomAssociations },
        dicomDimse: { ...counters.dicomDimse },
        hl7Messages: [...counters.hl7.values()].map((h) => ({ ...h })),
        tlsHandshakes: { ...counters.tlsHandshakes },
        assetsByZone,
        cleartextPhiFlows: { ...counters.cleartextPhiFlows },
        remoteAccessSessions: [...counters.remoteAccess.values()].map((r) => ({ ...r })),
        tcpFlowsEnded: counters.tcpFlowsEnded,
        oneSidedTcpFlows: counters.oneSidedTcpFlows,
        ...(alerting
          ? { storeWriter: { pendingAlerts: alerting.writer.pendingCount, commitErrors: alerting.writer.stats.commitErrors, droppedAlerts: alerting.writer.stats.dropped } }
          : {}),
        ...(storeGate ? { storeSpool: spoolSnapshot(storeGate.stats) } : {}),
        ...(sensor.flowHistory
          ? {
              flowHistory: {
                pendingRows: sensor.flowHistory.history.pendingRows,
                writeErrors: sensor.flowHistory.stats.writeErrors,
                overflowFlows: sensor.flowHistory.history.stats.overflowFlows,
                droppedFlows: sensor.flowHistory.history.stats.droppedFlows,
                peerDroppedFlows: sensor.flowHistory.history.stats.peerDroppedFlows,
              },
            }
          : {}),
        ...(sensor.remoteSessions
          ? {
              remoteSessions: {
                open: sensor.remoteSessions.openCount,
                pending: sensor.remoteSessions.pendingCount,
                writeErrors: sensor.remoteSessions.stats.writeErrors,
                dropped: sensor.remoteSessions.stats.dropped,
              },
            }
          : {}),
        ...(syslog ? { syslog: { pendingBytes: syslog.stats.pendingBytes, connected: syslog.stats.connected, dropped: syslog.stats.dropped } } : {}),
      };
    },
    async stop(): Promise<string> {
      clearInterval(ticker);
      clearInterval(statsTimer);
      if (saver) clearInterval(saver);
      if (historyTimer) clearInterval(historyTimer);
      let error: string | undefined;
      try {
        await backend.stop();
      } catch (e) {
        error = (e as Error).message;
      }
      await pipeline.finishInBatches('shutdown');
      emitStats();
      try {
        await sensor.close();
      } catch (e) {
        error = error ?? `alerts not stored: ${(e as Error).message}`;
        log.error({ err: (e as Error).message }, 'the last alerts could not be stored');
      }
      const wallSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const unread = unreadAtStop(backend.stats);
      log.info({ received: backend.stats.received, dropped: backend.stats.dropped, captured: backend.stats.captured, unread, drain_ms: backend.stats.drainMs, packets: pipeline.stats.packets }, 'capture stopped');
      const c = inventory.inventory.counters;
      const bounds = { devicesEvicted: c.devices_evicted, devicesShed: c.devices_shed, devicesDropped: c.devices_dropped + c.external_devices_dropped, memoryEpisodes: sensor.memory?.episodes ?? 0 };
      return formatSummary(pipeline, { wallSeconds, captureBytes: pipeline.stats.bytes, files: 0, captureDrops: backend.stats.dropped, captureUnread: unread, error, bounds });
    },
  };
}
