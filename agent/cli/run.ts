import { parseArgs } from 'node:util';
import { prepareAnalysis } from '../setup.js';
import { CaptureBackendMissing, DEFAULT_LIVE_OPTIONS, TcpdumpBackend, type LiveCaptureBackend } from '../capture/live-capture.js';
import { NdjsonSink } from '../events/ndjson-sink.js';
import type { EventSink, MuvaktEvent } from '../events/types.js';
import { AlertingSink, alertForExport } from '../alerts.js';
import { AlertStore } from '../store/index.js';
import { InventorySink } from '../inventory/sink.js';
import { isoMicro } from '../events/format.js';
import { DEFAULT_FLOW_LIMITS } from '../flows/flow-table.js';
import { createLogger } from '../log.js';
import { Pipeline } from '../pipeline.js';
import { positiveInt, UsageError } from './args.js';
import { formatSummary } from './summary.js';

export const RUN_USAGE = `muvakt run --interface IFACE [--filter BPF] [--policy FILE] [--db FILE] [--events FILE|-] [--alerts FILE|-]
           [--snaplen N] [--buffer-mb N] [--no-promisc] [--stats-interval S] [--max-flows N] [--pseudonym-key FILE]

  Captures live from IFACE (a SPAN/mirror port) through tcpdump/libpcap. Never transmits.
  Stops on SIGINT/SIGTERM: flows are flushed, then it exits 0.
  --filter BPF          capture filter, e.g. "not port 22"
  --policy FILE         judge traffic against the site policy; alerts go to the store (--db, default muvakt.db)
  --alerts FILE         also write each new or reopened alert as NDJSON ("-" = stdout)
  --buffer-mb N         kernel capture buffer (default ${DEFAULT_LIVE_OPTIONS.bufferKiB / 1024} MiB)
  --snaplen N           bytes kept per frame (default ${DEFAULT_LIVE_OPTIONS.snaplen})
  --no-promisc          do not put the interface in promiscuous mode
  --stats-interval S    seconds between capture-statistics events and log lines (default 10)
`;

export async function runCommand(argv: string[]): Promise<number> {
  let v: Record<string, string | boolean | undefined>;
  try {
    v = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        interface: { type: 'string', short: 'i' },
        filter: { type: 'string' },
        events: { type: 'string' },
        alerts: { type: 'string' },
        policy: { type: 'string' },
        db: { type: 'string' },
        snaplen: { type: 'string' },
        'buffer-mb': { type: 'string' },
        'no-promisc': { type: 'boolean', default: false },
        'stats-interval': { type: 'string' },
        'max-flows': { type: 'string' },
        'pseudonym-key': { type: 'string' },
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
  const iface = v.interface as string | undefined;
  if (!iface) throw new UsageError('run needs --interface IFACE');
  const snaplen = positiveInt('snaplen', v.snaplen as string | undefined, DEFAULT_LIVE_OPTIONS.snaplen);
  const bufferKiB = positiveInt('buffer-mb', v['buffer-mb'] as string | undefined, DEFAULT_LIVE_OPTIONS.bufferKiB / 1024) * 1024;
  const statsInterval = positiveInt('stats-interval', v['stats-interval'] as string | undefined, 10);
  const maxFlows = positiveInt('max-flows', v['max-flows'] as string | undefined, DEFAULT_FLOW_LIMITS.maxFlows);
  const log = createLogger();

  let sink: EventSink;
  try {
    sink = v.events ? new NdjsonSink(v.events as string) : { write() {}, flush() {}, close() {} };
  } catch (e) {
    throw new UsageError(`cannot write events to ${v.events}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (v.alerts && !v.policy) throw new UsageError('--alerts needs --policy: alerts are judged against the site policy');
  const { policy, registry } = prepareAnalysis({ policyFile: v.policy as string | undefined, pseudonymKeyFile: v['pseudonym-key'] as string | undefined });
  const inventory = new InventorySink(sink, policy);
  sink = inventory;
  let alerting: AlertingSink | null = null;
  if (policy) {
    const dbFile = (v.db as string | undefined) ?? 'muvakt.db';
    let store: AlertStore;
    try {
      store = AlertStore.open(dbFile, { retentionDays: policy.retentionDays });
    } catch (e) {
      throw new UsageError(`cannot open the store ${dbFile}: ${(e as Error).message}`);
    }
    const alertOut = v.alerts ? new NdjsonSink(v.alerts as string) : null;
    alerting = new AlertingSink(sink, policy, store, (r) => {
      // A SIEM wants to hear of an alert once it is stored: new ones and ones that came back.
      if (alertOut) {
        for (const a of [...r.created, ...r.reopened]) alertOut.write(alertForExport(a) as unknown as MuvaktEvent);
        alertOut.flush();
      }
    });
    sink = alerting;
  }
  const pipeline = new Pipeline({ events: sink, registry, flowLimits: { ...DEFAULT_FLOW_LIMITS, maxFlows } });
  const backend: LiveCaptureBackend = new TcpdumpBackend({
    iface,
    filter: v.filter as string | undefined,
    snaplen,
    bufferKiB,
    promiscuous: !v['no-promisc'],
  });
  const t0 = process.hrtime.bigint();
  try {
    await backend.start(pipeline.handle);
  } catch (e) {
    const msg = e instanceof CaptureBackendMissing ? e.message : `cannot capture on ${iface}: ${(e as Error).message}`;
    process.stderr.write(`muvakt: ${msg}\n`);
    sink.close();
    return 1;
  }
  log.info({ interface: iface, backend: backend.name, bufferKiB, snaplen }, 'capture started');

  const emitStats = () => {
    const now = Date.now();
    sink.write({
      ts: isoMicro(Math.floor(now / 1000), (now % 1000) * 1e6),
      type: 'stats',
      capture: { interface: iface, received: backend.stats.received, dropped: backend.stats.dropped, if_dropped: backend.stats.ifDropped },
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
  }, statsInterval * 1000);

  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  clearInterval(ticker);
  clearInterval(statsTimer);
  let error: string | undefined;
  try {
    await backend.stop();
  } catch (e) {
    error = (e as Error).message;
  }
  pipeline.finish('shutdown');
  emitStats();
  sink.close();
  if (alerting) {
    inventory.save(alerting.store, alerting.allAlerts());
    alerting.store.close();
  }
  const wallSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  log.info({ received: backend.stats.received, dropped: backend.stats.dropped, packets: pipeline.stats.packets }, 'capture stopped');
  process.stderr.write(formatSummary(pipeline, { wallSeconds, captureBytes: pipeline.stats.bytes, files: 0, captureDrops: backend.stats.dropped, error }));
  return 0;
}
