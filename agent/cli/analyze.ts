import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readCaptureFile } from '../capture/capture-file.js';
import { CaptureFormatError, type PacketRecord } from '../capture/packet-record.js';
import { NdjsonSink } from '../events/ndjson-sink.js';
import type { MuvaktEvent } from '../events/types.js';
import { isoMicro } from '../events/format.js';
import { assembleSensor, type SensorAssembly } from '../sensor/assembly.js';
import { formatAlertSummary, formatDeviceSummary, formatSummary } from '../sensor/summary.js';
import { applyLogFormat, positiveInt, sensorOption, UsageError } from './args.js';
import { ProgressBar } from './progress.js';
import { MEMORY_PARSE_OPTIONS, MEMORY_USAGE, memoryBounds, memoryEpisodeText } from './memory-options.js';
import { SYSLOG_PARSE_OPTIONS, syslogOptions } from './syslog-options.js';
import { WORKERS_PARSE_OPTIONS, WORKERS_USAGE, workersOption } from './workers-option.js';

export const ANALYZE_USAGE = `muvakt analyze <capture>... [--policy FILE] [--db FILE|URL] [--sensor NAME] [--events FILE|-] [--alerts FILE|-]
                [--quiet] [--workers N] [--max-flows N] [--max-devices N] [--max-analyzer-states N] [--memory-ceiling SIZE] [--pseudonym-key FILE]
                [--syslog HOST:PORT [--syslog-format rfc5424|cef|ecs] [--syslog-ca FILE] [--syslog-spool DIR]
                [--syslog-facility NAME] [--syslog-timeout S]] [--log-format json|pretty]

  Reads pcap (µs/ns, either byte order) and pcapng files in order, as one capture.
  --policy FILE   judge the traffic against this site policy (alerts need one; see deploy/)
  --db FILE|URL   keep alerts in this SQLite file or PostgreSQL database (postgres://…;
                  default: $MUVAKT_DB, else in memory for this run)
  --sensor NAME   the name stored with the alerts, devices and flow history (default: the host name)
  --events FILE   write events as NDJSON to FILE ("-" = stdout; the summary then goes to stderr)
  --alerts FILE   write the run's alerts as NDJSON to FILE ("-" = stdout)
  --quiet         no progress bar and no summary
${WORKERS_USAGE}  --pseudonym-key FILE  the site's HMAC key for pseudonyms (default: a random key for this run only)
${MEMORY_USAGE}  --syslog HOST:PORT    backfill: send the run's new and reopened alerts to a SIEM over TCP (TLS with
                        --syslog-ca FILE), as "run --syslog" does live; waits until they are delivered
                        (at most --syslog-timeout S, default 30) and exits 1 if they were not, leaving them
                        in the spool (--syslog-spool DIR, default a temporary one) for a later run
  --syslog-format F     rfc5424 (default), cef (ArcSight CEF in a syslog message) or ecs (Elastic Common
                        Schema, one JSON document a line)
  --syslog-facility F   syslog facility (default local4)
`;

/**
 * Bytes read (and analysed) at a time; the event loop turns every YIELD_MS at most, between chunks. What the packets of one turn
 * end (under a flood, a flow evicted for every new one) waits in the alert writer's batch until
 * a turn commits it: at 128 KiB (some 1,900 minimal frames) those candidates still die in
 * the young generation; at 1 MiB they were promoted by the thousand and filled the old one.
 */
const READ_CHUNK = 128 * 1024;
/** How often reading stops to let signals (SIGINT) and the progress bar through. */
const YIELD_MS = 50;

