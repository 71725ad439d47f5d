/**
 * Reads the first bytes of a data set to learn which patient elements it carries and which
 * device it came from, then stops. Patient values are never returned: element names go to
 * `phi`, Patient ID values go to `patientId` for the caller to classify and pseudonymize on
 * the spot, and only the device elements (equipment, not people) are returned as text.
 *
 * The walk is resumable: the caller appends fragments to a small peek buffer and calls
 * `peekDataset` again; it restarts at the first top-level element it could not finish, so a
 * top-level element is decoded once however the bytes were split. Sequences are entered
 * (patient IDs also live in OtherPatientIDsSequence, request attributes, worklist items)
 * up to a fixed depth. Our own reader rather than dicom-parser: every length is checked
 * against the bytes we actually hold, and a truncated element is "need more", not an
 * element whose value runs off the end (docs/dependencies.md).
 */
import type { DatasetEncoding } from './transfer-syntax.js';
import { printable } from './reader.js';

export interface PeekSink {
  /** A patient element with a non-empty value was seen (keyword). */
  phi(name: string): void;
  /** One Patient ID / Other Patient IDs value; the caller must not keep it. */
  patientId(value: string): void;
  /** A device element at the top level of the data set. */
  device(key: DeviceKey, value: string): void;
}

export type DeviceKey = 'modality' | 'manufacturer' | 'model' | 'software_versions' | 'station_name';

export const enum PeekStatus {
  /** The last top-level element is incomplete; call again with more bytes. */
  NeedMore = 0,
  /** Reached Pixel Data: nothing more to learn. */
  Done = 1,
  /** The bytes do not parse in this encoding; stop looking. */
  Invalid = 2,
}

/** Patient elements by tag (group << 16 | element), named as in PS3.6. */
const PHI_TAGS = new Map<number, string>([
  [0x00080050, 'AccessionNumber'],
  [0x00100010, 'PatientName'],
  [0x00100020, 'PatientID'],
  [0x00100021, 'IssuerOfPatientID'],
  [0x00100030, 'PatientBirthDate'],
  [0x00100032, 'PatientBirthTime'],
  [0x00100040, 'PatientSex'],
  [0x00101000, 'OtherPatientIDs'],
  [0x00101001, 'OtherPatientNames'],
  [0x00101002, 'OtherPatientIDsSequence'],
  [0x00101005, 'PatientBirthName'],
  [0x00101010, 'PatientAge'],
  [0x00101040, 'PatientAddress'],
  [0x00101060, 'PatientMotherBirthName'],
  [0x00101090, 'MedicalRecordLocator'],
  [0x00102154, 'PatientTelephoneNumbers'],
  [0x00102160, 'EthnicGroup'],
  [0x001021f0, 'PatientReligiousPreference'],
  [0x00104000, 'PatientComments'],
  [0x00380010, 'AdmissionID'],
]);

/** The patient elements the walk reports, by tag: DICOMweb query keys and dicom+json keys are named from the same table. */
export const PATIENT_ELEMENTS: ReadonlyMap<number, string> = PHI_TAGS;

export const PATIENT_ID = 0x00100020;
export const OTHER_PATIENT_IDS = 0x00101000;

const DEVICE_TAGS = new Map<number, DeviceKey>([
  [0x00080060, 'modality'],
  [0x00080070, 'manufacturer'],
  [0x00081090, 'model'],
  [0x00181020, 'software_versions'],
  [0x00081010, 'station_name'],
]);

const PIXEL_DATA_GROUP_TAG = 0x7fe00000;
const ITEM = 0xfffee000;
const ITEM_DELIMITATION = 0xfffee00d;
const SEQUENCE_DELIMITATION = 0xfffee0dd;
const UNDEFINED = 0xffffffff;
const MAX_DEPTH = 6;
/** A Patient ID longer than this is not an identifier we could classify; report presence only. */
const MAX_ID_LENGTH = 64;
const MAX_IDS_PER_ELEMENT = 8;

// Walk results below zero are conditions, at or above zero positions.
const NEED_MORE = -1;
const INVALID = -2;
const TOO_DEEP = -3;

interface Ctx {
  buf: Buffer;
  le: boolean;
  explicit: boolean;
  sink: PeekSink;
}

function u16(c: Ctx, p: number): number {
  return c.le ? c.buf.readUInt16LE(p) : c.buf.readUInt16BE(p);
}

function u32(c: Ctx, p: number): number {
  return c.le ? c.buf.readUInt32LE(p) : c.buf.readUInt32BE(p);
}

function tagAt(c: Ctx, p: number): number {
  return ((u16(c, p) << 16) | u16(c, p + 2)) >>> 0;
}

