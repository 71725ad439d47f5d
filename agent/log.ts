import { pino, type Logger } from 'pino';

/**
 * The process logger: JSON lines on stderr for SIEMs (LEV 6.3). Log calls carry counters,
 * file names and interface names — never payload, patient values or credentials.
 */
export function createLogger(level: string = process.env.MUVAKT_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name: 'muvakt', level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
}