/** `muvakt analyze`: returns the process exit code. */
export async function analyzeCommand(argv: string[]): Promise<number> {
  let values: {
    events?: string; alerts?: string; policy?: string; db?: string; sensor?: string; quiet?: boolean; 'max-flows'?: string; 'pseudonym-key'?: string; help?: boolean;
    syslog?: string; 'syslog-ca'?: string; 'syslog-spool'?: string; 'syslog-facility'?: string; 'syslog-format'?: string; 'syslog-timeout'?: string; 'log-format'?: string;
    'max-devices'?: string; 'max-analyzer-states'?: string; 'memory-ceiling'?: string; workers?: string;
  };
  let files: string[];
  try {
    const parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        events: { type: 'string' },
        alerts: { type: 'string' },
        policy: { type: 'string' },
        db: { type: 'string' },
        sensor: { type: 'string' },
        quiet: { type: 'boolean', default: false },
        ...MEMORY_PARSE_OPTIONS,
        ...WORKERS_PARSE_OPTIONS,
        'pseudonym-key': { type: 'string' },
        ...SYSLOG_PARSE_OPTIONS,
        'syslog-timeout': { type: 'string' },
        'log-format': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    values = parsed.values;
    files = parsed.positionals;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values.help) {
    process.stdout.write(ANALYZE_USAGE);
    return 0;
  }
  if (files.length === 0) throw new UsageError('analyze needs at least one capture file');
  const bounds = memoryBounds(values);
  const workers = workersOption(values.workers);

  if (values.alerts && !values.policy) throw new UsageError('--alerts needs --policy: alerts are judged against the site policy');
  if (values.events === '-' && values.alerts === '-') throw new UsageError('--events and --alerts cannot both go to stdout');
  if (values['syslog-timeout'] !== undefined && !values.syslog) throw new UsageError('--syslog-timeout needs --syslog HOST:PORT');
  const syslogTimeoutS = positiveInt('syslog-timeout', values['syslog-timeout'], 30);
  const syslog = await syslogOptions(values, '');
  // Without --syslog-spool: a spool of this run's own, removed once everything is delivered.
  const tempSpool = syslog && !values['syslog-spool'] ? (syslog.spoolDir = mkdtempSync(join(tmpdir(), 'muvakt-backfill-'))) : undefined;
  applyLogFormat(values['log-format']);
  // pino only when something is logged (the exporter's connection news).
  const log = syslog ? (await import('../log.js')).createLogger() : undefined;
  const sensor = await assembleSensor({
    policyFile: values.policy,
    pseudonymKeyFile: values['pseudonym-key'],
    eventsFile: values.events,
    dbFile: values.db,
    sensor: values.policy ? await sensorOption(values.sensor) : undefined,
    ...bounds,
    workers,
    onMemory: (e) => process.stderr.write(`muvakt: ${memoryEpisodeText(e)}\n`),
    alertStream: syslog && log ? { syslog, log } : undefined,
  });
  const { pipeline, inventory, alerting } = sensor;
  const sink = sensor.events;
  // Whatever goes to stdout as NDJSON (events or alerts) keeps it to itself, so `| jq` parses it.
  const summaryToStderr = values.events === '-' || values.alerts === '-';
  // The stream is taken when the summary is written: touching process.stdout loads Node's streams (~2 ms) before the first packet.
  const summaryOut = { write: (text: string) => (summaryToStderr ? process.stderr : process.stdout).write(text) };
  let stop = false;
  const onSignal = () => {
    stop = true;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const handle = firstPacketMark(pipeline) ?? pipeline.handle;
  const t0 = process.hrtime.bigint();
  let captureBytes = 0;
  let lastYield = Date.now();
  const errors: string[] = [];
  try {
    for (const file of files) {
      if (stop) break;
      const bar = values.quiet ? null : new ProgressBar(file);
      try {
        const r = await readCaptureFile(file, handle, {
          chunkSize: READ_CHUNK,
          onChunk: async (p) => {
            // Let signals and the progress bar through between chunks, every YIELD_MS: a turn
            // of the event loop per 1 MiB chunk cost about 20 µs each, 1,300 of them a GB.
            const now = Date.now();
            if (now - lastYield < YIELD_MS) return;
            lastYield = now;
            bar?.update(p.bytesRead, p.totalBytes, pipeline.stats.packets);
            await new Promise<void>((resolve) => setImmediate(resolve));
          },
          shouldStop: () => stop,
        });
        captureBytes += r.bytes;
      } catch (e) {
        // A broken file ends that file only: what it held so far is analysed, the next file follows.
        if (!(e instanceof CaptureFormatError)) throw e;
        errors.push(e.message);
        const now = Date.now();
        sink.write({ ts: isoMicro(Math.floor(now / 1000), (now % 1000) * 1e6), type: 'capture.error', source: e.source, byte_offset: e.byteOffset, reason: e.reason });
        process.stderr.write(`muvakt: ${e.message}\n`);
      } finally {
        bar?.done();
      }
    }
  } catch (e) {
    // Worker threads would keep the process alive after the error.
    if ('abort' in pipeline) await pipeline.abort();
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const error = errors.length > 0 ? errors.join('; ') : undefined;
  // Flows seen before a truncated record are reported like any other.
  await pipeline.finishInBatches('shutdown');
  // Events flushed, the last alerts committed (and, with --syslog, confirmed by the SIEM or timed out),
  // the inventory saved (ranked against every alert) and the store closed.
  const alerts = await sensor.close({ deliverWithinMs: syslogTimeoutS * 1000 });
  const undelivered = sensor.syslog ? sensor.syslog.stats.pendingBytes : 0;
  const wallSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (!values.quiet) {
    const c = inventory.inventory.counters;
    const bounds = { devicesEvicted: c.devices_evicted, devicesShed: c.devices_shed, devicesDropped: c.devices_dropped + c.external_devices_dropped, memoryEpisodes: sensor.memory?.episodes ?? 0 };
    summaryOut.write(formatSummary(pipeline, { wallSeconds, captureBytes, files: files.length, error, bounds }));
    summaryOut.write(`peak memory (RSS)  ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB\n`);
  }
  if (!values.quiet) summaryOut.write(formatDeviceSummary(inventory.counts()));
  if (alerting) {
    if (!values.quiet) summaryOut.write(formatAlertSummary(alerts, sensor.storeLocation === ':memory:' ? undefined : (sensor.storeLocation ?? undefined)));
    if (values.alerts) {
      const { alertForExport } = await import('../alerts.js');
      const out = new NdjsonSink(values.alerts);
      for (const a of alerts) out.write(alertForExport(a) as unknown as MuvaktEvent);
      out.close();
    }
  }
  if (sensor.syslog) {
    if (undelivered > 0) {
      process.stderr.write(`muvakt: ${undelivered} byte(s) of alerts not confirmed by the SIEM at ${values.syslog} within ${syslogTimeoutS} s; they stay in the spool ${syslog!.spoolDir} (a later run with --syslog-spool ${syslog!.spoolDir} sends them)\n`);
      return 1;
    }
    if (!values.quiet) summaryOut.write(`syslog             ${sensor.syslog.stats.enqueued} alert(s) delivered to ${values.syslog} (${syslog!.format})\n`);
    if (tempSpool) rmSync(tempSpool, { recursive: true, force: true });
  }
  return error ? 1 : 0;
}

/**
 * With MUVAKT_MARK_FIRST_PACKET=1 (the bench's start-up figure): a handler that prints, once,
 * when the first packet has been through the pipeline: as process.hrtime (the monotonic clock,
 * in ns, which another process on the host can set against its own; the bench takes it just
 * before it spawns the CLI) and in ms after the process started. Absent otherwise, so the packet
 * path is the pipeline's own handler.
 */
function firstPacketMark(pipeline: { handle: (rec: PacketRecord) => void }): ((rec: PacketRecord) => void) | null {
  if (process.env.MUVAKT_MARK_FIRST_PACKET !== '1') return null;
  let marked = false;
  return (rec) => {
    pipeline.handle(rec);
    if (marked) return;
    marked = true;
    // Both clocks first (not `performance`, which loads perf_hooks); then the first use of
    // process.stderr, which loads Node's streams: the mark's own cost, not start-up's.
    const at = process.hrtime.bigint();
    const sinceStart = process.uptime() * 1000;
    process.stderr.write(`muvakt: first packet at hrtime ${at} ns (${sinceStart.toFixed(1)} ms after the process started)\n`);
  };
}
