/**
 * The DIMSE command set: group 0000 elements, always implicit VR little endian (PS3.7 §6.3,
 * §E.1). A fixed, tiny grammar, so it has its own reader: dicom-parser handles it too but
 * misses truncation and was 4× slower (docs/dependencies.md).
 *
 * Instance UIDs (0000,1000/1001) are deliberately not read: a SOP Instance UID names one
 * patient's image and would let anyone holding our events link them back to a study.
 * Error Comment (0000,0902) is free text and is not read either.
 */
import { printable, uidText } from './reader.js';

export const NO_DATASET = 0x0101;

export interface CommandSet {
  commandField: number;
  messageId?: number;
  messageIdBeingRespondedTo?: number;
  affectedSopClassUid?: string;
  requestedSopClassUid?: string;
  priority?: number;
  /** 0x0101 when no data set follows; anything else means one does. */
  commandDataSetType: number;
  status?: number;
  moveDestination?: string;
  moveOriginatorAe?: string;
  moveOriginatorMessageId?: number;
  remaining?: number;
  completed?: number;
  failed?: number;
  warning?: number;
  eventTypeId?: number;
  actionTypeId?: number;
}

export type CommandParseError = 'truncated' | 'not-group-0000' | 'no-command-field';

/**
 * Decodes a complete command set from buf[off, end). Returns an error code rather than a
 * partial result: a command set is only ever acted on when all of it is there.
 */
export function parseCommandSet(buf: Buffer, off: number, end: number): CommandSet | CommandParseError {
  if (end > buf.length) end = buf.length;
  const cmd: CommandSet = { commandField: -1, commandDataSetType: NO_DATASET };
  let p = off;
  while (p < end) {
    if (end - p < 8) return 'truncated';
    const group = buf.readUInt16LE(p);
    const elem = buf.readUInt16LE(p + 2);
    const len = buf.readUInt32LE(p + 4);
    p += 8;
    // Also rejects undefined length (0xFFFFFFFF), which group 0000 never uses.
    if (len > end - p) return 'truncated';
    if (group !== 0x0000) return 'not-group-0000';
    const v = p;
    p += len;
    switch (elem) {
      case 0x0002:
        cmd.affectedSopClassUid = uidText(buf, v, p);
        break;
      case 0x0003:
        cmd.requestedSopClassUid = uidText(buf, v, p);
        break;
      case 0x0100:
        if (len >= 2) cmd.commandField = buf.readUInt16LE(v);
        break;
      case 0x0110:
        if (len >= 2) cmd.messageId = buf.readUInt16LE(v);
        break;
      case 0x0120:
        if (len >= 2) cmd.messageIdBeingRespondedTo = buf.readUInt16LE(v);
        break;
      case 0x0600:
        cmd.moveDestination = printable(buf, v, p, 16);
        break;
      case 0x0700:
        if (len >= 2) cmd.priority = buf.readUInt16LE(v);
        break;
      case 0x0800:
        if (len >= 2) cmd.commandDataSetType = buf.readUInt16LE(v);
        break;
      case 0x0900:
        if (len >= 2) cmd.status = buf.readUInt16LE(v);
        break;
      case 0x1002:
        if (len >= 2) cmd.eventTypeId = buf.readUInt16LE(v);
        break;
      case 0x1008:
        if (len >= 2) cmd.actionTypeId = buf.readUInt16LE(v);
        break;
      case 0x1020:
        if (len >= 2) cmd.remaining = buf.readUInt16LE(v);
        break;
      case 0x1021:
        if (len >= 2) cmd.completed = buf.readUInt16LE(v);
        break;
      case 0x1022:
        if (len >= 2) cmd.failed = buf.readUInt16LE(v);
        break;
      case 0x1023:
        if (len >= 2) cmd.warning = buf.readUInt16LE(v);
        break;
      case 0x1030:
        cmd.moveOriginatorAe = printable(buf, v, p, 16);
        break;
      case 0x1031:
        if (len >= 2) cmd.moveOriginatorMessageId = buf.readUInt16LE(v);
        break;
    }
  }
  return cmd.commandField < 0 ? 'no-command-field' : cmd;
}

const COMMAND_NAMES = new Map<number, string>([
  [0x0001, 'C-STORE-RQ'],
  [0x8001, 'C-STORE-RSP'],
  [0x0010, 'C-GET-RQ'],
  [0x8010, 'C-GET-RSP'],
  [0x0020, 'C-FIND-RQ'],
  [0x8020, 'C-FIND-RSP'],
  [0x0021, 'C-MOVE-RQ'],
  [0x8021, 'C-MOVE-RSP'],
  [0x0030, 'C-ECHO-RQ'],
  [0x8030, 'C-ECHO-RSP'],
  [0x0100, 'N-EVENT-REPORT-RQ'],
  [0x8100, 'N-EVENT-REPORT-RSP'],
  [0x0110, 'N-GET-RQ'],
  [0x8110, 'N-GET-RSP'],
  [0x0120, 'N-SET-RQ'],
  [0x8120, 'N-SET-RSP'],
  [0x0130, 'N-ACTION-RQ'],
  [0x8130, 'N-ACTION-RSP'],
  [0x0140, 'N-CREATE-RQ'],
  [0x8140, 'N-CREATE-RSP'],
  [0x0150, 'N-DELETE-RQ'],
  [0x8150, 'N-DELETE-RSP'],
  [0x0fff, 'C-CANCEL-RQ'],
]);

/** Bounded label values: unknown codes collapse to one name instead of 65536 metric series. */
export function commandName(field: number): string {
  return COMMAND_NAMES.get(field) ?? 'UNKNOWN';
}

export function isResponse(field: number): boolean {
  return (field & 0x8000) !== 0;
}
