import * as Type from 'typebox';
import { type Static } from 'typebox';
import { closed, flowEventSchema, oneOf, Strings, WireDirectionSchema, type RecordOf } from './common.js';

/** HL7 v2 over MLLP. Nothing here is a patient value: identities appear only as field names. */

const identity = {
  direction: WireDirectionSchema,
  message_type: Type.String({ description: 'MSH-9.1^MSH-9.2, e.g. ADT^A01' }),
  control_id: Type.String({ description: 'MSH-10' }),
  version: Type.String({ description: 'MSH-12.1' }),
  sending_application: Type.String({ description: 'MSH-3 (HD components joined with ^)' }),
  sending_facility: Type.String({ description: 'MSH-4' }),
  receiving_application: Type.String({ description: 'MSH-5' }),
  receiving_facility: Type.String({ description: 'MSH-6' }),
};

export const Hl7MessageEventSchema = flowEventSchema('hl7.message', 'One per HL7 v2 message (including acknowledgements)', {
  ...identity,
  message_structure: Type.String({ description: 'MSH-9.3, e.g. ADT_A01 (empty when absent)' }),
  processing_id: Type.String({ description: 'MSH-11.1: P production, T training, D debugging' }),
  message_datetime: Type.String({ description: 'MSH-7.1 as sent' }),
  charset: Type.String({ description: 'MSH-18 normalised (empty = not declared)' }),
  ack_code: Type.Optional(Type.String({ description: 'ACK code of the response that answered this message (AA AE AR CA CE CR)' })),
  ack_latency_ms: Type.Optional(Type.Number()),
  acknowledgment: Type.Optional(
    closed(
      { code: Type.String({ description: 'MSA-1' }), control_id: Type.String({ description: 'MSA-2' }), error_codes: Strings('ERR-3 codes'), severities: Strings('ERR-4 severities') },
      'Present when this message is itself a response (has MSA)',
    ),
  ),
  batch_control_id: Type.Optional(Type.String({ description: 'BHS-11 (or FHS-11) when the message came in a batch' })),
  equipment_ids: Strings('PRT-16 / OBX-18 equipment instance identifiers, as keyed pseudonyms (`equipment_id:<hex>`)'),
  phi_fields: Strings('Patient-identifying fields present, e.g. PID-3, PID-5'),
  unterminated: Type.Optional(Type.Boolean({ description: 'The frame had no MLLP end block' })),
});
export type Hl7MessageEvent = Static<typeof Hl7MessageEventSchema>;

export const Hl7UndeliveredEventSchema = flowEventSchema('hl7.undelivered', 'A message that was refused, not acknowledged in time, or left unanswered when the connection closed', {
  ...identity,
  reason: oneOf(['negative-ack', 'ack-timeout', 'connection-closed'], 'Why the message counts as undelivered'),
  ack_code: Type.Optional(Type.String({ description: 'negative-ack: the code' })),
  ack_latency_ms: Type.Optional(Type.Number()),
  error_codes: Type.Optional(Strings('negative-ack: ERR codes')),
  waited_ms: Type.Optional(Type.Number({ description: 'ack-timeout / connection-closed: how long the message had waited' })),
  end_reason: Type.Optional(oneOf(['fin', 'rst', 'timeout', 'evicted', 'shutdown'], 'connection-closed: how the connection ended')),
  capture_loss: Type.Optional(Type.Boolean({ description: 'Bytes were lost in the ACK direction while waiting: the ACK may have been sent but not captured' })),
});
export type Hl7UndeliveredEvent = Static<typeof Hl7UndeliveredEventSchema>;

export type Hl7MessageRecord = RecordOf<Hl7MessageEvent>;
export type Hl7UndeliveredRecord = RecordOf<Hl7UndeliveredEvent>;
