import { classifyFnrDigits, FnrKind } from '../phi/fodselsnummer.js';
/**
 * A bounds-checked cursor over one Buffer window [pos, end).
 *
 * Hostile lengths are the normal case for a passive parser, so reads past `end` do not
 * throw: they return 0/'' and set the sticky `overrun` flag, and the caller checks it once
 * per item. This keeps exceptions (slow, and easy to forget to catch) off the hot path and
 * makes "item length runs past its PDU" a flag, never an out-of-bounds read.
 */
export class ByteReader {
  overrun = false;

  constructor(
    readonly buf: Buffer,
    public pos: number,
    public end: number,
  ) {
    if (end > buf.length) this.end = buf.length;
    if (pos > this.end) this.pos = this.end;
  }

  remaining(): number {
    return this.end - this.pos;
  }

  has(n: number): boolean {
    return n >= 0 && this.end - this.pos >= n;
  }

  private take(n: number): number {
    if (n < 0 || this.end - this.pos < n) {
      this.overrun = true;
      this.pos = this.end;
      return -1;
    }
    const p = this.pos;
    this.pos += n;
    return p;
  }

  u8(): number {
    const p = this.take(1);
    return p < 0 ? 0 : this.buf[p];
  }

  u16be(): number {
    const p = this.take(2);
    return p < 0 ? 0 : this.buf.readUInt16BE(p);
  }

  u32be(): number {
    const p = this.take(4);
    return p < 0 ? 0 : this.buf.readUInt32BE(p);
  }

  skip(n: number): void {
    this.take(n);
  }

  /** A sub-reader over the next n bytes; the parent moves past them. */
  sub(n: number): ByteReader {
    const p = this.take(n);
    return p < 0 ? new ByteReader(this.buf, this.end, this.end) : new ByteReader(this.buf, p, p + n);
  }

  /** The next 16 bytes as an AE title (see `aeTitle`). */
  ae(): string {
    const p = this.take(16);
    return p < 0 ? '' : aeTitle(this.buf, p, p + 16);
  }

  /** Next n bytes as printable text (see `printable`). */
  text(n: number, max = 64): string {
    const p = this.take(n);
    return p < 0 ? '' : printable(this.buf, p, p + n, max);
  }
}

/**
 * Bytes as trimmed printable ASCII, at most `max` characters. Anything else becomes '?', so
 * a hostile peer cannot put control characters or terminal escapes into our events; the
 * trailing NUL/space padding DICOM uses for even lengths is dropped.
 */
export function printable(buf: Buffer, start: number, end: number, max = 64): string {
  while (end > start && (buf[end - 1] === 0x20 || buf[end - 1] === 0x00)) end--;
  while (start < end && (buf[start] === 0x20 || buf[start] === 0x00)) start++;
  if (end - start > max) end = start + max;
  let s = '';
  for (let i = start; i < end; i++) {
    const c = buf[i];
    s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '?';
  }
  return s;
}

/**
 * An AE title is 16 characters of DICOM's default repertoire without backslash or control
 * characters (PS3.5 §6.2), space-padded (and, here, without `^`). A field that breaks that is not a device's name but
 * misframed or hostile bytes — possibly dataset content with patient values — so it is reported
 * as invalid, never echoed.
 */
export function aeTitle(buf: Buffer, start: number, end: number): string {
  while (end > start && (buf[end - 1] === 0x20 || buf[end - 1] === 0x00)) end--;
  while (start < end && buf[start] === 0x20) start++;
  let digits = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i];
    // `^` is allowed by the AE repertoire but is DICOM's person-name separator: an "AE title" with
    // one is a patient name that slid into the field, not a device.
    if (c < 0x20 || c > 0x7e || c === 0x5c || c === 0x5e) return INVALID_AE;
    // Nor is a title holding a fødselsnummer (`PACS` + the number) a device's name.
    if (c < 0x30 || c > 0x39) digits = 0;
    else if (++digits >= 11 && classifyFnrDigits(buf, i - 10) !== FnrKind.Invalid) return INVALID_AE;
  }
  return buf.toString('latin1', start, end);
}

export const INVALID_AE = '<invalid-ae>';

/**
 * A UID is digits and dots, ≤ 64 chars; anything else is reported as invalid, not echoed. So is
 * a UID with a component whose digits hold a valid fødselsnummer anywhere in them: a patient's
 * number in a UID field (a misframed PDU, a site that builds UIDs from it) never goes out. Class
 * and syntax UIDs rarely have components of eleven digits or more, so little is lost.
 */
export function uidText(buf: Buffer, start: number, end: number): string {
  while (end > start && (buf[end - 1] === 0x00 || buf[end - 1] === 0x20)) end--;
  const n = end - start;
  if (n <= 0) return '';
  if (n > 64) return INVALID_UID;
  let run = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c === 0x2e) run = 0;
    else if (c < 0x30 || c > 0x39) return INVALID_UID;
    else if (++run >= 11 && classifyFnrDigits(buf, i - 10) !== FnrKind.Invalid) return INVALID_UID;
  }
  return buf.toString('latin1', start, end);
}

export const INVALID_UID = '<invalid-uid>';
