import { charsetFromMsh18, latin1, type CharsetInfo } from './charset.js';
import { decodeText, DEFAULT_DELIMITERS, type Delimiters } from './escape.js';
import { holdsFnr } from '../phi/fodselsnummer.js';

/**
 * One-pass HL7 v2 segment/field scanner. It records offsets only, and only for the segments
 * the analyzer reads (header, acknowledgement, patient and equipment segments): an ORU with a
 * 48 KB base64 OBX costs one byte loop, not thousands of strings. Text is decoded on demand.
 *
 * Offsets refer to the buffer passed to scan(); they are valid only until the next scan and
 * only while that buffer is (the caller's chunk), so everything is extracted synchronously.
 */

/** Segment ids packed as three ASCII bytes (big-endian), so a segment compare is one int compare. */
export const enum Seg {
  MSH = 0x4d5348,
  FHS = 0x464853,
  BHS = 0x424853,
  BTS = 0x425453,
  FTS = 0x465453,
  MSA = 0x4d5341,
  ERR = 0x455252,
  PID = 0x504944,
  PD1 = 0x504431,
  NK1 = 0x4e4b31,
  IN1 = 0x494e31,
  IN2 = 0x494e32,
  IN3 = 0x494e33,
  GT1 = 0x475431,
  MRG = 0x4d5247,
  PRT = 0x505254,
  OBX = 0x4f4258,
}

const CR = 0x0d;
const LF = 0x0a;

// Segments whose field offsets we keep. Everything else is skipped to its terminator.
function wantsFields(id: number): boolean {
  switch (id) {
    case Seg.MSH:
    case Seg.FHS:
    case Seg.BHS:
    case Seg.MSA:
    case Seg.ERR:
    case Seg.PID:
    case Seg.PRT:
    case Seg.OBX:
      return true;
    default:
      return false;
  }
}

function isHeader(id: number): boolean {
  return id === Seg.MSH || id === Seg.FHS || id === Seg.BHS;
}

/**
 * Header values (applications, facilities, message types, versions) repeat across millions of
 * messages; a small hash table of the strings already made saves most allocations. Never used
 * for patient fields: only what readHeader/readAck read goes through it.
 */
const INTERN_SIZE = 1024;
const INTERN_MAX_LEN = 40;
const interned: (string | undefined)[] = new Array(INTERN_SIZE);

/** Hostile frames of nothing but delimiters must not grow these without bound. */
const MAX_SEGMENTS = 1 << 16;
const MAX_FIELDS = 1 << 18;
/** Bytes after which a field counts as long and its end is found by memchr rather than a byte loop. */
const LONG_FIELD = 64;

/** Index of byte b in v[from, end), or end when it is not there. */
function indexIn(v: Buffer, b: number, from: number, end: number): number {
  const p = v.indexOf(b, from);
  return p < 0 || p > end ? end : p;
}

export class Hl7Scanner {
  buf: Buffer = Buffer.alloc(0);
  /** Number of segments recorded by the last scan. */
  count = 0;
  /** The last scan stopped early at MAX_SEGMENTS / MAX_FIELDS. */
  truncated = false;
  segStart = new Int32Array(64);
  segEnd = new Int32Array(64);
  segId = new Int32Array(64);
  /** Index into fieldPos of the segment's field 0 (its id), or -1 if fields were not kept. */
  segBase = new Int32Array(64);
  segFields = new Int32Array(64);
  /** Start offset of each kept field's content (field 0 = the segment id). */
  fieldPos = new Int32Array(512);
  private nFields = 0;

  delims: Delimiters = { ...DEFAULT_DELIMITERS };
  charset: CharsetInfo = charsetFromMsh18('');

  /** Set by range helpers: the last located range [rs, re). */
  rs = 0;
  re = 0;

