import type { Logger } from 'pino';
import type { CompiledPolicy } from '../../rules/policy/index.js';
import type { AlertingSink } from '../alerts.js';
import { defaultRegistry } from '../analyzers/default-registry.js';
import { defaultEnvironment } from '../analyzers/environment.js';
import type { AnalyzerRegistry } from '../analyzers/registry.js';
import { ConfigError } from '../errors.js';
import { NdjsonSink } from '../events/ndjson-sink.js';
import type { EventSink, MuvaktEvent } from '../events/types.js';
import type { AlertExporter } from '../export/alert-record.js';
import type { SyslogExporter, SyslogExporterOptions } from '../export/syslog.js';
import { DEFAULT_FLOW_LIMITS } from '../flows/flow-table.js';
import { InventorySink } from '../inventory/sink.js';
import { Pipeline } from '../pipeline.js';
import { loadPseudonymKey } from '../pseudonym-key.js';
import type { Alert } from '../store/index.js';
import type { DeviceRow, Store } from '../store/index.js';
import type { SpoolGate } from '../store/spool-gate.js';
import type { StoreSpoolSettings } from './store-spool.js';
import { EventCounters } from './event-counters.js';
import type { FlowHistoryWriter } from './flow-history-writer.js';
import type { RemoteSessionLog } from './remote-sessions.js';
import { MemoryGuard, type MemoryEpisode } from './memory-guard.js';
import type { ParallelPipeline } from './parallel-pipeline.js';

/**
 * How the sensor is put together, for `analyze`, `run` and the live worker alike:
 *
 *   pipeline → [RemoteSessionLog] → AlertingSink (rules → store, alert exporters) → InventorySink → [EventCounters] → events NDJSON
 *   pipeline → FlowHistory (flow aggregates by time bucket) → store          (with a store)
 *
 * The remote-session log (with a store) keeps every remote-access session as a record.
 *
 * Each sink hands every event to the next before it does its own work. What a run does not
 * need is not loaded: without a policy there are no rules, no YAML parser and no store; the
 * syslog and file exporters come only with a live run that asks for them.
 */
export interface SensorAssemblyOptions {
  policyFile?: string;
  /** The site's HMAC key for pseudonyms; default the policy's, else a random key for this run. */
  pseudonymKeyFile?: string;
  /** Events as NDJSON to this file ("-" = stdout); none when absent. */
  eventsFile?: string;
  /**
   * The alert store (opened only with a policy): a SQLite file, ':memory:' for a one-off analysis,
   * or a postgres:// URL. Absent: $MUVAKT_DB, else `defaultDb` (default ':memory:').
   */
  dbFile?: string;
  defaultDb?: string;
  /** This sensor's name, stored beside its alerts, device sightings and flow history (default: the host name). */
  sensor?: string;
  /**
   * A live sensor's store spool (with `alertStream`, whose log it uses): alert batches and device
   * saves the store cannot take wait on disk and are replayed in order (see store-spool.ts).
   */
  storeSpool?: StoreSpoolSettings;
  maxFlows: number;
  /** Internal devices in the inventory (default DEFAULT_MAX_DEVICES); the least recently seen is evicted. */
  maxDevices?: number;
  /** Flows with analyzer state at once (default DEFAULT_MAX_ANALYZER_STATES). */
  maxAnalyzerStates?: number;
  /** Resident-set ceiling in bytes: near it, analysis is shed (see memory-guard.ts); none when absent. */
  memoryCeiling?: number;
  /** Told when shedding begins and ends (once per episode). */
  onMemory?: (e: MemoryEpisode) => void;
  /** Per-event counters for /metrics (a live sensor). */
  counters?: boolean;
  /** Alerts handed on as soon as the store has them (a live sensor): new and reopened ones. */
  alertStream?: AlertStreamOptions;
  /**
   * Analysis workers (default 1: the packet path on this thread, no worker threads). With 2 or
   * more, capture is read here and flows are analysed in that many worker threads
   * (parallel-pipeline.ts); flow-table and analyzer-state caps are shared out between them.
   */
  workers?: number;
  /** With workers: a full packet ring drops the frame (a live capture) instead of waiting (a file). */
  dropWhenFull?: boolean;
}

export interface AlertStreamOptions {
  /** NDJSON: "-" = stdout, else a file rotated at maxBytes (default 100 MiB), `keep` kept. */
  alerts?: string;
  alertsMaxBytes?: number;
  alertsKeep?: number;
  /** RFC 5424 syslog over TCP/TLS to a SIEM, spooled on disk. */
  syslog?: Omit<SyslogExporterOptions, 'onEvent'>;
  /** Where export problems are reported (never with alert contents). */
  log: Logger;
}

