/**
 * Content probe for the analyzer registry: is this the start of a DICOM association, on any
 * port? It looks only at the first 42 bytes of the client's stream: an A-ASSOCIATE-RQ header
 * (type 0x01, reserved 0x00, plausible length), protocol version 0x0001, and two AE titles
 * of printable ASCII that are not all spaces. Random or other-protocol bytes fail within the
 * first two bytes, so a negative answer costs nothing.
 */

import { ProbeVerdict } from '../probe.js';

/** Fixed part (68) plus the smallest application-context and presentation-context items. */
const MIN_RQ_LENGTH = 68 + 4 + 1 + 4 + 4;
const PROBE_BYTES = 42;

function aeOk(buf: Buffer, from: number, to: number): ProbeVerdict {
  let sawText = false;
  for (let i = from; i < to; i++) {
    const c = buf[i];
    if (c < 0x20 || c > 0x7e) {
      // Some stacks pad with NUL instead of spaces, but only after the title.
      if (c !== 0x00 || !sawText) return ProbeVerdict.No;
      for (let j = i; j < to; j++) if (buf[j] !== 0x00 && buf[j] !== 0x20) return ProbeVerdict.No;
      return ProbeVerdict.Yes;
    }
    if (c !== 0x20) sawText = true;
  }
  return sawText ? ProbeVerdict.Yes : ProbeVerdict.No;
}

export function probeDicom(buf: Buffer, off: number, len: number): ProbeVerdict {
  if (off < 0 || len <= 0) return ProbeVerdict.NeedMore;
  const end = Math.min(buf.length, off + len);
  const n = end - off;
  if (n <= 0) return ProbeVerdict.NeedMore;
  if (buf[off] !== 0x01) return ProbeVerdict.No;
  if (n < 2) return ProbeVerdict.NeedMore;
  if (buf[off + 1] !== 0x00) return ProbeVerdict.No;
  if (n < 6) return ProbeVerdict.NeedMore;
  const pduLength = buf.readUInt32BE(off + 2);
  // Too short cannot be an A-ASSOCIATE-RQ. Too long can be a hostile one (corpus 28:
  // 0xFFFFFFF0): version and AE titles decide, and the parser reports the length as malformed.
  if (pduLength < MIN_RQ_LENGTH) return ProbeVerdict.No;
  if (n < 8) return ProbeVerdict.NeedMore;
  if (buf.readUInt16BE(off + 6) !== 0x0001) return ProbeVerdict.No;
  // Check each AE as soon as its 16 bytes are here, so junk is refused early.
  if (n < 26) return ProbeVerdict.NeedMore;
  if (aeOk(buf, off + 10, off + 26) === ProbeVerdict.No) return ProbeVerdict.No;
  if (n < PROBE_BYTES) return ProbeVerdict.NeedMore;
  if (aeOk(buf, off + 26, off + 42) === ProbeVerdict.No) return ProbeVerdict.No;
  return ProbeVerdict.Yes;
}