  /**
   * Scans buf[off..off+len). Returns the number of segments, 0 when the bytes do not begin
   * (after leading whitespace) with MSH, FHS or BHS followed by a field separator.
   */
  scan(buf: Buffer, off: number, len: number): number {
    // Offsets are relative to a view of just this frame, so the native indexOf (memchr) that
    // finds segment and field ends never runs past it into the rest of the chunk.
    const v = off === 0 && len === buf.length ? buf : buf.subarray(off, off + len);
    this.buf = v;
    this.count = 0;
    this.nFields = 0;
    this.truncated = false;
    let i = 0;
    const end = len;
    while (i < end && (v[i] === CR || v[i] === LF || v[i] === 0x20 || v[i] === 0x09)) i++;
    if (end - i < 8) return 0;
    const id0 = (v[i] << 16) | (v[i + 1] << 8) | v[i + 2];
    if (!isHeader(id0)) return 0;
    const fs = v[i + 3];
    // The field separator is any printable non-alphanumeric character; anything else is not HL7.
    if (fs <= 0x20 || fs >= 0x7f || (fs >= 0x30 && fs <= 0x39) || ((fs | 0x20) >= 0x61 && (fs | 0x20) <= 0x7a)) return 0;
    this.delims.field = fs;
    this.setEncodingChars(v, i + 4, end);

    // The next CR, LF and field separator at or after i (end when there is none). Each is
    // searched again only once i has passed it, so the whole scan stays linear even for
    // segments without separators or a message without any LF.
    let nextCr = -1;
    let nextLf = -1;
    let nextFs = -1;
    while (i < end) {
      const c = v[i];
      if (c === CR || c === LF) {
        i++;
        continue;
      }
      if (this.count === MAX_SEGMENTS) {
        this.truncated = true;
        break;
      }
      const s = this.count;
      if (s === this.segStart.length) this.growSegs();
      if (nextCr < i) nextCr = indexIn(v, CR, i, end);
      if (nextLf < i) nextLf = indexIn(v, LF, i, end);
      const segEnd = nextCr < nextLf ? nextCr : nextLf;
      const id = end - i >= 3 ? (v[i] << 16) | (v[i + 1] << 8) | v[i + 2] : 0;
      this.segStart[s] = i;
      this.segId[s] = id;
      if (wantsFields(id)) {
        let nf = this.nFields;
        const base = nf;
        if (nf === this.fieldPos.length) this.growFields();
        this.fieldPos[nf++] = i;
        // Short fields by a byte loop (a call per field would cost more); a long one (an OBX-5
        // with a base64 report) by memchr.
        let last = i;
        let k = i;
        while (k < segEnd) {
          if (v[k] === fs) {
            if (nf === MAX_FIELDS) {
              this.truncated = true;
              break;
            }
            if (nf === this.fieldPos.length) this.growFields();
            this.fieldPos[nf++] = k + 1;
            last = k++;
          } else if (k - last < LONG_FIELD) {
            k++;
          } else {
            if (nextFs < k) nextFs = indexIn(v, fs, k, end);
            k = nextFs < segEnd ? nextFs : segEnd;
          }
        }
        if (this.truncated) {
          this.nFields = nf;
          break;
        }
        this.segBase[s] = base;
        this.segFields[s] = nf - base;
        this.nFields = nf;
      } else {
        this.segBase[s] = -1;
        this.segFields[s] = 0;
      }
      i = segEnd;
      this.segEnd[s] = i;
      this.count++;
    }
    return this.count;
  }

  /** MSH-2 / FHS-2 / BHS-2: up to four encoding characters after the field separator. */
  private setEncodingChars(buf: Buffer, at: number, end: number): void {
    const fs = this.delims.field;
    const enc = [-1, -1, -1, -1];
    for (let k = 0; k < 4 && at + k < end; k++) {
      const b = buf[at + k];
      if (b === fs || b === CR || b === LF) break;
      enc[k] = b;
    }
    // A header without MSH-2 (seen from some devices) falls back to the standard characters.
    const none = enc[0] < 0;
    this.delims.component = none ? DEFAULT_DELIMITERS.component : enc[0];
    this.delims.repetition = none ? DEFAULT_DELIMITERS.repetition : enc[1];
    this.delims.escape = none ? DEFAULT_DELIMITERS.escape : enc[2];
    this.delims.subcomponent = none ? DEFAULT_DELIMITERS.subcomponent : enc[3];
  }

  /** Re-reads encoding characters and MSH-18 from a header segment (each message in a batch has its own MSH). */
  useHeader(seg: number): void {
    const base = this.segBase[seg];
    if (base < 0) return;
    this.setEncodingChars(this.buf, this.segStart[seg] + 4, this.segEnd[seg]);
    this.charset = charsetFromMsh18(this.segId[seg] === Seg.MSH ? this.headerComponent(seg, 18, 1) : '');
  }

  private growSegs(): void {
    const n = this.segStart.length * 2;
    const g = (a: Int32Array) => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    this.segStart = g(this.segStart);
    this.segEnd = g(this.segEnd);
    this.segId = g(this.segId);
    this.segBase = g(this.segBase);
    this.segFields = g(this.segFields);
  }

