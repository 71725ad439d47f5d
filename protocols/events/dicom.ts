import * as Type from 'typebox';
import { type Static } from 'typebox';
import { closed, flowEventSchema, oneOf, Strings, WireDirectionSchema, type RecordOf } from './common.js';

/**
 * DICOM upper layer and DIMSE (PS3.8, PS3.7). Nothing here is a patient value: patient IDs
 * appear only as keyed pseudonyms, other patient elements only as tag names, user identity
 * only as flags.
 */

const Uid = (description: string) => Type.String({ description });

export const RoleSelectionSchema = closed({ sop_class_uid: Uid('SOP class'), scu: Type.Boolean(), scp: Type.Boolean() }, 'SCP/SCU role selection item');
export const ExtendedNegotiationSchema = closed(
  { sop_class_uid: Uid('SOP class'), info_length: Type.Integer({ description: 'Length of the service-class-specific info; the bytes are not kept' }) },
  'SOP class extended negotiation item',
);
export const CommonExtendedNegotiationSchema = closed({ sop_class_uid: Uid('SOP class'), service_class_uid: Uid('Service class') }, 'SOP class common extended negotiation item');
export const AsyncOpsWindowSchema = closed({ invoked: Type.Integer(), performed: Type.Integer() }, 'Asynchronous operations window');

export const UserIdentitySchema = closed(
  {
    type: Type.Integer({ description: 'User identity type (1 username, 2 username and passcode, 3 Kerberos, 4 SAML, 5 JWT)' }),
    type_name: Type.String(),
    username_present: Type.Boolean(),
    password_present: Type.Boolean(),
    token_present: Type.Boolean({ description: 'Kerberos ticket, SAML assertion or JWT present (types 3–5)' }),
    positive_response_requested: Type.Boolean(),
    username_pseudonym: Type.Optional(Type.String({ description: 'Keyed pseudonym of the username (never the name)' })),
    server_response_present: Type.Optional(Type.Boolean({ description: 'The A-ASSOCIATE-AC answered with a User Identity item' })),
  },
  'User Identity Negotiation, as flags',
);

export const AcceptedContextSchema = closed(
  { id: Type.Integer(), abstract_syntax: Uid('Abstract syntax (SOP class)'), abstract_syntax_name: Type.Optional(Type.String()), transfer_syntax: Uid('Transfer syntax chosen') },
  'An accepted presentation context',
);

export const NegotiatedContextSchema = closed(
  {
    id: Type.Integer(),
    abstract_syntax: Uid('Abstract syntax (SOP class)'),
    proposed_transfer_syntaxes: Strings('Transfer syntaxes proposed'),
    result: Type.Optional(Type.Integer({ description: 'A-ASSOCIATE-AC result (0 acceptance … 4 transfer-syntaxes-not-supported); absent without an AC' })),
    result_name: Type.Optional(Type.String()),
    transfer_syntax: Type.Optional(Uid('The transfer syntax the acceptor chose (accepted contexts only)')),
  },
  'One presentation context: what the request proposed and, once the AC is seen, its answer',
);

export const RejectInfoSchema = closed(
  { result: Type.Integer(), result_name: Type.String(), source: Type.Integer(), source_name: Type.String(), reason: Type.Integer(), reason_name: Type.String() },
  'A-ASSOCIATE-RJ',
);

export const AbortInfoSchema = closed(
  { source: Type.Integer(), source_name: Type.String(), reason: Type.Integer(), reason_name: Type.String(), direction: WireDirectionSchema },
  'A-ABORT, and which side sent it',
);

