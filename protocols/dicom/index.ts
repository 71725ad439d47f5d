/** The DICOM analyzer's public surface, for the agent's analyzer registry. */
export {
  DicomStreamParser,
  DEFAULT_MAX_PDU_LENGTH,
  type DicomParserOptions,
  type DicomCounters,
  type DicomMetricsHooks,
} from './parser.js';
export { probeDicom } from './probe.js';
export type * from './records.js';
export { sopClassName } from './sop-classes.js';
export { transferSyntaxName } from './transfer-syntax.js';
export { statusClass, statusMeaning, type StatusClass } from './status.js';
export { commandName } from './command-set.js';