export interface SensorAssembly {
  /** This sensor's name (`--sensor`): what it writes to the store carries it. */
  readonly sensor: string;
  readonly policy: CompiledPolicy | null;
  /** One Pipeline on this thread, or with `workers` ≥ 2 the parallel pipeline over worker threads. */
  readonly pipeline: Pipeline | ParallelPipeline;
  /** The head of the sink chain: the pipeline writes here, and so do capture errors and statistics. */
  readonly events: EventSink;
  readonly inventory: InventorySink;
  /** With `counters`: what /metrics reports of the traffic. */
  readonly counters: EventCounters | null;
  /** With a policy: rules and the alert store. */
  readonly alerting: AlertingSink | null;
  /** With `alertStream.syslog`: the SIEM exporter (its spool and connection are reported in /metrics). */
  readonly syslog: SyslogExporter | null;
  /** With `storeSpool`: the gate in front of the store (its spool is reported in /metrics). */
  readonly storeGate: SpoolGate | null;
  /** With a policy: where the store is, safe to print (a URL without its password). */
  readonly storeLocation: string | null;
  /** With a store: the flow history and its writer. */
  readonly flowHistory: FlowHistoryWriter | null;
  /** With a store: the remote-access session log. */
  readonly remoteSessions: RemoteSessionLog | null;
  /** With `memoryCeiling`: the guard that sheds analysis near it. */
  readonly memory: MemoryGuard | null;
  /** Counts what open flows carried so far and writes the flow history and the sessions so far (a live sensor's timer); never rejects. */
  flushFlowHistory(): Promise<void>;
  /** Saves the inventory, ranked against the alerts, and the rules' learned baseline (with a store). */
  save(): Promise<void>;
  /**
   * Ends the chain (events flushed, the last alerts committed, the baseline saved), waits up to
   * `deliverWithinMs` for the SIEM to confirm them (a backfill), closes the exporters, saves the
   * inventory (unless `saveInventory` is false: a run that never started) and closes the store.
   * Returns every alert in the store, most recent first (none without a policy).
   */
  close(opts?: { saveInventory?: boolean; deliverWithinMs?: number }): Promise<Alert[]>;
}

/**
 * The analyzers tuned by the policy (if any): its HL7 ACK timeout, the ports it declares for
 * DICOM and HL7 (probed first there, and DICOM-over-TLS labelled), and its pseudonym key unless
 * one is given on the command line.
 */
export function analyzersFor(policy: CompiledPolicy | null, pseudonymKeyFile?: string, givenKey?: Buffer): { registry: AnalyzerRegistry; ephemeralKey: boolean; key: Buffer } {
  // Analysis workers are given the main thread's key: one run, one pseudonym per value.
  const { key, ephemeral } = givenKey ? { key: givenKey, ephemeral: false } : loadPseudonymKey(pseudonymKeyFile ?? policy?.policy.pseudonym_key_file);
  const env = defaultEnvironment(key);
  if (policy) {
    env.hl7AckTimeoutSec = policy.hl7AckTimeoutSec;
    env.dicomPorts = policy.dicomPorts;
  }
  const registry = defaultRegistry(env);
  if (policy) {
    const portApps = new Map<number, string>();
    for (const p of policy.hl7Ports) portApps.set(p, 'hl7');
    for (const p of policy.dicomPorts) portApps.set(p, 'dicom');
    registry.setHints({ portApps });
  }
  return { registry, ephemeralKey: ephemeral, key };
}