export const DicomAssociationEventSchema = flowEventSchema('dicom.association', 'One per DICOM association, when it ends (release, abort, reject or end of connection)', {
  start: Type.String({ description: 'Capture time of the A-ASSOCIATE-RQ (ISO 8601 UTC, microseconds)' }),
  duration_ms: Type.Number({ description: 'From the request to the end' }),
  calling_ae: Type.String({ description: 'Calling AE title (the requestor)' }),
  called_ae: Type.String({ description: 'Called AE title' }),
  result: oneOf(['accepted', 'rejected', 'aborted', 'released', 'incomplete'], 'How the association went'),
  reject_reason: Type.Optional(Type.String()),
  reject: Type.Optional(RejectInfoSchema),
  abort: Type.Optional(AbortInfoSchema),
  application_context: Type.String(),
  abstract_syntaxes: Strings('Proposed abstract syntaxes (UIDs), in proposal order, without repeats'),
  transfer_syntaxes: Strings('Transfer syntaxes the acceptor chose, without repeats'),
  proposed_transfer_syntaxes: Strings('Transfer syntaxes proposed, without repeats'),
  accepted_contexts: Type.Array(AcceptedContextSchema),
  presentation_contexts: Type.Array(NegotiatedContextSchema, { description: 'Every proposed context with its result' }),
  max_pdu_length: Type.Optional(Type.Integer({ description: 'The requestor\'s maximum PDU length' })),
  implementation_class_uid: Type.Optional(Type.String({ description: 'The requestor\'s implementation class UID' })),
  implementation_version: Type.Optional(Type.String({ description: 'The requestor\'s implementation version name' })),
  acceptor_max_pdu_length: Type.Optional(Type.Integer()),
  acceptor_implementation_class_uid: Type.Optional(Type.String()),
  acceptor_implementation_version: Type.Optional(Type.String()),
  async_ops: Type.Optional(AsyncOpsWindowSchema),
  acceptor_async_ops: Type.Optional(AsyncOpsWindowSchema),
  role_selection: Type.Optional(Type.Array(RoleSelectionSchema)),
  acceptor_role_selection: Type.Optional(Type.Array(RoleSelectionSchema)),
  extended_negotiation: Type.Optional(Type.Array(ExtendedNegotiationSchema)),
  common_extended_negotiation: Type.Optional(Type.Array(CommonExtendedNegotiationSchema)),
  user_identity: Type.Optional(UserIdentitySchema),
  commands: Type.Record(Type.String(), Type.Integer(), { description: 'Number of each DIMSE command seen, e.g. {"C-STORE-RQ": 4}' }),
  dimse_count: Type.Integer(),
  failures: Type.Integer({ description: 'Responses whose status class was failure' }),
  warnings: Type.Integer({ description: 'Responses whose status class was warning' }),
  phi_fields: Strings('Union of the patient elements seen in the association\'s data sets, by keyword'),
  pdus: Type.Integer(),
  malformed: Type.Integer(),
  gaps: Type.Integer({ description: 'Capture gaps inside the association' }),
  bytes_lost: Type.Integer(),
  end_reason: Type.Optional(oneOf(['fin', 'rst', 'timeout', 'evicted', 'shutdown'], 'How the connection ended, when the association did not end by release, abort or reject')),
  issues: Type.Optional(Strings('Structural problems in the request/accept items (fixed names such as unknown-item)')),
});
export type DicomAssociationEvent = Static<typeof DicomAssociationEventSchema>;

export const StatusClassSchema = oneOf(['success', 'pending', 'cancel', 'warning', 'failure'], 'Class of the DIMSE status (PS3.7 annex C)');

export const SubOperationsSchema = closed(
  { remaining: Type.Optional(Type.Integer()), completed: Type.Optional(Type.Integer()), failed: Type.Optional(Type.Integer()), warning: Type.Optional(Type.Integer()) },
  'C-MOVE/C-GET sub-operation counts',
);

export const PatientIdObservationSchema = closed(
  {
    kind: oneOf(['fodselsnummer', 'd-nummer', 'h-nummer', 'fodselsnummer-synthetic', 'other'], 'What kind of identifier the Patient ID is'),
    pseudonym: Type.String({ description: 'Keyed pseudonym; never the value' }),
  },
  'A patient identifier, pseudonymised',
);

