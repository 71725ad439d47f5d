/**
 * What the DICOM parser emits. Field names are the NDJSON names of docs/events.md's
 * `dicom.association` and `dicom.dimse` events (snake_case), so the agent only adds `ts`
 * and `flow`. Nothing here is a patient value: patient IDs appear only as the caller's keyed
 * pseudonym, other patient elements only as tag names, user identity only as flags.
 */
import type { StatusClass } from './status.js';

export type DicomDirection = 'to_server' | 'to_client';

export type AssociationResult = 'accepted' | 'rejected' | 'aborted' | 'released' | 'incomplete';

export interface RoleSelection {
  sop_class_uid: string;
  scu: boolean;
  scp: boolean;
}

export interface ExtendedNegotiation {
  sop_class_uid: string;
  /** Length of the service-class-specific info; the bytes themselves are not kept. */
  info_length: number;
}

export interface CommonExtendedNegotiation {
  sop_class_uid: string;
  service_class_uid: string;
}

export interface AsyncOpsWindow {
  invoked: number;
  performed: number;
}

/**
 * User Identity Negotiation, flags only. `username_pseudonym` is the caller's keyed pseudonym
 * (kind 'dicom-username') so alerts can tell accounts apart without naming them.
 */
export interface UserIdentity {
  type: number;
  type_name: string;
  username_present: boolean;
  password_present: boolean;
  /** Kerberos ticket, SAML assertion or JWT present (types 3–5). */
  token_present: boolean;
  positive_response_requested: boolean;
  username_pseudonym?: string;
  /** Set once the A-ASSOCIATE-AC answered with a User Identity item (0x59). */
  server_response_present?: boolean;
}

/** A presentation context as proposed (RQ) or answered (AC). */
export interface PresentationContextItem {
  id: number;
  /** RQ only. */
  abstract_syntax?: string;
  /** RQ: proposed; AC: the one chosen (zero or one). */
  transfer_syntaxes: string[];
  /** AC only. */
  result?: number;
}

/** One A-ASSOCIATE-RQ or -AC, decoded. */
export interface AssociateInfo {
  protocol_version: number;
  called_ae: string;
  calling_ae: string;
  application_context: string;
  presentation_contexts: PresentationContextItem[];
  max_pdu_length?: number;
  implementation_class_uid?: string;
  implementation_version?: string;
  async_ops?: AsyncOpsWindow;
  role_selection: RoleSelection[];
  extended_negotiation: ExtendedNegotiation[];
  common_extended_negotiation: CommonExtendedNegotiation[];
  user_identity?: UserIdentity;
  /** AC: the acceptor sent a User Identity server response item. */
  user_identity_response?: boolean;
  /** Structural problems found while decoding (items past the PDU end, unknown items…). */
  issues: string[];
}

export interface AcceptedContext {
  id: number;
  abstract_syntax: string;
  abstract_syntax_name?: string;
  transfer_syntax: string;
}

/** One presentation context: what the RQ proposed and, once the AC is seen, its answer. */
export interface NegotiatedContext {
  id: number;
  abstract_syntax: string;
  proposed_transfer_syntaxes: string[];
  /** AC result (0 acceptance … 4 transfer-syntaxes-not-supported); absent without an AC. */
  result?: number;
  result_name?: string;
  /** The transfer syntax the acceptor chose (accepted contexts only). */
  transfer_syntax?: string;
}

export interface RejectInfo {
  result: number;
  result_name: string;
  source: number;
  source_name: string;
  reason: number;
  reason_name: string;
}

export interface AbortInfo {
  source: number;
  source_name: string;
  reason: number;
  reason_name: string;
  /** Which side sent the A-ABORT. */
  direction: DicomDirection;
}

interface Timestamped {
  /** Capture time of the bytes that completed this record. */
  ts_sec: number;
  ts_nsec: number;
}

