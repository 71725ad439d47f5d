/**
 * Norwegian national identity numbers: fødselsnummer, D-nummer, H-nummer and synthetic
 * test numbers (Tenor month +80, NAV/Dolly month +40 overlaps H-nummer).
 *
 * A bare "11 digits" matcher is useless on the wire (phone numbers, accession numbers);
 * both mod-11 check digits plus a real calendar date make false positives rare
 * (roughly 1 in 121 * 12 for random digit runs).
 *
 * Works on bytes so scanners can run over packet payloads without decoding strings.
 */

export const enum FnrKind {
  Invalid = 0,
  Fodselsnummer = 1,
  DNummer = 2,
  HNummer = 3,
  /** Synthetic test number (Skatteetaten Tenor: month + 80). */
  Synthetic = 4,
}

/** Name used in `phi.observed.kinds` and as the pseudonym prefix. */
export function fnrKindName(kind: FnrKind): string {
  switch (kind) {
    case FnrKind.Fodselsnummer:
      return 'fodselsnummer';
    case FnrKind.DNummer:
      return 'd-nummer';
    case FnrKind.HNummer:
      return 'h-nummer';
    case FnrKind.Synthetic:
      return 'fodselsnummer-synthetic';
    default:
      return 'invalid';
  }
}

const W1 = [3, 7, 6, 1, 8, 9, 4, 5, 2];
const W2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
const DAYS = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/**
 * Whether (day, month, yy, individual) names a real date. The century comes from the
 * individual number (Skatteetaten's ranges); where two centuries are possible, 29 Feb
 * is accepted if either is a leap year.
 */
function plausibleDate(day: number, month: number, yy: number, ind: number): boolean {
  if (month < 1 || month > 12 || day < 1 || day > DAYS[month]) return false;
  if (month !== 2 || day !== 29) return true;
  // 000–499: 1900–1999; 500–749 with yy ≥ 54: 1854–1899; 500–999 with yy < 40: 2000–2039;
  // 900–999 with yy ≥ 40: 1940–1999. Any century may be right for the leap check.
  let ok = false;
  if (ind <= 499) ok ||= isLeap(1900 + yy);
  if (ind >= 500 && ind <= 749 && yy >= 54) ok ||= isLeap(1800 + yy);
  if (ind >= 500 && yy < 40) ok ||= isLeap(2000 + yy);
  if (ind >= 900 && yy >= 40) ok ||= isLeap(1900 + yy);
  return ok;
}

/** Validates 11 ASCII digits at buf[off..off+11); caller guarantees they are digits. */
export function classifyFnrDigits(buf: Uint8Array, off: number): FnrKind {
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < 9; i++) {
    const d = buf[off + i] - 0x30;
    s1 += d * W1[i];
    s2 += d * W2[i];
  }
  let k1 = 11 - (s1 % 11);
  if (k1 === 11) k1 = 0;
  if (k1 === 10 || k1 !== buf[off + 9] - 0x30) return FnrKind.Invalid;
  s2 += k1 * 2;
  let k2 = 11 - (s2 % 11);
  if (k2 === 11) k2 = 0;
  if (k2 === 10 || k2 !== buf[off + 10] - 0x30) return FnrKind.Invalid;

  let day = (buf[off] - 0x30) * 10 + (buf[off + 1] - 0x30);
  let month = (buf[off + 2] - 0x30) * 10 + (buf[off + 3] - 0x30);
  const yy = (buf[off + 4] - 0x30) * 10 + (buf[off + 5] - 0x30);
  const ind = (buf[off + 6] - 0x30) * 100 + (buf[off + 7] - 0x30) * 10 + (buf[off + 8] - 0x30);

  let kind = FnrKind.Fodselsnummer;
  if (day > 40) {
    day -= 40;
    kind = FnrKind.DNummer;
  }
  if (month > 80) {
    month -= 80;
    kind = FnrKind.Synthetic;
  } else if (month > 40) {
    month -= 40;
    // A D-nummer never also carries the H offset; treat the pair as noise.
    if (kind === FnrKind.DNummer) return FnrKind.Invalid;
    kind = FnrKind.HNummer;
  }
  return plausibleDate(day, month, yy, ind) ? kind : FnrKind.Invalid;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

// Scratch for classifyFnr: strings are checked without allocating per call.
const digits = new Uint8Array(11);

/** Validates a string (exactly 11 digits, nothing else). */
export function classifyFnr(value: string): FnrKind {
  if (value.length !== 11) return FnrKind.Invalid;
  for (let i = 0; i < 11; i++) {
    const c = value.charCodeAt(i);
    if (!isDigit(c)) return FnrKind.Invalid;
    digits[i] = c;
  }
  return classifyFnrDigits(digits, 0);
}

export function isValidFnr(value: string): boolean {
  return classifyFnr(value) !== FnrKind.Invalid;
}

/**
 * Calls `onMatch(start, kind)` for every valid number in buf[off..off+len): a run of exactly
 * 11 ASCII digits (a digit run of 12+ is an accession/order number, not an identity).
 * No allocation; one pass. Returns the number of matches.
 */
export function scanFnr(
  buf: Uint8Array,
  off: number,
  len: number,
  onMatch?: (start: number, kind: FnrKind) => void,
): number {
  const end = off + len;
  let found = 0;
  let i = off;
  // Hot loop (runs over every HL7 message and cleartext payload). Any run of 11 or more digits
  // that starts in [i, i+10] covers byte i+10, so when that byte is not a digit the scan jumps
  // 11 bytes ahead: text is mostly read one byte in eleven. Invariant: i === off or buf[i-1]
  // is not a digit, so a run found by looking back from i+10 starts at i or later.
  while (i + 11 <= end) {
    const probe = i + 10;
    if (buf[probe] - 0x30 >>> 0 > 9) {
      i = probe + 1;
      continue;
    }
    let start = probe;
    while (start > i && buf[start - 1] - 0x30 >>> 0 <= 9) start--;
    let stop = probe + 1;
    while (stop < end && buf[stop] - 0x30 >>> 0 <= 9) stop++;
    if (stop - start === 11) {
      const kind = classifyFnrDigits(buf, start);
      if (kind !== FnrKind.Invalid) {
        found++;
        if (onMatch) onMatch(start, kind);
      }
    }
    // buf[stop] is not a digit (or is the end): the next run starts after it.
    i = stop + 1;
  }
  return found;
}

/** Convenience for tests and low-volume callers: the valid numbers in a string. */
export function findFnrs(text: string): { value: string; kind: FnrKind }[] {
  const buf = Buffer.from(text, 'latin1');
  const out: { value: string; kind: FnrKind }[] = [];
  scanFnr(buf, 0, buf.length, (start, kind) => {
    out.push({ value: buf.toString('latin1', start, start + 11), kind });
  });
  return out;
}

/**
 * True when the text holds a valid fødselsnummer-like number, alone or inside a longer run of
 * digits (a number glued to a code, `200` + the number): such a value is never reported.
 */
export function holdsFnr(s: string): boolean {
  let run = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) {
      run = 0;
      continue;
    }
    // Every eleven-digit window of the run, checked as it is, without a copy to bytes.
    if (++run >= 11 && classifyFnr(s.slice(i - 10, i + 1)) !== FnrKind.Invalid) return true;
  }
  return false;
}
