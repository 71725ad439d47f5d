import { parseArgs } from 'node:util';
import { startWorker } from '../sensor/worker-entry.js';
import { CaptureBackendMissing, DEFAULT_LIVE_OPTIONS } from '../capture/live-capture.js';
import { ConfigError } from '../errors.js';
import { createLogger } from '../log.js';
import { readPolicyFile } from '../policy-file.js';
import type { SensorSnapshot } from '../sensor/snapshot.js';
import { FLOW_HISTORY_FLUSH_MS } from '../sensor/flow-history-writer.js';
import type { LiveSensorOptions } from '../sensor/live-sensor.js';
import { openStoreAt } from '../store-file.js';
import { dbLocation } from '../store/location.js';
import { applyLogFormat, positiveInt, sensorOption, UsageError } from './args.js';
import { SYSLOG_PARSE_OPTIONS, syslogOptions } from './syslog-options.js';
import { MEMORY_PARSE_OPTIONS, MEMORY_USAGE, memoryBounds } from './memory-options.js';

export const RUN_USAGE = `muvakt run --interface IFACE [--sensor NAME] [--filter BPF] [--policy FILE] [--db FILE|URL] [--events FILE|-] [--alerts FILE|-]
           [--listen HOST:PORT [--auth FILE] [--tls-cert F --tls-key F] [--allow-plain-http]]
           [--syslog HOST:PORT [--syslog-format rfc5424|cef|ecs] [--syslog-ca FILE] [--syslog-spool DIR]
           [--syslog-facility NAME]] [--alerts-max-mb N] [--log-format json|pretty]
           [--snaplen N] [--buffer-mb N] [--no-promisc] [--stats-interval S] [--flow-history-interval S]
           [--max-flows N] [--max-devices N] [--max-analyzer-states N] [--memory-ceiling SIZE] [--pseudonym-key FILE]
           [--store-spool FILE] [--store-spool-max-mb N] [--store-spool-max-age-h N]

  Captures live from IFACE (a SPAN/mirror port) through tcpdump/libpcap. Never transmits.
  Stops on SIGINT/SIGTERM: flows are flushed, then it exits 0.
  --sensor NAME         this sensor's name, stored with its alerts, devices and flow history (default: the
                        host name; letters, digits and . _ : @ -). Sensors sharing one store need distinct names
  --filter BPF          capture filter, e.g. "not port 22"
  --policy FILE         judge traffic against the site policy; alerts go to the store (--db: a SQLite file or a
                        postgres:// URL; default $MUVAKT_DB, else muvakt.db)
  --alerts FILE         also write each new or reopened alert as NDJSON ("-" = stdout; a file is rotated at
                        --alerts-max-mb, default 100, five kept)
  --syslog HOST:PORT    send each new or reopened alert to a SIEM over TCP (TLS with --syslog-ca FILE),
                        spooled on disk (--syslog-spool DIR, default ./muvakt-spool) so nothing is lost
                        while the SIEM is down
  --syslog-format F     rfc5424 (default: syslog, the facts as structured data), cef (ArcSight CEF in a
                        syslog message) or ecs (Elastic Common Schema, one JSON document a line)
  --store-spool FILE    while the store cannot take writes (database down, busy, disk full) the sensor keeps
                        analysing and holds them in this file, then replays them in order (default <db>.spool,
                        or muvakt-store.spool in $STATE_DIRECTORY for PostgreSQL); bounded by --store-spool-max-mb
                        (default 256) and --store-spool-max-age-h (default 168), what it drops is counted
  --listen HOST:PORT    serve the API and /metrics beside the capture (needs --policy); capture then runs
                        in a worker thread so it never starves the API (see "muvakt serve" for --auth, TLS)
  --buffer-mb N         kernel capture buffer (default ${DEFAULT_LIVE_OPTIONS.bufferKiB / 1024} MiB)
  --snaplen N           bytes kept per frame (default ${DEFAULT_LIVE_OPTIONS.snaplen})
  --no-promisc          do not put the interface in promiscuous mode
  --stats-interval S    seconds between capture-statistics events and log lines (default 10)
  --flow-history-interval S  seconds between writes of the flow history (default 30): open flows are
                        counted and the zone matrix in the store (what the API shows) is at most this old
${MEMORY_USAGE}  --log-format F        json or pretty (default: pretty on a terminal, JSON otherwise)
`;

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}

