import { classifyFnr, FnrKind, fnrKindName, scanFnr } from '../phi/fodselsnummer.js';
import type { Pseudonymize } from '../phi/pseudonym.js';
import { Seg, type Hl7Scanner } from './message.js';

/**
 * Patient data in one message, reduced to what may leave the parser: field names, identifier
 * kinds and keyed pseudonyms. Values are only held in locals for the duration of the call.
 */
export interface Hl7PhiSummary {
  /** e.g. ["PID-3","PID-5","PID-7","NK1"], in a fixed order */
  fields: string[];
  /** e.g. ["fodselsnummer","patient-id"] */
  kinds: string[];
  /** distinct identifiers seen (PID-3 values and valid 11-digit runs) */
  count: number;
  /** pseudonymize(kind, value) for each distinct identifier; empty without a pseudonymizer */
  pseudonyms: string[];
}

/** PID fields that identify a person (v2.5 numbering). */
const PID_FIELDS = [2, 3, 4, 5, 6, 7, 9, 11, 13, 14, 18, 19, 20, 21, 29];
const PID_NAMES = PID_FIELDS.map((n) => `PID-${n}`);

/** Segments that are about a person as a whole (next of kin, insurance, guarantor, merge). */
const PERSON_SEGMENTS: [number, string][] = [
  [Seg.NK1, 'NK1'],
  [Seg.IN1, 'IN1'],
  [Seg.IN2, 'IN2'],
  [Seg.IN3, 'IN3'],
  [Seg.GT1, 'GT1'],
  [Seg.MRG, 'MRG'],
];

/** Bounds per message: a hostile message with thousands of ids costs a counter, not thousands of HMACs. */
const MAX_IDS = 32;
const MAX_PID3_REPS = 16;

export const PATIENT_ID_KIND = 'patient-id';

/**
 * Reads segments [from, to) of the scanner's last scan. Returns null when the message carries no patient data at all.
 */
export function readPhi(
  sc: Hl7Scanner,
  from: number,
  to: number,
  pseudonymize: Pseudonymize | undefined,
): Hl7PhiSummary | null {
  // Identifiers found so far go to module scratch arrays (see addId): nothing is allocated for
  // a message without patient data, and the summary is built once at the end.
  scratchValues.length = 0;
  scratchKinds.length = 0;
  try {
    return summarize(sc, from, to, pseudonymize);
  } finally {
    // The values must not outlive the call, whatever happens in it.
    scratchValues.length = 0;
    scratchKinds.length = 0;
    matchBuf = EMPTY;
  }
}

function summarize(
  sc: Hl7Scanner,
  from: number,
  to: number,
  pseudonymize: Pseudonymize | undefined,
): Hl7PhiSummary | null {
  const values = scratchValues;
  const kinds = scratchKinds;
  let pidMask = 0;
  let segMask = 0;
  for (let s = from; s < to; s++) {
    const id = sc.segId[s];
    if (id === Seg.PID) {
      for (let k = 0; k < PID_FIELDS.length; k++) {
        if (sc.fieldHasValue(s, PID_FIELDS[k])) pidMask |= 1 << k;
      }
      if (sc.field(s, 3)) {
        const fs = sc.rs;
        const fe = sc.re;
        for (let r = 0; r < MAX_PID3_REPS; r++) {
          sc.rs = fs;
          sc.re = fe;
          if (!sc.repetition(r)) {
            if (sc.rs >= fe) break;
            continue;
          }
          if (!sc.comp(1)) continue;
          const v = sc.text(sc.rs, sc.re).trim();
          if (v === '' || v === '""') continue;
          const fk = classifyFnr(v);
          addId(fk === FnrKind.Invalid ? PATIENT_ID_KIND : fnrKindName(fk), v);
        }
      }
    } else {
      for (let k = 0; k < PERSON_SEGMENTS.length; k++) {
        if (id === PERSON_SEGMENTS[k][0] && sc.segmentHasValue(s)) segMask |= 1 << k;
      }
    }
  }

  // Any valid 11-digit run anywhere (NK1, OBX notes, Z-segments, free text) counts too.
  if (to > from) {
    matchBuf = sc.buf;
    // Encapsulated data (OBX-2 = ED: a base64 PDF or image) is not text: its digit runs are
    // noise that would only produce false matches, and it is most of a big message's bytes.
    let start = sc.segStart[from];
    for (let s = from; s < to; s++) {
      if (sc.segId[s] !== Seg.OBX || !isEncapsulated(sc, s) || !sc.field(s, 5)) continue;
      const skipFrom = sc.rs;
      const skipTo = sc.re;
      if (skipFrom > start) scanFnr(matchBuf, start, skipFrom - start, onFnrMatch);
      start = skipTo;
    }
    const end = sc.segEnd[to - 1];
    if (end > start) scanFnr(matchBuf, start, end - start, onFnrMatch);
  }

  if (pidMask === 0 && segMask === 0 && values.length === 0) return null;

  const fields: string[] = [];
  for (let k = 0; k < PID_FIELDS.length; k++) if (pidMask & (1 << k)) fields.push(PID_NAMES[k]);
  for (let k = 0; k < PERSON_SEGMENTS.length; k++) if (segMask & (1 << k)) fields.push(PERSON_SEGMENTS[k][1]);

  const kindSet: string[] = [];
  for (const k of kinds) if (!kindSet.includes(k)) kindSet.push(k);
  kindSet.sort();
  const pseudonyms: string[] = [];
  if (pseudonymize) for (let i = 0; i < values.length; i++) pseudonyms.push(pseudonymize(kinds[i], values[i]));
  return { fields, kinds: kindSet, count: values.length, pseudonyms };
}

const EMPTY = Buffer.alloc(0);
const scratchValues: string[] = [];
const scratchKinds: string[] = [];
/** The buffer scanFnr is reading, for onFnrMatch (a closure per message would be garbage). */
let matchBuf: Buffer = EMPTY;

function addId(kind: string, value: string): void {
  if (scratchValues.length >= MAX_IDS || scratchValues.includes(value)) return;
  scratchValues.push(value);
  scratchKinds.push(kind);
}

function onFnrMatch(at: number, kind: FnrKind): void {
  addId(fnrKindName(kind), matchBuf.toString('latin1', at, at + 11));
}

/** OBX-2 value type ED (encapsulated data) or RP with inline data. */
function isEncapsulated(sc: Hl7Scanner, seg: number): boolean {
  if (!sc.field(seg, 2) || sc.re - sc.rs !== 2) return false;
  return sc.buf[sc.rs] === 0x45 && sc.buf[sc.rs + 1] === 0x44; // "ED"
}
