/** HL7 v2 analyzer: the surface the agent wires in. */
export { Hl7StreamParser, type Hl7ParserOptions } from './parser.js';
export { probeHl7 } from './probe.js';
export { healthContentKind, isHealthContentType, type HealthContentKind } from './content-type.js';
export { DEFAULT_MAX_MESSAGE_SIZE } from './framing.js';
export { DEFAULT_ACK_TIMEOUT_MS, DEFAULT_MAX_OUTSTANDING } from './ack-tracker.js';
export type {
  Hl7Counters,
  Hl7MessageRecord,
  Hl7Record,
  Hl7UndeliveredReason,
  Hl7UndeliveredRecord,
  PhiObservedRecord,
} from './records.js';
