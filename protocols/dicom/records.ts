/**
 * What the DICOM parser emits: the `dicom.association`, `dicom.dimse` and `dicom.malformed`
 * events of the contract (protocols/events/dicom.ts) with their capture time as numbers. The
 * agent adds `ts` and `flow`. Nothing here is a patient value: patient IDs appear only as the
 * caller's keyed pseudonym, other patient elements only as tag names, user identity only as flags.
 */
import type { Static } from 'typebox';
import type {
  AbortInfoSchema,
  AcceptedContextSchema,
  AsyncOpsWindowSchema,
  CommonExtendedNegotiationSchema,
  DatasetSummarySchema,
  DeviceFactsSchema,
  DicomAssociationRecord,
  DicomDimseRecord,
  DicomMalformedRecord,
  ExtendedNegotiationSchema,
  NegotiatedContextSchema,
  PatientIdObservationSchema,
  RejectInfoSchema,
  RoleSelectionSchema,
  SubOperationsSchema,
  UserIdentitySchema,
  WireDirection,
} from '../events/index.js';

export type { DicomAssociationRecord, DicomDimseRecord, DicomMalformedRecord };
export type DicomDirection = WireDirection;
export type AssociationResult = DicomAssociationRecord['result'];
export type RoleSelection = Static<typeof RoleSelectionSchema>;
export type ExtendedNegotiation = Static<typeof ExtendedNegotiationSchema>;
export type CommonExtendedNegotiation = Static<typeof CommonExtendedNegotiationSchema>;
export type AsyncOpsWindow = Static<typeof AsyncOpsWindowSchema>;
export type UserIdentity = Static<typeof UserIdentitySchema>;
export type AcceptedContext = Static<typeof AcceptedContextSchema>;
export type NegotiatedContext = Static<typeof NegotiatedContextSchema>;
export type RejectInfo = Static<typeof RejectInfoSchema>;
export type AbortInfo = Static<typeof AbortInfoSchema>;
export type SubOperations = Static<typeof SubOperationsSchema>;
export type PatientIdObservation = Static<typeof PatientIdObservationSchema>;
export type PatientIdKind = PatientIdObservation['kind'];
export type DeviceFacts = Static<typeof DeviceFactsSchema>;
export type DatasetSummary = Static<typeof DatasetSummarySchema>;
export type MalformedReason = DicomMalformedRecord['reason'];
export type DicomRecord = DicomAssociationRecord | DicomDimseRecord | DicomMalformedRecord;

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

