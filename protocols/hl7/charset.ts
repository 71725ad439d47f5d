import { isUtf8 } from 'node:buffer';
import { TextDecoder } from 'node:util';

/**
 * Character sets named by MSH-18 (HL7 table 0211). Only single-byte-delimiter encodings can
 * occur here: UTF-16/32 would break the byte-level delimiter scan, so they are not decoded.
 */
export const enum Charset {
  /** MSH-18 empty: HL7 says ASCII, but the field reality is 8859-1 or UTF-8 without saying so. */
  Unspecified = 0,
  Ascii = 1,
  Latin1 = 2,
  Utf8 = 3,
  /** Another ISO 8859 part or a legacy code page, decoded with TextDecoder when the runtime has it. */
  Other = 4,
}

export interface CharsetInfo {
  charset: Charset;
  /** Normalised name for records (`ascii`, `iso-8859-1`, `utf-8`, `iso-8859-15`, …); '' when unspecified. */
  name: string;
  decoder: TextDecoder | null;
}

const UNSPECIFIED: CharsetInfo = { charset: Charset.Unspecified, name: '', decoder: null };
const ASCII: CharsetInfo = { charset: Charset.Ascii, name: 'ascii', decoder: null };
const LATIN1: CharsetInfo = { charset: Charset.Latin1, name: 'iso-8859-1', decoder: null };
const UTF8: CharsetInfo = { charset: Charset.Utf8, name: 'utf-8', decoder: null };

// TextDecoders are costly to build; there are only a handful of charsets, so keep one each.
const others = new Map<string, CharsetInfo>();

function other(label: string): CharsetInfo {
  let info = others.get(label);
  if (!info) {
    let decoder: TextDecoder | null = null;
    try {
      decoder = new TextDecoder(label);
    } catch {
      // small-icu builds lack most legacy decoders: fall back to Latin-1 (bytes stay visible).
    }
    info = { charset: Charset.Other, name: label, decoder };
    others.set(label, info);
  }
  return info;
}

// MSH-18 is the same few values on every message; remember what each spelling meant.
const byLabel = new Map<string, CharsetInfo>();

/** Maps the first repetition of MSH-18 (case-insensitive) to a charset. */
export function charsetFromMsh18(value: string): CharsetInfo {
  if (value === '') return UNSPECIFIED;
  let info = byLabel.get(value);
  if (info === undefined) {
    info = lookup(value);
    if (byLabel.size < 64) byLabel.set(value, info);
  }
  return info;
}

function lookup(value: string): CharsetInfo {
  const v = value.trim().toUpperCase();
  if (v === '') return UNSPECIFIED;
  if (v === 'ASCII' || v === 'ISO IR6') return ASCII;
  if (v === '8859/1' || v === 'ISO IR100' || v === 'ISO-8859-1' || v === 'LATIN1') return LATIN1;
  if (v === 'UNICODE UTF-8' || v === 'UTF-8' || v === 'UTF8' || v === 'ISO IR192') return UTF8;
  const m = /^8859\/(\d{1,2})$/.exec(v);
  if (m) return other(`iso-8859-${m[1]}`);
  if (v === 'WINDOWS-1252' || v === 'CP1252') return other('windows-1252');
  // Unknown labels still yield text; Latin-1 never throws and keeps ASCII exact.
  return UNSPECIFIED;
}

// Buffer#toString(enc, s, e) dispatches through several JS layers before reaching these
// native slicers; a message decodes ~15 short fields, so call them directly when present.
interface NativeSlices {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}
const proto = Buffer.prototype as unknown as Partial<NativeSlices>;
const HAS_NATIVE = typeof proto.latin1Slice === 'function' && typeof proto.utf8Slice === 'function';

export function latin1(buf: Buffer, start: number, end: number): string {
  return HAS_NATIVE ? (buf as unknown as NativeSlices).latin1Slice(start, end) : latin1(buf, start, end);
}

function utf8(buf: Buffer, start: number, end: number): string {
  return HAS_NATIVE ? (buf as unknown as NativeSlices).utf8Slice(start, end) : utf8(buf, start, end);
}

function allAscii(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] >= 0x80) return false;
  return true;
}

/** Decodes buf[start..end) in the given charset. */
export function decodeBytes(buf: Buffer, start: number, end: number, cs: CharsetInfo): string {
  if (end <= start) return '';
  switch (cs.charset) {
    case Charset.Ascii:
    case Charset.Latin1:
      return latin1(buf, start, end);
    case Charset.Utf8:
      return utf8(buf, start, end);
    case Charset.Other:
      return cs.decoder ? cs.decoder.decode(buf.subarray(start, end)) : latin1(buf, start, end);
    default:
      // Unspecified: ASCII is the common case; otherwise valid UTF-8 is almost never accidental.
      if (allAscii(buf, start, end)) return latin1(buf, start, end);
      return isUtf8(buf.subarray(start, end)) ? utf8(buf, start, end) : latin1(buf, start, end);
  }
}
