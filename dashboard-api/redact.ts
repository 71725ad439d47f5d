/**
 * The one redaction for request paths in logs, audit rows and error messages: the query string
 * is dropped (filters an officer typed), fødselsnummer-like values (the project's detector,
 * checksums and date checked) become `[redacted]` — also when percent-encoded — and so does
 * any other run of 11 or more digits (a number glued to more digits escapes the detector, which
 * wants it standing alone; no route of this API has such a run). The result is bounded.
 */
import { containsFnr, redactFnr } from '../agent/store/values.js';

const MAX_PATH_CHARS = 256;
const LONG_DIGITS = /[0-9]{11}/;
const LONG_DIGITS_ALL = /[0-9]{11,}/g;

export function redactPath(url: string): string {
  const q = url.indexOf('?');
  let p = q < 0 ? url : url.slice(0, q);
  if (p.length > MAX_PATH_CHARS) p = `${p.slice(0, MAX_PATH_CHARS)}…`;
  if (p.includes('%')) {
    let d = p;
    try {
      d = decodeURIComponent(p);
    } catch {
      // Not valid percent-encoding: decode what can be, so an encoded number is still seen.
      d = p.replace(/%([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
    }
    if (containsFnr(d) || LONG_DIGITS.test(d)) p = d;
  }
  return redactFnr(p).replace(LONG_DIGITS_ALL, '[redacted]');
}
