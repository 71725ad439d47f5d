import { ConfigError } from '../errors.js';

/**
 * A command-line mistake (unknown option, missing argument): exit code 2 and a pointer to
 * "muvakt help". A kind of ConfigError, so whatever handles bad configuration handles it too.
 */
export class UsageError extends ConfigError {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** `--sensor NAME`, checked; default this machine's host name (made into a valid name). */
export async function sensorOption(v: string | undefined): Promise<string> {
  // Loaded only when a store is written: `analyze` without a policy loads nothing of the store.
  const { defaultSensorName, sensorNameProblem } = await import('../store/sensor-name.js');
  if (v === undefined) return defaultSensorName();
  const problem = sensorNameProblem(v);
  if (problem !== null) throw new UsageError(`--sensor: ${problem}`);
  return v;
}

/** `--lang en|nb`, checked; `dflt` when not given. */
export function languageOption(v: string | undefined, dflt: 'en' | 'nb'): 'en' | 'nb' {
  const lang = v ?? dflt;
  if (lang !== 'en' && lang !== 'nb') throw new UsageError(`--lang expects en or nb, got "${lang}"`);
  return lang;
}

export function positiveInt(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} expects a positive integer, got "${v}"`);
  return n;
}

/**
 * `--log-format json|pretty`: forces the log format for this process and its worker threads
 * (through MUVAKT_LOG_FORMAT, which createLogger reads). Without it: pretty on a terminal, JSON otherwise.
 */
export function applyLogFormat(v: string | undefined): void {
  if (v === undefined) return;
  if (v !== 'json' && v !== 'pretty') throw new UsageError(`--log-format expects json or pretty, got "${v}"`);
  process.env.MUVAKT_LOG_FORMAT = v;
}