/** Throws ConfigError for anything the operator named that cannot be used (exit 2). */
export async function assembleSensor(o: SensorAssemblyOptions): Promise<SensorAssembly> {
  if (o.alertStream?.alerts && !o.policyFile) throw new ConfigError('--alerts needs --policy: alerts are judged against the site policy');
  const policy = o.policyFile ? (await import('../policy-file.js')).compilePolicyFile(o.policyFile) : null;
  const { registry, key } = analyzersFor(policy, o.pseudonymKeyFile);
  // The store's default (the host name) when none is given; loaded only with a store.
  const sensor = o.sensor ?? (policy ? (await import('../store/sensor-name.js')).defaultSensorName() : '');

  let sink: EventSink;
  try {
    sink = o.eventsFile ? new NdjsonSink(o.eventsFile) : { write() {}, flush() {}, close() {} };
  } catch (e) {
    throw new ConfigError(`cannot write events to ${o.eventsFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const counters = o.counters ? new EventCounters(sink) : null;
  if (counters) sink = counters;
  // Every run keeps a device inventory; with a store it is saved there, ranked against the alerts.
  const inventory = new InventorySink(sink, policy, { maxDevices: o.maxDevices });
  sink = inventory;

  let alerting: AlertingSink | null = null;
  const exporters: AlertExporter[] = [];
  let syslog: SyslogExporter | null = null;
  let gate: SpoolGate | null = null;
  let flowHistory: FlowHistoryWriter | null = null;
  let remoteSessions: RemoteSessionLog | null = null;
  if (policy) {
    const [{ openStoreAt }, { AlertingSink }, { dbLocation }, { FlowHistoryWriter, policyZones }, { RemoteSessionLog }] = await Promise.all([
      import('../store-file.js'),
      import('../alerts.js'),
      import('../store/location.js'),
      import('./flow-history-writer.js'),
      import('./remote-sessions.js'),
    ]);
    const store = await openStoreAt(dbLocation(o.dbFile, o.defaultDb ?? ':memory:'), { retentionDays: policy.retentionDays, sensor });
    // What this sensor's findings rest on (version, policy hash), for the evidence bundles.
    const { policyFileSha256, recordProvenance } = await import('../run-provenance.js');
    await recordProvenance(store, { sensor, policy: { site: policy.site, sha256: policyFileSha256(o.policyFile!) } }).catch((e: Error) =>
      o.alertStream?.log?.warn({ err: e.message }, 'sensor provenance not recorded'),
    );
    let onCommit: ((r: { created: Alert[]; reopened: Alert[] }) => void) | undefined;
    if (o.alertStream) ({ onCommit, syslog } = await alertStreamTo(o.alertStream, exporters, sensor));
    const log = o.alertStream?.log;
    if (o.storeSpool && log) {
      const { openStoreGate } = await import('./store-spool.js');
      gate = openStoreGate(dbLocation(o.dbFile, o.defaultDb ?? ':memory:'), o.storeSpool, log);
      // A save holds every device: a newer one supersedes one still waiting in the spool.
      gate.register<DeviceRow[], number>('devices', { apply: (rows) => store.saveDevices(rows), replace: true });
    }
    alerting = await AlertingSink.create(sink, policy, store, onCommit, log ? (e) => log.warn({ err: e.message }, 'alert store write failed') : undefined, gate ?? undefined);
    gate?.start();
    sink = alerting;
    remoteSessions = new RemoteSessionLog(sink, {
      sensor,
      policy,
      store,
      onError: (e) => {
        if (log) log.warn({ err: e.message }, 'remote sessions not written; kept for the next attempt');
        else process.stderr.write(`muvakt: remote sessions not written: ${e.message}\n`);
      },
    });
    sink = remoteSessions;
    flowHistory = new FlowHistoryWriter(store, { sensor, zonesOf: policyZones(policy) }, (e) => {
      if (log) log.warn({ err: e.message }, 'flow history not written; kept for the next attempt');
      else process.stderr.write(`muvakt: flow history not written: ${e.message}\n`);
    });
  }
  const storeGate = gate;
  /** Device saves go through the gate when there is one. */
  const deviceTarget = (a: AlertingSink): Pick<Store, 'saveDevices'> =>
    storeGate === null
      ? a.store
      : { saveDevices: async (rows) => ((out) => (out.state === 'stored' ? out.result : 0))(await storeGate.submit<DeviceRow[], number>('devices', [...rows])) };
  /** Open alerts weigh in the devices' rank; with the store unreachable the devices are saved unranked rather than not at all. */
  const alertsForRanking = async (a: AlertingSink): Promise<Alert[]> => {
    if (storeGate === null) return a.allAlerts();
    try {
      return await a.allAlerts();
    } catch {
      return [];
    }
  };
  const memory =
    o.memoryCeiling !== undefined
      ? new MemoryGuard(o.memoryCeiling, (e) => {
          inventory.inventory.shedding = e.shedding;
          o.onMemory?.(e);
        })
      : null;
  const workers = o.workers ?? 1;
  let pipeline: Pipeline | ParallelPipeline;
  if (workers >= 2) {
    const { ParallelPipeline } = await import('./parallel-pipeline.js');
    const history = flowHistory;
    pipeline = new ParallelPipeline({
      workers,
      events: sink,
      worker: {
        policyFile: o.policyFile,
        pseudonymKey: key,
        // The caps bound the process, so each worker holds its share.
        maxFlows: Math.ceil(o.maxFlows / workers),
        maxAnalyzerStates: o.maxAnalyzerStates === undefined ? undefined : Math.ceil(o.maxAnalyzerStates / workers),
        memoryCeiling: o.memoryCeiling,
        sensor,
        history: history !== null,
      },
      history: history?.history,
      onHistory: history === null ? undefined : () => void history.flush(),
      memory: memory ?? undefined,
      dropWhenFull: o.dropWhenFull,
    });
  } else {
    pipeline = new Pipeline({
      events: sink,
      registry,
      flowLimits: { ...DEFAULT_FLOW_LIMITS, maxFlows: o.maxFlows },
      history: flowHistory?.history,
      maxAnalyzerStates: o.maxAnalyzerStates,
      memory: memory ?? undefined,
    });
  }
  const events = sink;

  return {
    sensor,
    policy,
    pipeline,
    events,
    inventory,
    counters,
    alerting,
    syslog,
    storeGate,
    storeLocation: alerting?.store.location ?? null,
    flowHistory,
    remoteSessions,
    memory,
    async flushFlowHistory() {
      // The parallel pipeline's flows are in its workers: their sessions are written as they end.
      if (remoteSessions !== null && pipeline instanceof Pipeline) {
        remoteSessions.sweep(pipeline.flows);
        await remoteSessions.save();
      }
      if (flowHistory === null) return;
      pipeline.sweepHistory();
      await flowHistory.flush();
    },
    async save() {
      if (alerting === null) return;
      await inventory.save(deviceTarget(alerting), await alertsForRanking(alerting), storeGate === null ? DEVICE_SAVE_BATCH : Infinity, () => memory?.check());
      await alerting.saveBaseline();
    },
    async close(opts = {}) {
      events.close();
      const closeExporters = () => {
        for (const x of exporters) void x.close();
      };
      if (alerting === null) {
        closeExporters();
        return [];
      }
      try {
        // The flows the pipeline ended (finish) are counted; what is still held goes to the store before it closes.
        await flowHistory?.flush(true);
        await remoteSessions?.finish();
        // The exporters stay open until the last commit has handed them its alerts.
        try {
          await alerting.finish();
          if (syslog && opts.deliverWithinMs) await syslog.whenIdle(opts.deliverWithinMs);
        } finally {
          closeExporters();
        }
        const alerts = opts.saveInventory === false ? [] : await alertsForRanking(alerting);
        // The rows of a batch are garbage once written: the ceiling is looked at between batches too.
        if (opts.saveInventory !== false) await inventory.save(deviceTarget(alerting), alerts, storeGate === null ? DEVICE_SAVE_BATCH : Infinity, () => memory?.check());
        return alerts;
      } finally {
        // One last replay; what the store still does not take stays on disk for the next start.
        await storeGate?.close(true);
        await alerting.store.close();
      }
    },
  };
}

/** Devices per write at the end of a run: their rows are garbage once written. */
const DEVICE_SAVE_BATCH = 1000;

/** The store's commit callback that hands new and reopened alerts to stdout, a file and syslog. */
async function alertStreamTo(
  s: AlertStreamOptions,
  exporters: AlertExporter[],
  sensor: string,
): Promise<{ onCommit: (r: { created: Alert[]; reopened: Alert[] }) => void; syslog: SyslogExporter | null }> {
  const { alertForExport } = await import('../alerts.js');
  const alertOut = s.alerts === '-' ? new NdjsonSink('-') : null;
  if (s.alerts && s.alerts !== '-') {
    const { RotatingNdjsonFile } = await import('../export/rotating-ndjson.js');
    exporters.push(new RotatingNdjsonFile(s.alerts, { maxBytes: s.alertsMaxBytes, keep: s.alertsKeep }));
  }
  let syslog: SyslogExporter | null = null;
  if (s.syslog) {
    const { SyslogExporter } = await import('../export/syslog.js');
    // The SIEM hears which sensor saw it (several sensors may feed one SIEM).
    syslog = new SyslogExporter({ ...s.syslog, sensor: sensor || undefined, onEvent: syslogLogger(s.log) });
    exporters.push(syslog);
  }
  const onCommit = (r: { created: Alert[]; reopened: Alert[] }) => {
    // A SIEM wants to hear of an alert once it is stored: new ones and ones that came back.
    if (r.created.length + r.reopened.length === 0) return;
    if (alertOut) {
      for (const a of [...r.created, ...r.reopened]) alertOut.write(alertForExport(a) as unknown as MuvaktEvent);
      alertOut.flush();
    }
    for (const x of exporters) {
      try {
        if (r.created.length > 0) x.export(r.created, 'new');
        if (r.reopened.length > 0) x.export(r.reopened, 'reopened');
      } catch (e) {
        s.log.warn({ err: (e as Error).message }, 'alert export failed');
      }
    }
  };
  return { onCommit, syslog };
}

/** The syslog exporter's connection news: connected at info, problems at warn (never alert contents). */
export function syslogLogger(log: Logger): NonNullable<SyslogExporterOptions['onEvent']> {
  return (e) => {
    if (e.kind === 'connected') log.info({ syslog: e.kind, detail: e.detail }, 'syslog connected');
    else log.warn({ syslog: e.kind, detail: e.detail }, e.kind === 'disconnected' ? 'syslog disconnected' : 'syslog export');
  };
}
