import { decodeBytes, type CharsetInfo } from './charset.js';

/** The five encoding characters of one message, as bytes (-1 = not declared). */
export interface Delimiters {
  field: number;
  component: number;
  repetition: number;
  escape: number;
  subcomponent: number;
}

export const DEFAULT_DELIMITERS: Readonly<Delimiters> = {
  field: 0x7c, // |
  component: 0x5e, // ^
  repetition: 0x7e, // ~
  escape: 0x5c, // \
  subcomponent: 0x26, // &
};

// Unescaped bytes are assembled here before charset decoding, because \Xhh\ sequences are
// bytes in the message's charset (a UTF-8 'æ' arrives as \XC3A6\), not code points.
let scratch = Buffer.allocUnsafe(1024);

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/**
 * Decodes buf[start..end) as text: escape sequences resolved (\F\ \S\ \T\ \R\ \E\ \Xhh..\
 * \.br\), then bytes decoded in the message charset. Delimiters inside the range are kept
 * as they are, so callers pick the component range first when they want one component.
 */
export function decodeText(buf: Buffer, start: number, end: number, d: Delimiters, cs: CharsetInfo): string {
  const esc = d.escape;
  let first = -1;
  // A bounded loop, not buf.indexOf: buf may be a view into a much larger capture buffer.
  if (esc >= 0) {
    for (let i = start; i < end; i++) {
      if (buf[i] === esc) {
        first = i;
        break;
      }
    }
  }
  if (first < 0) return decodeBytes(buf, start, end, cs);
  // Unescaping never makes text longer, so the range length bounds the scratch size.
  if (scratch.length < end - start) scratch = Buffer.allocUnsafe(Math.max(end - start, scratch.length * 2));
  const out = scratch;
  let o = 0;
  for (let j = start; j < first; j++) out[o++] = buf[j];
  let i = first;
  while (i < end) {
    const c = buf[i];
    if (c !== esc) {
      out[o++] = c;
      i++;
      continue;
    }
    let close = -1;
    for (let j = i + 1; j < end; j++) {
      if (buf[j] === esc) {
        close = j;
        break;
      }
    }
    if (close < 0) {
      // Unterminated: keep the rest literally rather than lose it.
      while (i < end) out[o++] = buf[i++];
      break;
    }
    const n = close - i - 1;
    const k = n > 0 ? buf[i + 1] : 0;
    if (n === 1 && k === 0x46 /* F */) out[o++] = d.field;
    else if (n === 1 && k === 0x53 /* S */) out[o++] = d.component;
    else if (n === 1 && k === 0x54 /* T */) out[o++] = d.subcomponent;
    else if (n === 1 && k === 0x52 /* R */) out[o++] = d.repetition;
    else if (n === 1 && k === 0x45 /* E */) out[o++] = esc;
    else if (k === 0x58 /* X */ && n >= 3 && (n - 1) % 2 === 0) {
      let ok = true;
      const o0 = o;
      for (let j = i + 2; j < close; j += 2) {
        const hi = hexVal(buf[j]);
        const lo = hexVal(buf[j + 1]);
        if (hi < 0 || lo < 0) {
          ok = false;
          break;
        }
        out[o++] = (hi << 4) | lo;
      }
      if (!ok) {
        o = o0;
        for (let j = i; j <= close; j++) out[o++] = buf[j];
      }
    } else if (n === 3 && k === 0x2e /* . */ && buf[i + 2] === 0x62 && buf[i + 3] === 0x72) {
      out[o++] = 0x0a; // \.br\ line break
    } else if (k === 0x2e || k === 0x48 /* H */ || k === 0x4e /* N */ || k === 0x43 /* C */ || k === 0x4d /* M */ || k === 0x5a /* Z */) {
      // Formatting, highlighting, charset switches and locally defined escapes carry no text.
    } else {
      for (let j = i; j <= close; j++) out[o++] = buf[j];
    }
    i = close + 1;
  }
  return decodeBytes(out, 0, o, cs);
}
