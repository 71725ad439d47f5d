/**
 * Content detection for HL7 v2 over MLLP on any port: a start block followed by a header
 * segment and its field separator. Five bytes decide; fewer can only say "maybe".
 */

import { ProbeVerdict } from '../probe.js';

const HEADERS = ['MSH', 'FHS', 'BHS'];

export function probeHl7(buf: Uint8Array, off: number, len: number): ProbeVerdict {
  if (len <= 0) return ProbeVerdict.NeedMore;
  if (buf[off] !== 0x0b) return ProbeVerdict.No;
  const avail = Math.min(len - 1, 3);
  let any = false;
  for (const h of HEADERS) {
    let ok = true;
    for (let k = 0; k < avail; k++) {
      if (buf[off + 1 + k] !== h.charCodeAt(k)) {
        ok = false;
        break;
      }
    }
    if (ok) any = true;
  }
  if (!any) return ProbeVerdict.No;
  if (len < 5) return ProbeVerdict.NeedMore;
  const fs = buf[off + 4];
  // The field separator is printable and not alphanumeric ('|' in practice).
  const alnum = (fs >= 0x30 && fs <= 0x39) || ((fs | 0x20) >= 0x61 && (fs | 0x20) <= 0x7a);
  return fs > 0x20 && fs < 0x7f && !alnum ? ProbeVerdict.Yes : ProbeVerdict.No;
}
