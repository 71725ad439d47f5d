import type { Direction, StreamEndReason } from '../stream.js';

/**
 * What the HL7 analyzer emits. Field names follow the `hl7.message` / `phi.observed` event
 * contracts in docs/events.md; the agent adds `ts` (ISO) and `flow`. Nothing here is a
 * patient value: identities appear only as field names, kinds and keyed pseudonyms.
 */

interface Hl7RecordBase {
  /** Capture time of the chunk that completed the message (or of the detection, for undelivered). */
  ts_sec: number;
  ts_nsec: number;
  /** Direction the message travelled (0 = from the connection's initiator). */
  direction: Direction;
}

export interface Hl7Identity {
  /** MSH-9.1^MSH-9.2, e.g. `ADT^A01` */
  message_type: string;
  /** MSH-10 */
  control_id: string;
  /** MSH-12.1 */
  version: string;
  /** MSH-3 … MSH-6 (HD components joined with '^') */
  sending_application: string;
  sending_facility: string;
  receiving_application: string;
  receiving_facility: string;
}

export interface Hl7MessageRecord extends Hl7RecordBase, Hl7Identity {
  type: 'hl7.message';
  /** MSH-9.3, e.g. `ADT_A01` ('' when absent) */
  message_structure: string;
  /** MSH-11.1: P production, T training, D debugging */
  processing_id: string;
  /** MSH-7.1 as sent */
  message_datetime: string;
  /** MSH-18 normalised ('' = not declared) */
  charset: string;
  /** ACK code of the response that answered this message (AA AE AR CA CE CR). */
  ack_code?: string;
  ack_latency_ms?: number;
  /** Present when this message is itself a response (has MSA). */
  acknowledgment?: { code: string; control_id: string; error_codes: string[]; severities: string[] };
  /** BHS-11 (or FHS-11) when the message came in a batch. */
  batch_control_id?: string;
  /** PRT-16 / OBX-18 equipment instance identifiers (EI), for the device inventory. */
  equipment_ids: string[];
  /** Patient-identifying fields present, e.g. ["PID-3","PID-5"] */
  phi_fields: string[];
  /** The frame had no MLLP end block (sender omitted it, or the connection ended mid-frame). */
  unterminated?: boolean;
}

export type Hl7UndeliveredReason = 'negative-ack' | 'ack-timeout' | 'connection-closed';

export interface Hl7UndeliveredRecord extends Hl7RecordBase, Hl7Identity {
  type: 'hl7.undelivered';
  reason: Hl7UndeliveredReason;
  /** negative-ack: the code and ERR codes. */
  ack_code?: string;
  ack_latency_ms?: number;
  error_codes?: string[];
  /** ack-timeout / connection-closed: how long the message had waited. */
  waited_ms?: number;
  /** connection-closed: how the connection ended. */
  end_reason?: StreamEndReason;
  /** Bytes were lost in the ACK direction while waiting: the ACK may have been sent but not captured. */
  capture_loss?: boolean;
}

export interface PhiObservedRecord extends Hl7RecordBase {
  type: 'phi.observed';
  protocol: 'hl7';
  /** e.g. ["fodselsnummer","patient-id"] */
  kinds: string[];
  count: number;
  /** keyed HMAC pseudonyms, never the values */
  pseudonyms: string[];
  phi_fields: string[];
  /** MSH-10 of the message that carried them */
  control_id: string;
}

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
