import type { SyslogExporterOptions } from '../export/syslog.js';
import { SIEM_FORMATS, type SiemFormat } from '../export/siem-record.js';
import { UsageError } from './args.js';

/** The parseArgs options `run` and `analyze` share for the SIEM exporter. */
export const SYSLOG_PARSE_OPTIONS = {
  syslog: { type: 'string' },
  'syslog-ca': { type: 'string' },
  'syslog-spool': { type: 'string' },
  'syslog-facility': { type: 'string' },
  'syslog-format': { type: 'string' },
} as const;

export const SYSLOG_USAGE = `  --syslog HOST:PORT    send alerts to a SIEM over TCP (TLS with --syslog-ca FILE), spooled on disk
                        (--syslog-spool DIR) so nothing is lost while the SIEM is down
  --syslog-format F     rfc5424 (default: syslog with the facts as structured data), cef (ArcSight CEF
                        in a syslog message) or ecs (Elastic Common Schema, one JSON document a line)
  --syslog-facility F   syslog facility (default local4)
`;

/** The exporter's options from the command line, or undefined without --syslog (UsageError for bad ones). */
export async function syslogOptions(v: Record<string, unknown>, defaultSpool: string): Promise<Omit<SyslogExporterOptions, 'onEvent'> | undefined> {
  for (const k of ['syslog-ca', 'syslog-spool', 'syslog-facility', 'syslog-format'] as const) {
    if (v[k] !== undefined && !v.syslog) throw new UsageError(`--${k} needs --syslog HOST:PORT`);
  }
  if (!v.syslog) return undefined;
  if (!v.policy) throw new UsageError('--syslog needs --policy: it exports the alerts judged against it');
  // Loaded only with --syslog: analyze without it loads nothing of the API's.
  const { parseListen } = await import('../../dashboard-api/listen.js');
  const target = parseListen(v.syslog as string);
  if (typeof target === 'string') throw new UsageError(target.replace(/--listen/g, '--syslog'));
  const format = (v['syslog-format'] as string | undefined) ?? 'rfc5424';
  if (!(SIEM_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--syslog-format: expected one of ${SIEM_FORMATS.join(', ')}, got "${format}"`);
  return {
    host: target.host,
    port: target.port,
    format: format as SiemFormat,
    spoolDir: (v['syslog-spool'] as string | undefined) ?? defaultSpool,
    facility: (v['syslog-facility'] as string | undefined) ?? 'local4',
    tls: v['syslog-ca'] ? { caFile: v['syslog-ca'] as string } : undefined,
  };
}
