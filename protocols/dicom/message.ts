/**
 * One DIMSE message in flight (its command parsed, its data set being peeked) and the
 * `dicom.dimse` record it becomes. Patient IDs are classified and pseudonymized the moment
 * the data-set walk finds them, so a raw value never outlives the sink call.
 */
import { classifyFnr, FnrKind, fnrKindName } from '../phi/fodselsnummer.js';
import type { Pseudonymize } from '../phi/pseudonym.js';
import { commandName, NO_DATASET, type CommandSet } from './command-set.js';
import type { DeviceKey, PeekSink } from './dataset-peek.js';
import type { DeviceFacts, DicomDimseRecord, DicomDirection, PatientIdKind } from './records.js';
import { sopClassName } from './sop-classes.js';
import { statusClass, statusHex, statusMeaning } from './status.js';
import type { DatasetEncoding } from './transfer-syntax.js';

/** A hostile data set could list endless IDs; a handful is enough to alert on. */
const MAX_IDS_PER_MESSAGE = 8;

export interface Message {
  cmd: CommandSet;
  contextId: number;
  tsSec: number;
  tsNsec: number;
  expectDataset: boolean;
  datasetStarted: boolean;
  enc: DatasetEncoding | null;
  transferSyntax: string;
  encGuessed: boolean;
  /** The first bytes of the data set; dropped as soon as the record is built. */
  peek: Buffer | null;
  peekLen: number;
  /** Where the resumable walk continues in `peek`. */
  peekNext: number;
  peekDone: boolean;
  truncated: boolean;
  /** Data-set bytes seen on the wire, inspected or skipped. */
  datasetBytes: number;
  phi: Set<string>;
  /** pseudonym → kind; the key is already keyed, never the value. */
  ids: Map<string, PatientIdKind>;
  device: DeviceFacts;
}

export function newMessage(cmd: CommandSet, contextId: number, tsSec: number, tsNsec: number): Message {
  return {
    cmd,
    contextId,
    tsSec,
    tsNsec,
    expectDataset: cmd.commandDataSetType !== NO_DATASET,
    datasetStarted: false,
    enc: null,
    transferSyntax: '',
    encGuessed: false,
    peek: null,
    peekLen: 0,
    peekNext: 0,
    peekDone: false,
    truncated: false,
    datasetBytes: 0,
    phi: new Set(),
    ids: new Map(),
    device: {},
  };
}

/** What kind of identifier a Patient ID value is (a fødselsnummer gets its own kind). */
export function patientIdKind(value: string): PatientIdKind {
  const k = classifyFnr(value);
  return k === FnrKind.Invalid ? 'other' : (fnrKindName(k) as PatientIdKind);
}

/** Receives what the data-set walk finds, for whichever message is being peeked. */
export class MessageSink implements PeekSink {
  message: Message | null = null;
  constructor(private readonly pseudonymize: Pseudonymize) {}

  phi(name: string): void {
    this.message?.phi.add(name);
  }

  patientId(value: string): void {
    const m = this.message;
    if (m === null || m.ids.size >= MAX_IDS_PER_MESSAGE) return;
    // A fødselsnummer gets the same pseudonym whichever protocol carried it (HL7 PID-3, syslog…).
    const kind = patientIdKind(value);
    m.ids.set(this.pseudonymize(kind === 'other' ? 'patient-id' : kind, value), kind);
  }

  device(key: DeviceKey, value: string): void {
    const m = this.message;
    if (m !== null && m.device[key] === undefined) m.device[key] = value;
  }
}

export function dimseRecord(m: Message, direction: DicomDirection, callingAe: string, calledAe: string): DicomDimseRecord {
  const cmd = m.cmd;
  // N-services name the class in Requested SOP Class UID only.
  const sop = cmd.affectedSopClassUid ?? cmd.requestedSopClassUid;
  const r: DicomDimseRecord = {
    type: 'dicom.dimse',
    ts_sec: m.tsSec,
    ts_nsec: m.tsNsec,
    direction,
    calling_ae: callingAe,
    called_ae: calledAe,
    context_id: m.contextId,
    command: commandName(cmd.commandField),
    command_field: cmd.commandField,
    has_dataset: m.expectDataset,
    phi_fields: [...m.phi],
  };
  if (cmd.messageId !== undefined) r.message_id = cmd.messageId;
  if (cmd.messageIdBeingRespondedTo !== undefined) r.message_id_responded_to = cmd.messageIdBeingRespondedTo;
  if (sop !== undefined && sop !== '') {
    r.sop_class_uid = sop;
    const n = sopClassName(sop);
    if (n !== undefined) r.sop_class_name = n;
  }
  if (cmd.priority !== undefined) r.priority = cmd.priority;
  if (cmd.status !== undefined) {
    r.status = cmd.status;
    r.status_hex = statusHex(cmd.status);
    r.status_class = statusClass(cmd.status);
    r.status_meaning = statusMeaning(cmd.status);
  }
  if (cmd.moveDestination !== undefined) r.move_destination = cmd.moveDestination;
  if (cmd.moveOriginatorAe !== undefined) r.move_originator_ae = cmd.moveOriginatorAe;
  if (cmd.moveOriginatorMessageId !== undefined) r.move_originator_message_id = cmd.moveOriginatorMessageId;
  if (cmd.remaining !== undefined || cmd.completed !== undefined || cmd.failed !== undefined || cmd.warning !== undefined) {
    r.sub_operations = {};
    if (cmd.remaining !== undefined) r.sub_operations.remaining = cmd.remaining;
    if (cmd.completed !== undefined) r.sub_operations.completed = cmd.completed;
    if (cmd.failed !== undefined) r.sub_operations.failed = cmd.failed;
    if (cmd.warning !== undefined) r.sub_operations.warning = cmd.warning;
  }
  if (cmd.eventTypeId !== undefined) r.event_type_id = cmd.eventTypeId;
  if (cmd.actionTypeId !== undefined) r.action_type_id = cmd.actionTypeId;
  if (m.expectDataset) {
    const enc = m.enc;
    r.dataset = {
      transfer_syntax: m.transferSyntax,
      explicit_vr: enc?.explicitVr ?? false,
      little_endian: enc?.littleEndian ?? true,
      deflated: enc?.deflated ?? false,
      bytes_inspected: m.peekLen,
      bytes_total: m.datasetBytes,
      truncated: m.truncated || !m.datasetStarted,
      encoding_guessed: m.encGuessed,
    };
  }
  if (m.ids.size > 0) r.patient_ids = [...m.ids].map(([pseudonym, kind]) => ({ kind, pseudonym }));
  if (Object.keys(m.device).length > 0) r.device = m.device;
  return r;
}
