import { writeSync } from 'node:fs';
import { isatty } from 'node:tty';
import { pino, type DestinationStream, type Logger } from 'pino';
import { prettyLogLine } from './log-pretty.js';

export type LogFormat = 'json' | 'pretty';
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];

/**
 * JSON lines unless asked otherwise (MUVAKT_LOG_FORMAT, set by --log-format) or stderr is a
 * terminal: a person reading a terminal gets one readable line per record, a service manager,
 * a pipe or a file gets JSON for the SIEM. fd-based, so a worker thread decides the same way.
 */
export function logFormat(env: string | undefined = process.env.MUVAKT_LOG_FORMAT): LogFormat {
  if (env === 'json' || env === 'pretty') return env;
  return isatty(2) ? 'pretty' : 'json';
}

/** pino's JSON lines, rewritten as readable lines on stderr (our own formatter: pino-pretty is not a dependency). */
function prettyStderr(colour: boolean): DestinationStream {
  return {
    write(line: string) {
      writeSync(2, prettyLogLine(line, colour));
    },
  };
}

/**
 * The process logger: JSON lines on stderr for SIEMs (LEV 6.3), or pretty ones on a terminal.
 * Log calls carry counters, file names and interface names — never payload, patient values or
 * credentials.
 */
export function createLogger(level: string = process.env.MUVAKT_LOG_LEVEL ?? 'info', format: LogFormat = logFormat()): Logger {
  const dest = format === 'pretty' ? prettyStderr(isatty(2) && process.env.NO_COLOR === undefined) : pino.destination({ fd: 2, sync: true });
  return pino({ name: 'muvakt', level, base: { pid: process.pid } }, dest);
}
