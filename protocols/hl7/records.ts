import type { Hl7MessageRecord, Hl7UndeliveredRecord, PhiObservedRecord } from '../events/index.js';

/**
 * What the HL7 analyzer emits: the `hl7.message`, `hl7.undelivered` and `phi.observed` events
 * of the contract (protocols/events/) with their capture time as numbers; the agent adds `ts`
 * and `flow`. Nothing here is a patient value: identities appear only as field names, kinds
 * and keyed pseudonyms.
 */
export type { Hl7MessageRecord, Hl7UndeliveredRecord, PhiObservedRecord };

export type Hl7UndeliveredReason = Hl7UndeliveredRecord['reason'];

export type Hl7Record = Hl7MessageRecord | Hl7UndeliveredRecord | PhiObservedRecord;

export interface Hl7Counters {
  /** Frames handed over by the framer (HL7 or not). */
  frames: number;
  /** HL7 messages parsed (including responses). */
  messages: number;
  /** Messages carrying MSA. */
  responses: number;
  batches: number;
  /** Frames that did not start with MSH/FHS/BHS. */
  nonHl7Frames: number;
  /** Messages with more segments/fields than the scanner keeps. */
  truncatedMessages: number;
  oversizeFrames: number;
  oversizeBytes: number;
  bytesOutsideFrames: number;
  unterminatedFrames: number;
  framesLostToGap: number;
  commitAcks: number;
  commitNaks: number;
  acksMatched: number;
  /** Responses whose MSA-2 matched nothing outstanding (late, duplicate, or the message was not seen). */
  acksUnmatched: number;
  negativeAcks: number;
  ackTimeouts: number;
  closedOutstanding: number;
  /** Outstanding messages evicted at the per-connection cap (reported without an ACK). */
  outstandingOverflow: number;
  gaps: number;
  gapBytes: number;
  phiMessages: number;
}