export async function runCommand(argv: string[]): Promise<number> {
  let v: Record<string, string | boolean | undefined>;
  try {
    v = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        interface: { type: 'string', short: 'i' },
        filter: { type: 'string' },
        sensor: { type: 'string' },
        events: { type: 'string' },
        alerts: { type: 'string' },
        policy: { type: 'string' },
        db: { type: 'string' },
        listen: { type: 'string' },
        auth: { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'allow-plain-http': { type: 'boolean', default: false },
        snaplen: { type: 'string' },
        'buffer-mb': { type: 'string' },
        'no-promisc': { type: 'boolean', default: false },
        'stats-interval': { type: 'string' },
        'flow-history-interval': { type: 'string' },
        ...MEMORY_PARSE_OPTIONS,
        'pseudonym-key': { type: 'string' },
        ...SYSLOG_PARSE_OPTIONS,
        'alerts-max-mb': { type: 'string' },
        'store-spool': { type: 'string' },
        'store-spool-max-mb': { type: 'string' },
        'store-spool-max-age-h': { type: 'string' },
        'log-format': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (v.help) {
    process.stdout.write(RUN_USAGE);
    return 0;
  }
  applyLogFormat(v['log-format'] as string | undefined);
  const iface = v.interface as string | undefined;
  if (!iface) throw new UsageError('run needs --interface IFACE');
  const opts: LiveSensorOptions = {
    iface,
    filter: v.filter as string | undefined,
    snaplen: positiveInt('snaplen', v.snaplen as string | undefined, DEFAULT_LIVE_OPTIONS.snaplen),
    bufferKiB: positiveInt('buffer-mb', v['buffer-mb'] as string | undefined, DEFAULT_LIVE_OPTIONS.bufferKiB / 1024) * 1024,
    promiscuous: !v['no-promisc'],
    statsIntervalSec: positiveInt('stats-interval', v['stats-interval'] as string | undefined, 10),
    flowHistoryFlushMs: positiveInt('flow-history-interval', v['flow-history-interval'] as string | undefined, FLOW_HISTORY_FLUSH_MS / 1000) * 1000,
    ...memoryBounds(v),
    events: v.events as string | undefined,
    alerts: v.alerts as string | undefined,
    policy: v.policy as string | undefined,
    db: v.db as string | undefined,
    sensor: await sensorOption(v.sensor as string | undefined),
    pseudonymKey: v['pseudonym-key'] as string | undefined,
    alertsMaxBytes: positiveInt('alerts-max-mb', v['alerts-max-mb'] as string | undefined, 100) * 1024 * 1024,
    storeSpool: {
      file: v['store-spool'] as string | undefined,
      maxBytes: positiveInt('store-spool-max-mb', v['store-spool-max-mb'] as string | undefined, 256) * 1024 * 1024,
      maxAgeMs: positiveInt('store-spool-max-age-h', v['store-spool-max-age-h'] as string | undefined, 168) * 3_600_000,
    },
  };
  opts.syslog = await syslogOptions(v, 'muvakt-spool');
  if (v.listen) return runWithApi(opts, v);
  if (!opts.policy) {
    // Said once, before the capture starts: without a policy no rule runs.
    (await import('../log.js')).createLogger().warn('no --policy: nothing is judged and no alert is raised; only traffic counts, events (--events) and the device inventory are kept (see deploy/policy.example.yaml)');
  }

  const { startLiveSensor } = await import('../sensor/live-sensor.js');
  let sensor;
  try {
    sensor = await startLiveSensor(opts);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    process.stderr.write(`muvakt: ${e instanceof CaptureBackendMissing ? e.message : (e as Error).message}\n`);
    return 1;
  }
  await waitForSignal();
  process.stderr.write(await sensor.stop());
  return 0;
}

/**
 * Capture in a worker thread, the API on this one: the event loop that answers HTTP never runs
 * packet processing. The worker posts a snapshot of its counters every second for /metrics.
 * Everything else the API shows comes from the store, as under `serve`: the flow matrix too,
 * which the worker writes every --flow-history-interval (open flows included) and at the end.
 */
async function runWithApi(opts: LiveSensorOptions, v: Record<string, string | boolean | undefined>): Promise<number> {
  if (!opts.policy) throw new UsageError('--listen needs --policy: the API serves the alerts judged against it');
  const { apiSettings, startApi } = await import('./api-bootstrap.js');
  const settings = apiSettings({
    listen: v.listen as string,
    auth: v.auth as string | undefined,
    tlsCert: v['tls-cert'] as string | undefined,
    tlsKey: v['tls-key'] as string | undefined,
    allowPlainHttp: Boolean(v['allow-plain-http']),
  });
  const policy = readPolicyFile(opts.policy);
  const dbFile = dbLocation(opts.db, 'muvakt.db');
  // Opened (and migrated) here first, so the worker's writer finds the schema in place.
  const store = await openStoreAt(dbFile, { retentionDays: policy.retention_days, sensor: opts.sensor });

  const worker = startWorker('live-worker', { workerData: { ...opts, db: dbFile } });
  let snapshot: SensorSnapshot = {};
  let lastSnapshotAt = 0;
  let alive = true;
  let stoppedSummary: ((s: string) => void) | null = null;
  // A configuration problem the worker found (events file, pseudonym key, exporters) is exit 2, as without --listen.
  const started = new Promise<{ message: string; config: boolean } | null>((resolve) => {
    worker.on('message', (m: { type: string; message?: string; config?: boolean; snapshot?: SensorSnapshot; summary?: string }) => {
      if (m.type === 'started') resolve(null);
      else if (m.type === 'error') resolve({ message: m.message ?? 'capture failed', config: m.config === true });
      else if (m.type === 'snapshot') {
        snapshot = m.snapshot ?? {};
        lastSnapshotAt = Date.now();
      } else if (m.type === 'stopped') stoppedSummary?.(m.summary ?? '');
    });
    worker.on('error', (e) => resolve({ message: e.message, config: false }));
    worker.on('exit', () => {
      alive = false;
      resolve({ message: 'capture worker exited', config: false });
    });
  });
  const failure = await started;
  if (failure !== null) {
    await worker.terminate();
    await store.close();
    if (failure.config) throw new ConfigError(failure.message);
    process.stderr.write(`muvakt: ${failure.message}\n`);
    return 1;
  }
  /** Stops the capture: flows flushed, alerts and inventory saved; resolves with the summary text. */
  const stopCapture = () => {
    const summary = new Promise<string>((resolve) => {
      stoppedSummary = resolve;
      worker.once('exit', () => resolve(''));
    });
    worker.postMessage({ type: 'stop' });
    return summary;
  };

  const api = await startApi(settings, {
    store,
    policy,
    logger: createLogger(),
    metrics: () => snapshot,
    // Ready while the worker lives and reports: a stalled capture makes /readyz fail.
    captureAlive: () => alive && Date.now() - lastSnapshotAt < 5000,
    listening: 'API listening beside the capture',
  });
  if (api === null) {
    // The API was asked for and cannot be served: stop the capture cleanly and fail.
    process.stderr.write(await stopCapture());
    await store.close();
    return 1;
  }

  await waitForSignal();
  process.stderr.write(await stopCapture());
  await api.app.close();
  await store.close();
  return 0;
}
