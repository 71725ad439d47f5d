export { probeTls } from './probe.js';
export { TlsStreamParser, DEFAULT_MAX_MESSAGE_LENGTH, type TlsParserOptions, type TlsMetricsHooks } from './parser.js';
export type { TlsHandshakeRecord, TlsCounters, WeakReason } from './records.js';
export type { CertificateInfo } from './certificate.js';
export { cipherSuiteName, cipherSuiteWeaknesses, isGrease, hex16 } from './cipher-suites.js';
export { versionName } from './constants.js';