export interface DicomAssociationRecord extends Timestamped {
  type: 'dicom.association';
  start_sec: number;
  start_nsec: number;
  duration_ms: number;
  calling_ae: string;
  called_ae: string;
  result: AssociationResult;
  reject_reason?: string;
  reject?: RejectInfo;
  abort?: AbortInfo;
  application_context: string;
  /** Proposed abstract syntaxes (UIDs), in proposal order, without repeats. */
  abstract_syntaxes: string[];
  /** Transfer syntaxes the acceptor chose, without repeats. */
  transfer_syntaxes: string[];
  proposed_transfer_syntaxes: string[];
  accepted_contexts: AcceptedContext[];
  /** Every proposed context with its per-context result (Wireshark's level of detail). */
  presentation_contexts: NegotiatedContext[];
  /** The requestor's (client's) values; the acceptor's are prefixed `acceptor_`. */
  max_pdu_length?: number;
  implementation_class_uid?: string;
  implementation_version?: string;
  acceptor_max_pdu_length?: number;
  acceptor_implementation_class_uid?: string;
  acceptor_implementation_version?: string;
  async_ops?: AsyncOpsWindow;
  acceptor_async_ops?: AsyncOpsWindow;
  role_selection?: RoleSelection[];
  acceptor_role_selection?: RoleSelection[];
  extended_negotiation?: ExtendedNegotiation[];
  common_extended_negotiation?: CommonExtendedNegotiation[];
  user_identity?: UserIdentity;
  /** Number of each DIMSE command seen, e.g. {"C-STORE-RQ": 4, "C-STORE-RSP": 4}. */
  commands: Record<string, number>;
  dimse_count: number;
  /** Responses whose status class was failure (warnings counted apart). */
  failures: number;
  warnings: number;
  /** Union of the patient elements seen in this association's data sets. */
  phi_fields: string[];
  pdus: number;
  malformed: number;
  gaps: number;
  bytes_lost: number;
  /** How the connection ended, when the association did not end by release/abort/reject. */
  end_reason?: 'fin' | 'rst' | 'timeout' | 'evicted' | 'shutdown';
  /** Structural problems in the RQ/AC items (fixed names such as "unknown-item"). */
  issues?: string[];
}

export interface SubOperations {
  remaining?: number;
  completed?: number;
  failed?: number;
  warning?: number;
}

export type PatientIdKind = 'fodselsnummer' | 'd-nummer' | 'h-nummer' | 'fodselsnummer-synthetic' | 'other';

export interface PatientIdObservation {
  kind: PatientIdKind;
  /** The caller's keyed pseudonym (kind 'patient-id'); never the value. */
  pseudonym: string;
}

/** Facts about the sending device, safe to keep as values (they name equipment, not people). */
export interface DeviceFacts {
  modality?: string;
  manufacturer?: string;
  model?: string;
  software_versions?: string;
  station_name?: string;
}

export interface DatasetSummary {
  transfer_syntax: string;
  explicit_vr: boolean;
  little_endian: boolean;
  deflated: boolean;
  /** Bytes of the data set we looked at (the rest was skipped). */
  bytes_inspected: number;
  /** Total bytes of the data set seen on the wire (inspected + skipped), when known. */
  bytes_total: number;
  /** Whether the walk stopped for a reason other than reaching Pixel Data or the end. */
  truncated: boolean;
  /** The encoding was not negotiated (no A-ASSOCIATE-AC seen) but guessed from the bytes. */
  encoding_guessed: boolean;
}

export interface DicomDimseRecord extends Timestamped {
  type: 'dicom.dimse';
  direction: DicomDirection;
  calling_ae: string;
  called_ae: string;
  context_id: number;
  command: string;
  command_field: number;
  message_id?: number;
  message_id_responded_to?: number;
  /** Affected SOP Class UID, or Requested SOP Class UID for N-services that carry only that. */
  sop_class_uid?: string;
  sop_class_name?: string;
  priority?: number;
  status?: number;
  status_hex?: string;
  status_class?: StatusClass;
  status_meaning?: string;
  move_destination?: string;
  move_originator_ae?: string;
  move_originator_message_id?: number;
  sub_operations?: SubOperations;
  event_type_id?: number;
  action_type_id?: number;
  has_dataset: boolean;
  dataset?: DatasetSummary;
  /** Patient elements present with a non-empty value, by keyword (e.g. "PatientName"). */
  phi_fields: string[];
  patient_ids?: PatientIdObservation[];
  device?: DeviceFacts;
}

export type MalformedReason =
  | 'not-dicom'
  | 'bad-pdu-type'
  | 'bad-pdu-header'
  | 'pdu-too-long'
  | 'pdu-too-short'
  | 'item-overrun'
  | 'bad-pdv'
  | 'pdv-overrun'
  | 'command-too-long'
  | 'command-invalid'
  | 'dataset-without-command'
  | 'resync-failed'
  | 'internal-error';

export interface DicomMalformedRecord extends Timestamped {
  type: 'dicom.malformed';
  direction: DicomDirection;
  reason: MalformedReason;
  pdu_type?: number;
  /** The offending length field (PDU, item or PDV), when there is one. */
  length?: number;
  /** What the parser did about it. */
  action: 'continue' | 'resync' | 'detach';
  /** For association PDUs: which structural problems (fixed names, never content). */
  issues?: string[];
}

export type DicomRecord = DicomAssociationRecord | DicomDimseRecord | DicomMalformedRecord;
