/**
 * The DICOM JSON model (PS3.18 annex F: QIDO-RS results, WADO-RS metadata, STOW-RS JSON):
 * objects keyed by tag, `"00100010": {"vr": "PN", "Value": [{"Alphabetic": "…"}]}`. The first
 * bytes of the body (up to a cap) are held and scanned once, without building a JSON tree: a
 * patient element is reported by keyword when its `Value` array is not empty, and Patient ID
 * strings go to the sink to be pseudonymised. Nested sequences are found the same way. A body
 * cut by the cap or a gap is scanned as far as it goes.
 */
import { OTHER_PATIENT_IDS, PATIENT_ELEMENTS, PATIENT_ID, type PeekSink } from '../dicom/dataset-peek.js';

/** How far past a patient key its `Value` is looked for. */
const VALUE_WINDOW = 4096;
/** Patient keys looked into per body: a body of nothing but "00100010" keys costs a bounded scan. */
const MAX_LOOKUPS = 256;
const MAX_ID_LENGTH = 64;
const MAX_IDS_PER_ELEMENT = 8;
const STEP = 4096;

const QUOTE = 0x22;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x57;
  return -1;
}

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

export class DicomJsonScan {
  private held: Buffer | null = null;
  private len = 0;
  private scanned = false;
  /** The body went on past the cap. */
  truncated = false;

  constructor(
    private readonly cap: number,
    private readonly sink: PeekSink,
  ) {}

  get done(): boolean {
    return this.scanned || this.len >= this.cap;
  }

  get inspected(): number {
    return this.len;
  }

  /** Offers buf[off, off+n); returns how many bytes were taken. */
  push(buf: Buffer, off: number, n: number): number {
    if (this.scanned) return 0;
    const take = Math.min(n, this.cap - this.len);
    if (take <= 0) {
      this.truncated = true;
      return 0;
    }
    if (this.held === null || this.held.length < this.len + take) {
      const size = Math.min(this.cap, Math.max(this.len + take, STEP, (this.held?.length ?? 0) * 2));
      const grown = Buffer.allocUnsafe(size);
      if (this.held !== null) this.held.copy(grown, 0, 0, this.len);
      this.held = grown;
    }
    buf.copy(this.held, this.len, off, off + take);
    this.len += take;
    if (take < n) this.truncated = true;
    return take;
  }

  /** The body ended (or was cut): scan what is held, then drop it. */
  end(cut: boolean): void {
    if (this.scanned) return;
    this.scanned = true;
    if (cut) this.truncated = true;
    if (this.held !== null) scanDicomJson(this.held, 0, this.len, this.sink);
    this.held = null;
  }
}

/** Reports the patient elements with a value in buf[from, to) (DICOM JSON text). */
export function scanDicomJson(buf: Buffer, from: number, to: number, sink: PeekSink): void {
  let lookups = 0;
  // A key is `"` + 8 hex digits + `"` followed by `:`; everything else is passed over.
  for (let i = from; i + 10 <= to; i++) {
    if (buf[i] !== QUOTE || buf[i + 9] !== QUOTE) continue;
    let tag = 0;
    let k = 1;
    for (; k <= 8; k++) {
      const h = hexValue(buf[i + k]);
      if (h < 0) break;
      tag = tag * 16 + h;
    }
    if (k <= 8) continue;
    let p = i + 10;
    while (p < to && isSpace(buf[p])) p++;
    if (p >= to || buf[p] !== 0x3a) continue;
    const name = PATIENT_ELEMENTS.get(tag);
    i = p;
    if (name === undefined || lookups >= MAX_LOOKUPS) continue;
    lookups++;
    const v = valueArray(buf, p + 1, Math.min(to, p + 1 + VALUE_WINDOW));
    if (v < 0) continue;
    sink.phi(name);
    if (tag === PATIENT_ID || tag === OTHER_PATIENT_IDS) patientIds(buf, v, Math.min(to, v + VALUE_WINDOW), sink);
  }
}

const VALUE = Buffer.from('"Value"', 'latin1');

/**
 * In the element object starting after the key's colon, the position of the first item of a
 * non-empty `"Value": [` at the object's own depth; -1 when it has none (within the window).
 */
function valueArray(buf: Buffer, p: number, end: number): number {
  while (p < end && isSpace(buf[p])) p++;
  if (p >= end || buf[p] !== 0x7b) return -1;
  let depth = 0;
  let inString = false;
  for (let i = p; i < end; i++) {
    const c = buf[i];
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 0) return -1;
    } else if (c === QUOTE) {
      if (depth === 1 && i + VALUE.length <= end && buf.compare(VALUE, 0, VALUE.length, i, i + VALUE.length) === 0) {
        let q = i + VALUE.length;
        while (q < end && isSpace(buf[q])) q++;
        if (q >= end || buf[q] !== 0x3a) return -1;
        q++;
        while (q < end && isSpace(buf[q])) q++;
        if (q >= end || buf[q] !== 0x5b) return -1;
        q++;
        while (q < end && isSpace(buf[q])) q++;
        if (q >= end || buf[q] === 0x5d) return -1;
        // [null] is an empty value too (PS3.18 §F.2.5).
        if (buf[q] === 0x6e && buf[q + 1] === 0x75 && buf[q + 2] === 0x6c && buf[q + 3] === 0x6c) return -1;
        return q;
      }
      inString = true;
    }
  }
  return -1;
}

/** The strings of a Patient ID `Value` array starting at v, each to the sink (never kept). */
function patientIds(buf: Buffer, v: number, end: number, sink: PeekSink): void {
  let n = 0;
  let i = v;
  while (i < end && n < MAX_IDS_PER_ELEMENT) {
    const c = buf[i];
    if (c === 0x5d) return;
    if (c !== QUOTE) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < end && buf[j] !== QUOTE) j += buf[j] === 0x5c ? 2 : 1;
    if (j >= end) return;
    let s = i + 1;
    let t = j;
    while (s < t && buf[s] === 0x20) s++;
    while (t > s && buf[t - 1] === 0x20) t--;
    if (t > s && t - s <= MAX_ID_LENGTH) {
      sink.patientId(buf.toString('utf8', s, t));
      n++;
    }
    i = j + 1;
  }
}