function isUpper(b: number): boolean {
  return b >= 0x41 && b <= 0x5a;
}

/** VRs with a 2-byte reserved field and a 4-byte length in explicit VR (PS3.5 §7.1.2). */
export function hasLongLength(a: number, b: number): boolean {
  switch ((a << 8) | b) {
    case 0x4f42: // OB
    case 0x4f44: // OD
    case 0x4f46: // OF
    case 0x4f4c: // OL
    case 0x4f56: // OV
    case 0x4f57: // OW
    case 0x5351: // SQ
    case 0x5356: // SV
    case 0x5543: // UC
    case 0x554e: // UN
    case 0x5552: // UR
    case 0x5554: // UT
    case 0x5556: // UV
      return true;
    default:
      return false;
  }
}

const VR_SQ = 0x5351;
const VR_UN = 0x554e;

/** Whether bytes [v, e) hold something other than DICOM padding. */
function nonEmpty(buf: Buffer, v: number, e: number): boolean {
  for (let i = v; i < e; i++) if (buf[i] !== 0x20 && buf[i] !== 0x00) return true;
  return false;
}

function reportPatientIds(c: Ctx, v: number, e: number): void {
  let start = v;
  let n = 0;
  for (let i = v; i <= e && n < MAX_IDS_PER_ELEMENT; i++) {
    if (i === e || c.buf[i] === 0x5c /* backslash separates values */) {
      let s = start;
      let t = i;
      while (s < t && (c.buf[s] === 0x20 || c.buf[s] === 0x00)) s++;
      while (t > s && (c.buf[t - 1] === 0x20 || c.buf[t - 1] === 0x00)) t--;
      if (t > s && t - s <= MAX_ID_LENGTH) {
        c.sink.patientId(c.buf.toString('latin1', s, t));
        n++;
      }
      start = i + 1;
    }
  }
}

/**
 * Decodes one element at p (which must be < end) and returns the position after it, or a
 * condition. Sequences are walked item by item; values are only looked at for the few
 * tags we report.
 */
function element(c: Ctx, p: number, end: number, depth: number): number {
  if (end - p < 8) return NEED_MORE;
  const tag = tagAt(c, p);
  let vrCode = 0;
  let len: number;
  let v: number;
  if (tag === ITEM || tag === ITEM_DELIMITATION || tag === SEQUENCE_DELIMITATION) {
    // Stray delimiters at this level: skip their (zero-length) headers.
    len = u32(c, p + 4);
    v = p + 8;
    if (len === UNDEFINED) return v;
  } else if (c.explicit) {
    const a = c.buf[p + 4];
    const b = c.buf[p + 5];
    if (!isUpper(a) || !isUpper(b)) return INVALID;
    vrCode = (a << 8) | b;
    if (hasLongLength(a, b)) {
      if (end - p < 12) return NEED_MORE;
      len = u32(c, p + 8);
      v = p + 12;
    } else {
      len = u16(c, p + 6);
      v = p + 8;
    }
  } else {
    len = u32(c, p + 4);
    v = p + 8;
  }

  if (len === UNDEFINED) {
    // Undefined length: only sequences (and UN holding one) may use it outside Pixel Data.
    if (c.explicit && vrCode !== VR_SQ && vrCode !== VR_UN) return INVALID;
    if (depth >= MAX_DEPTH) return TOO_DEEP;
    noteSequence(c, tag);
    // UN of undefined length holds implicit VR little endian (PS3.5 §6.2.2).
    if (vrCode === VR_UN) return sequence(withImplicitLe(c), v, end, UNDEFINED, depth + 1);
    return sequence(c, v, end, UNDEFINED, depth + 1);
  }

  const e = v + len;
  const isSeq = vrCode === VR_SQ || (!c.explicit && looksLikeItem(c, v, e, end));
  if (isSeq) {
    if (depth >= MAX_DEPTH) return e <= end ? e : NEED_MORE;
    if (len > 0) noteSequence(c, tag);
    const r = sequence(c, v, Math.min(e, end), e, depth + 1);
    return r < 0 ? r : e;
  }
  if (e > end) return NEED_MORE;

  const phi = PHI_TAGS.get(tag);
  if (phi !== undefined && len > 0 && nonEmpty(c.buf, v, e)) {
    c.sink.phi(phi);
    if (tag === PATIENT_ID || tag === OTHER_PATIENT_IDS) reportPatientIds(c, v, e);
  }
  if (depth === 0) {
    const dev = DEVICE_TAGS.get(tag);
    // A device fact is text of its VR (LO/CS/SH: no control characters). One with other bytes
    // is a length gone wrong that runs into the next elements — a patient's name among them —
    // so it is not reported at all.
    if (dev !== undefined && len > 0 && len <= 1024 && plainText(c.buf, v, e)) {
      const s = printable(c.buf, v, e, 64);
      if (s !== '') c.sink.device(dev, s);
    }
  }
  return e;
}