  private growFields(): void {
    const b = new Int32Array(this.fieldPos.length * 2);
    b.set(this.fieldPos);
    this.fieldPos = b;
  }

  /**
   * Locates field `n` (HL7 numbering) of segment `seg` into rs/re. For header segments field 1
   * is the separator itself and field 2 the encoding characters, so split index = n - 1.
   * Returns false when the field is absent or empty.
   */
  field(seg: number, n: number): boolean {
    const base = this.segBase[seg];
    if (base < 0) return false;
    let idx = n;
    if (isHeader(this.segId[seg])) {
      if (n === 1) {
        this.rs = this.segStart[seg] + 3;
        this.re = this.rs + 1;
        return true;
      }
      idx = n - 1;
    }
    if (idx <= 0 || idx >= this.segFields[seg]) return false;
    this.rs = this.fieldPos[base + idx];
    this.re = idx + 1 < this.segFields[seg] ? this.fieldPos[base + idx + 1] - 1 : this.segEnd[seg];
    return this.re > this.rs;
  }

  /** Narrows [rs, re) to repetition `rep` (0-based). */
  repetition(rep: number): boolean {
    return this.narrow(this.delims.repetition, rep);
  }

  /** Narrows [rs, re) to component `c` (1-based) of the first repetition in range. */
  comp(c: number): boolean {
    this.narrow(this.delims.repetition, 0);
    return this.narrow(this.delims.component, c - 1);
  }

  /** Narrows [rs, re) to subcomponent `s` (1-based). */
  sub(s: number): boolean {
    return this.narrow(this.delims.subcomponent, s - 1);
  }

  private narrow(sep: number, k: number): boolean {
    const buf = this.buf;
    let s = this.rs;
    const e = this.re;
    if (sep < 0) {
      if (k !== 0) this.rs = this.re = e;
      return this.re > this.rs;
    }
    for (let n = 0; n < k; n++) {
      while (s < e && buf[s] !== sep) s++;
      if (s >= e) {
        this.rs = this.re = e;
        return false;
      }
      s++;
    }
    let t = s;
    while (t < e && buf[t] !== sep) t++;
    this.rs = s;
    this.re = t;
    return t > s;
  }

  /** Field n, component c (first repetition) into rs/re. */
  component(seg: number, n: number, c: number): boolean {
    return this.field(seg, n) && this.comp(c);
  }

  /** Decoded text of [start, end) with this message's escapes and charset. */
  text(start: number, end: number): string {
    return decodeText(this.buf, start, end, this.delims, this.charset);
  }

  /**
   * As text(), through the intern table when the range is short plain ASCII without escapes.
   * For non-patient header values only.
   */
  headerText(start: number, end: number): string {
    const n = end - start;
    if (n <= 0) return '';
    if (n > INTERN_MAX_LEN) return this.text(start, end);
    const buf = this.buf;
    const esc = this.delims.escape;
    let h = 0x811c9dc5 ^ n;
    for (let i = start; i < end; i++) {
      const c = buf[i];
      if (c >= 0x80 || c === esc) return this.text(start, end);
      h = Math.imul(h ^ c, 16777619);
    }
    const slot = (h >>> 0) & (INTERN_SIZE - 1);
    const hit = interned[slot];
    if (hit !== undefined && hit.length === n) {
      let k = 0;
      while (k < n && hit.charCodeAt(k) === buf[start + k]) k++;
      if (k === n) return hit;
    }
    const str = latin1(buf, start, end);
    interned[slot] = str;
    return str;
  }

  /** Header field n component c (interned), '' when absent. */
  headerComponent(seg: number, n: number, c: number): string {
    return this.component(seg, n, c) ? this.headerText(this.rs, this.re) : '';
  }

  /** Decoded field n component c of segment seg, '' when absent. */
  componentText(seg: number, n: number, c: number): string {
    return this.component(seg, n, c) ? this.text(this.rs, this.re) : '';
  }

  /**
   * Decoded first repetition of a composite field with components joined by '^' whatever the
   * sender's component character, trailing empty components dropped (HD, EI, MSG types).
   */
  compositeText(seg: number, n: number): string {
    if (!this.field(seg, n) || !this.repetition(0)) return '';
    return this.compositeOfRange(this.rs, this.re);
  }