export const DeviceFactsSchema = closed(
  {
    modality: Type.Optional(Type.String()),
    manufacturer: Type.Optional(Type.String()),
    model: Type.Optional(Type.String()),
    software_versions: Type.Optional(Type.String()),
    station_name: Type.Optional(Type.String()),
  },
  'Facts about the sending equipment (they name equipment, not people)',
);

export const DatasetSummarySchema = closed(
  {
    transfer_syntax: Type.String(),
    explicit_vr: Type.Boolean(),
    little_endian: Type.Boolean(),
    deflated: Type.Boolean(),
    bytes_inspected: Type.Integer({ description: 'Bytes of the data set looked at' }),
    bytes_total: Type.Integer({ description: 'Bytes of the data set seen on the wire' }),
    truncated: Type.Boolean({ description: 'The walk stopped before Pixel Data or the end' }),
    encoding_guessed: Type.Boolean({ description: 'No A-ASSOCIATE-AC was seen: the encoding was guessed from the bytes' }),
  },
  'How the data set was read',
);

export const DicomDimseEventSchema = flowEventSchema('dicom.dimse', 'One per DIMSE message (request or response)', {
  direction: WireDirectionSchema,
  calling_ae: Type.String(),
  called_ae: Type.String(),
  context_id: Type.Integer({ description: 'Presentation context id' }),
  command: Type.String({ description: 'e.g. C-STORE-RQ' }),
  command_field: Type.Integer(),
  message_id: Type.Optional(Type.Integer()),
  message_id_responded_to: Type.Optional(Type.Integer()),
  sop_class_uid: Type.Optional(Type.String({ description: 'Affected (or Requested) SOP Class UID' })),
  sop_class_name: Type.Optional(Type.String()),
  priority: Type.Optional(Type.Integer()),
  status: Type.Optional(Type.Integer()),
  status_hex: Type.Optional(Type.String({ description: 'e.g. 0xA700' })),
  status_class: Type.Optional(StatusClassSchema),
  status_meaning: Type.Optional(Type.String()),
  move_destination: Type.Optional(Type.String()),
  move_originator_ae: Type.Optional(Type.String()),
  move_originator_message_id: Type.Optional(Type.Integer()),
  sub_operations: Type.Optional(SubOperationsSchema),
  event_type_id: Type.Optional(Type.Integer()),
  action_type_id: Type.Optional(Type.Integer()),
  has_dataset: Type.Boolean(),
  dataset: Type.Optional(DatasetSummarySchema),
  phi_fields: Strings('Patient elements present with a value, by keyword (e.g. PatientName)'),
  patient_ids: Type.Optional(Type.Array(PatientIdObservationSchema)),
  device: Type.Optional(DeviceFactsSchema),
});
export type DicomDimseEvent = Static<typeof DicomDimseEventSchema>;

export const DicomMalformedEventSchema = flowEventSchema('dicom.malformed', 'A DICOM PDU that did not parse, and what the parser did about it', {
  direction: WireDirectionSchema,
  reason: oneOf(
    [
      'not-dicom',
      'bad-pdu-type',
      'bad-pdu-header',
      'pdu-too-long',
      'pdu-too-short',
      'item-overrun',
      'bad-pdv',
      'pdv-overrun',
      'command-too-long',
      'command-invalid',
      'dataset-without-command',
      'resync-failed',
      'internal-error',
    ],
    'What was wrong',
  ),
  pdu_type: Type.Optional(Type.Integer()),
  length: Type.Optional(Type.Integer({ description: 'The offending length field (PDU, item or PDV)' })),
  action: oneOf(['continue', 'resync', 'detach'], 'What the parser did'),
  issues: Type.Optional(Strings('For association PDUs: which structural problems (fixed names)')),
});
export type DicomMalformedEvent = Static<typeof DicomMalformedEventSchema>;

export type DicomAssociationRecord = RecordOf<DicomAssociationEvent>;
export type DicomDimseRecord = RecordOf<DicomDimseEvent>;
export type DicomMalformedRecord = RecordOf<DicomMalformedEvent>;