function noteSequence(c: Ctx, tag: number): void {
  const phi = PHI_TAGS.get(tag);
  if (phi !== undefined) c.sink.phi(phi);
}

function withImplicitLe(c: Ctx): Ctx {
  return { buf: c.buf, le: true, explicit: false, sink: c.sink };
}

/** In implicit VR we cannot know the VR; a value that starts with an Item tag is a sequence. */
function looksLikeItem(c: Ctx, v: number, e: number, end: number): boolean {
  if (e - v < 8 || end - v < 4) return false;
  return tagAt(c, v) === ITEM;
}

/**
 * Items of a sequence from p up to `limit` (the bytes we have). `declaredEnd` is the
 * sequence's end for a defined length, or UNDEFINED when a Sequence Delimitation ends it.
 */
function sequence(c: Ctx, p: number, limit: number, declaredEnd: number, depth: number): number {
  const definedLength = declaredEnd !== UNDEFINED;
  for (;;) {
    if (definedLength && p >= declaredEnd) return declaredEnd;
    if (limit - p < 8) return NEED_MORE;
    const tag = tagAt(c, p);
    const len = u32(c, p + 4);
    p += 8;
    if (tag === SEQUENCE_DELIMITATION) return p;
    if (tag !== ITEM) return INVALID;
    if (len === UNDEFINED) {
      const r = items(c, p, limit, UNDEFINED, depth);
      if (r < 0) return r;
      p = r;
    } else {
      const itemEnd = p + len;
      if (definedLength && itemEnd > declaredEnd) return INVALID;
      const r = items(c, p, Math.min(itemEnd, limit), itemEnd, depth);
      if (r < 0) return r;
      p = itemEnd;
    }
  }
}

/** The elements of one item: up to a defined end, or up to an Item Delimitation. */
function items(c: Ctx, p: number, limit: number, declaredEnd: number, depth: number): number {
  const definedLength = declaredEnd !== UNDEFINED;
  for (;;) {
    if (definedLength && p >= declaredEnd) return declaredEnd;
    if (limit - p < 8) return NEED_MORE;
    if (tagAt(c, p) === ITEM_DELIMITATION) return p + 8;
    const r = element(c, p, limit, depth);
    if (r < 0) return r;
    p = r;
  }
}

export interface PeekProgress {
  status: PeekStatus;
  /** Where the next call should resume (start of the first incomplete top-level element). */
  next: number;
}

/**
 * Walks top-level elements of buf[start, end). NeedMore with `next` < end means an element
 * is incomplete; with `next` === end, that every element so far was whole.
 */
export function peekDataset(buf: Buffer, start: number, end: number, enc: DatasetEncoding, sink: PeekSink): PeekProgress {
  if (end > buf.length) end = buf.length;
  const c: Ctx = { buf, le: enc.littleEndian, explicit: enc.explicitVr, sink };
  let p = start;
  while (p < end) {
    if (end - p >= 4 && tagAt(c, p) >= PIXEL_DATA_GROUP_TAG) return { status: PeekStatus.Done, next: p };
    const r = element(c, p, end, 0);
    if (r === NEED_MORE) return { status: PeekStatus.NeedMore, next: p };
    if (r < 0) return { status: r === TOO_DEEP ? PeekStatus.Done : PeekStatus.Invalid, next: p };
    p = r;
  }
  return { status: PeekStatus.NeedMore, next: p };
}

/**
 * Without a negotiated transfer syntax (capture started mid-association) the first element
 * tells: explicit VR has two upper-case letters where implicit VR has a length.
 */
export function guessEncoding(buf: Buffer, off: number, end: number): DatasetEncoding | null {
  if (end - off < 8) return null;
  const a = buf[off + 4];
  const b = buf[off + 5];
  const explicit = isUpper(a) && isUpper(b);
  // Big endian puts the group's high byte first; data sets start at low groups (0008).
  const bigEndian = buf[off] === 0x00 && buf[off + 1] !== 0x00;
  return { explicitVr: explicit || bigEndian, littleEndian: !bigEndian, deflated: false };
}

/** Printable ASCII and Latin-1 letters only (trailing NUL padding allowed), no `^` (PN's separator). */
function plainText(buf: Buffer, start: number, end: number): boolean {
  while (end > start && buf[end - 1] === 0x00) end--;
  for (let i = start; i < end; i++) {
    const b = buf[i];
    if (b < 0x20 || b === 0x7f || b === 0x5e || (b >= 0x80 && b < 0xa0)) return false;
  }
  return true;
}