  /** As compositeText, over an explicit range (one repetition). */
  compositeOfRange(start: number, end: number): string {
    const buf = this.buf;
    const cs = this.delims.component;
    const sub = this.delims.subcomponent;
    let single = true;
    for (let i = start; i < end; i++) {
      if (buf[i] === cs || buf[i] === sub) {
        single = false;
        break;
      }
    }
    if (single) return this.headerText(start, end);
    let out = '';
    let pending = '';
    let s = start;
    for (let i = start; i <= end; i++) {
      if (i === end || buf[i] === cs) {
        // Subcomponents (e.g. HD inside a CWE) are flattened with '&' for readability.
        let t = s;
        while (t < i && buf[t] !== sub) t++;
        const part = t === i ? this.headerText(s, i) : this.text(s, i).split(String.fromCharCode(sub)).join('&');
        if (part !== '') {
          out += pending + part;
          pending = '^';
        } else if (out !== '') pending += '^';
        s = i + 1;
      }
    }
    return out;
  }

  /** Whether [start, end) holds a value: something besides delimiters and the HL7 null `""`. */
  hasValue(start: number, end: number): boolean {
    const b = this.buf;
    if (end - start === 2 && b[start] === 0x22 && b[start + 1] === 0x22) return false;
    const d = this.delims;
    for (let i = start; i < end; i++) {
      const c = b[i];
      if (c !== d.component && c !== d.repetition && c !== d.subcomponent && c !== 0x20) return true;
    }
    return false;
  }

  /** Whether field n of seg holds a value. */
  fieldHasValue(seg: number, n: number): boolean {
    return this.field(seg, n) && this.hasValue(this.rs, this.re);
  }

  /** Whether any field of seg (after the set id, field 1) holds a value; works for skipped segments too. */
  segmentHasValue(seg: number): boolean {
    const start = this.segStart[seg] + 3;
    const end = this.segEnd[seg];
    const fs = this.delims.field;
    // Skip field 1 (Set ID), which every such segment carries.
    let i = start + 1;
    while (i < end && this.buf[i] !== fs) i++;
    return i < end && this.hasFieldValue(i + 1, end);
  }

  private hasFieldValue(start: number, end: number): boolean {
    const fs = this.delims.field;
    let s = start;
    for (let i = start; i <= end; i++) {
      if (i === end || this.buf[i] === fs) {
        if (this.hasValue(s, i)) return true;
        s = i + 1;
      }
    }
    return false;
  }
}

/** What one MSH (with its MSA/ERR) says, decoded. No patient data. */
export interface Hl7Header {
  /** MSH-9.1 */
  messageCode: string;
  /** MSH-9.2 */
  triggerEvent: string;
  /** MSH-9.3 */
  messageStructure: string;
  /** MSH-10 */
  controlId: string;
  /** MSH-11.1 (P, T, D) */
  processingId: string;
  /** MSH-12.1 */
  version: string;
  /** MSH-7.1, as sent (HL7 DTM) */
  dateTime: string;
  /** MSH-3 … MSH-6 (HD, components joined by '^') */
  sendingApplication: string;
  sendingFacility: string;
  receivingApplication: string;
  receivingFacility: string;
  /** MSH-15 / MSH-16 (enhanced acknowledgement mode), '' in original mode */
  acceptAckType: string;
  applicationAckType: string;
  /** MSH-18, normalised */
  charset: string;
}

export interface Hl7AckInfo {
  /** MSA-1: AA AE AR CA CE CR */
  code: string;
  /** MSA-2: the control id being acknowledged */
  controlId: string;
  /** ERR-3.1 (v2.5+) or ERR-1.4.1 (v2.3/2.4): table codes only, never the free text */
  errorCodes: string[];
  /** ERR-4 (E, W, I, F) */
  severities: string[];
}

const MAX_ERR = 8;

/** MSH-9.1/9.2 codes (HL7 tables 0076/0003): three letters or digits. */
const CODE = /^[A-Z0-9]{3}$/;
/** MSH-12.1: a v2 version id (2.1 … 2.9, with minor parts). */
const VERSION = /^2\.[0-9](\.[0-9]{1,2})?$/;
/**
 * MSH-7 as engines send it: DTM to at least the minute. A bare date is refused, because in a
 * misframed message that position holds whatever field landed there (a birth date, say).
 */
const MESSAGE_TIME = /^[0-9]{12}([0-9]{2}(\.[0-9]{1,4})?)?([+-][0-9]{4})?$/;
/** MSH-11.1 (table 0103). */
const PROCESSING_ID = /^[PTD]$/;
/** MSA-1 (table 0008). */
const ACK_CODE = /^[AC][AER]$/;
/** ERR-3.1 / ERR-1.4.1 table codes. */
const ERROR_CODE = /^[A-Za-z0-9_.-]{1,16}$/;
/**
 * MSH-10 / MSA-2 as engines make them: counters, timestamps, UUIDs. Anything with other
 * characters, or holding a fødselsnummer, is a field that slid into this position and is not
 * echoed (ACK pairing then treats the message as unidentified).
 */
const CONTROL_ID = /^[A-Za-z0-9._:\-]{1,64}$/;

export function controlIdText(s: string): string {
  return CONTROL_ID.test(s) && !holdsFnr(s) ? s : '';
}

const EMPTY_HEADER: Omit<Hl7Header, 'charset'> = {
  messageCode: '',
  triggerEvent: '',
  messageStructure: '',
  controlId: '',
  processingId: '',
  version: '',
  dateTime: '',
  sendingApplication: '',
  sendingFacility: '',
  receivingApplication: '',
  receivingFacility: '',
  acceptAckType: '',
  applicationAckType: '',
};

/**
 * A header is believed only when its message code and version are what HL7 allows there. A
 * message whose segments ran together (a sender ending segments with LF, a cut frame, hostile
 * bytes) puts other segments' fields — patient names, birth dates, addresses — where MSH-3…12
 * should be; reporting those positions as text would write patient values into events. Such a
 * header is reported empty (`implausibleHeader` tells the parser), and a believed one still has
 * each typed field checked against its format.
 */
export function plausibleHeader(h: Hl7Header): boolean {
  return CODE.test(h.messageCode) && VERSION.test(h.version) && (h.triggerEvent === '' || CODE.test(h.triggerEvent));
}

export function readHeader(sc: Hl7Scanner, msh: number): Hl7Header {
  const h = readHeaderFields(sc, msh);
  if (!plausibleHeader(h)) return { ...EMPTY_HEADER, charset: h.charset };
  if (!MESSAGE_TIME.test(h.dateTime)) h.dateTime = '';
  if (!PROCESSING_ID.test(h.processingId)) h.processingId = '';
  h.controlId = controlIdText(h.controlId);
  h.sendingApplication = hdText(h.sendingApplication);
  h.sendingFacility = hdText(h.sendingFacility);
  h.receivingApplication = hdText(h.receivingApplication);
  h.receivingFacility = hdText(h.receivingFacility);
  return h;
}

/** HL7 table 0301, the universal id types an HD may name. */
const UNIVERSAL_ID_TYPE = /^(?:DNS|GUID|HCD|HL7|ISO|L|M|N|RANDOM|URI|UUID|X400|X500)$/i;
/** A phone number (`+4722334455`) or a run of ten or more digits is no application or facility. */
const PHONE_OR_LONG_NUMBER = /\+\d{6,}|\d{10}/;

/**
 * HD-1, the namespace id, is a coded value (IS, user table 0300): a code such as `LIS_MIDAS` or
 * `OUS-LAB`, not prose. Text with spaces or other signs (`Storgata 1`, a street address that slid
 * into the field) is not reported.
 */
const NAMESPACE_ID = /^[A-Za-z0-9_.\-]{1,40}$/;
/** HD-2 under a table-0301 type: an OID, a DNS name, a UUID or a URI's characters. */
const UNIVERSAL_ID = /^[A-Za-z0-9_.\-:/]{1,64}$/;

/**
 * MSH-3..6 as an HD: the namespace id alone, or with the universal id when a table-0301 type
 * says what it is. `NORDMANN^KARI` has an HD's separators but no type: only `NORDMANN` is kept,
 * never the pair. Text holding a fødselsnummer or a phone number, or that is no code, is dropped.
 */
export function hdText(v: string): string {
  if (v === '' || holdsFnr(v) || PHONE_OR_LONG_NUMBER.test(v)) return '';
  const caret = v.indexOf('^');
  if (caret < 0) return NAMESPACE_ID.test(v) ? v : '';
  const parts = v.split('^');
  const ns = parts[0] === '' || NAMESPACE_ID.test(parts[0]) ? parts[0] : '';
  return parts.length === 3 && UNIVERSAL_ID_TYPE.test(parts[2]) && UNIVERSAL_ID.test(parts[1]) ? `${ns}^${parts[1]}^${parts[2]}` : ns;
}

function readHeaderFields(sc: Hl7Scanner, msh: number): Hl7Header {
  sc.useHeader(msh);
  return {
    messageCode: sc.headerComponent(msh, 9, 1),
    triggerEvent: sc.headerComponent(msh, 9, 2),
    messageStructure: sc.headerComponent(msh, 9, 3),
    // Control ids and times are unique per message: interning them would only churn the table.
    controlId: sc.field(msh, 10) && sc.repetition(0) ? sc.text(sc.rs, sc.re) : '',
    processingId: sc.headerComponent(msh, 11, 1),
    version: sc.headerComponent(msh, 12, 1),
    dateTime: sc.componentText(msh, 7, 1),
    sendingApplication: sc.compositeText(msh, 3),
    sendingFacility: sc.compositeText(msh, 4),
    receivingApplication: sc.compositeText(msh, 5),
    receivingFacility: sc.compositeText(msh, 6),
    acceptAckType: upper(sc.headerComponent(msh, 15, 1)),
    applicationAckType: upper(sc.headerComponent(msh, 16, 1)),
    charset: sc.charset.name,
  };
}

/** toUpperCase allocates even for upper-case input; codes are upper-case on the wire. */
function upper(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x61 && c <= 0x7a) return s.toUpperCase();
  }
  return s;
}

/** MSA and ERR of the message in segments [from, to). Null when it has no MSA. */
export function readAck(sc: Hl7Scanner, from: number, to: number): Hl7AckInfo | null {
  let ack: Hl7AckInfo | null = null;
  for (let s = from; s < to; s++) {
    const id = sc.segId[s];
    if (id === Seg.MSA && ack === null) {
      ack = {
        code: upper(sc.headerComponent(s, 1, 1)),
        controlId: controlIdText(sc.field(s, 2) && sc.repetition(0) ? sc.text(sc.rs, sc.re) : ''),
        errorCodes: [],
        severities: [],
      };
    }
  }
  if (ack === null) return null;
  // An MSA without an acknowledgement code HL7 defines is another segment's text, not an answer.
  if (!ACK_CODE.test(ack.code)) return null;
  for (let s = from; s < to && ack.errorCodes.length < MAX_ERR; s++) {
    if (sc.segId[s] !== Seg.ERR) continue;
    // ERR-3 is HL7 table 0357 (v2.5+); before that the code sat in ERR-1.4 (ELD).
    let code = sc.headerComponent(s, 3, 1);
    if (code === '' && sc.component(s, 1, 4)) code = sc.text(sc.rs, sc.re).split(String.fromCharCode(sc.delims.subcomponent))[0];
    if (ERROR_CODE.test(code) && !holdsFnr(code) && !ack.errorCodes.includes(code)) ack.errorCodes.push(code);
    const sev = upper(sc.headerComponent(s, 4, 1));
    if (sev !== '' && sev.length <= 2 && !ack.severities.includes(sev)) ack.severities.push(sev);
  }
  return ack;
}

const MAX_EQUIPMENT = 16;
/**
 * An equipment identifier (EI: entity id ^ namespace ^ universal id ^ type) as devices send
 * them: letters, digits and `._:-` in each component. Spaces, or a component shaped like a
 * person's name or an address, mean another field landed here (a misframed message); it is not
 * reported.
 */
const EQUIPMENT_ID = /^[A-Za-z0-9._:-]{1,64}(\^[A-Za-z0-9._:-]{0,64}){0,3}$/;

/** PRT-16 (participation device) and OBX-18 (equipment instance) identifiers, all repetitions. */
export function readEquipment(sc: Hl7Scanner, from: number, to: number): string[] {
  let out: string[] | null = null;
  for (let s = from; s < to; s++) {
    const id = sc.segId[s];
    const n = id === Seg.OBX ? 18 : id === Seg.PRT ? 16 : 0;
    if (n === 0 || !sc.field(s, n)) continue;
    const fs = sc.rs;
    const fe = sc.re;
    for (let r = 0; r < MAX_EQUIPMENT; r++) {
      sc.rs = fs;
      sc.re = fe;
      if (!sc.repetition(r)) {
        if (sc.rs >= fe) break;
        continue;
      }
      const v = sc.compositeOfRange(sc.rs, sc.re);
      if (v === '' || !EQUIPMENT_ID.test(v) || holdsFnr(v)) continue;
      if (out === null) out = [];
      if (!out.includes(v)) out.push(v);
      if (out.length >= MAX_EQUIPMENT) return out;
    }
  }
  return out ?? [];
}
