import { ProbeVerdict } from '../probe.js';
import { ContentType, MAX_RECORD_LENGTH, RECORD_HEADER_LENGTH } from './constants.js';
import { looksLikeV2Hello } from './sslv2.js';

/**
 * TLS recognised by its first bytes, in either direction:
 * - a TLS (or SSLv3) record carrying a hello: content type 22, version 3.0–3.4, a plausible
 *   record length, a ClientHello (1) or ServerHello (2) whose length fits a hello (at least the
 *   38 bytes of a ServerHello, under 64 KiB) and whose own version is 3.x as well;
 * - an SSL 2.0-format ClientHello or ServerHello whose lengths agree (sslv2.ts);
 * - any other record (change_cipher_spec, alert, handshake, application_data) with version
 *   3.0–3.3 and a plausible length: a connection picked up mid-stream. Where the window holds
 *   the next record's header too, it must be a record of the same version.
 */
export function probeTls(buf: Buffer, off: number, len: number): ProbeVerdict {
  if (len < 1) return ProbeVerdict.NeedMore;
  const type = buf[off];
  if ((type & 0x80) !== 0) {
    const v2 = looksLikeV2Hello(buf, off, len);
    return v2 === 'yes' ? ProbeVerdict.Yes : v2 === 'more' ? ProbeVerdict.NeedMore : ProbeVerdict.No;
  }
  if (type < ContentType.ChangeCipherSpec || type > ContentType.ApplicationData) return ProbeVerdict.No;
  if (len < 6) return ProbeVerdict.NeedMore;
  if (buf[off + 1] !== 3 || buf[off + 2] > 4) return ProbeVerdict.No;
  const recLen = buf.readUInt16BE(off + 3);
  if (type === ContentType.Handshake) {
    const hs = buf[off + 5];
    if (hs === 1 || hs === 2) {
      if (recLen < 4 || recLen > MAX_RECORD_LENGTH) return ProbeVerdict.No;
      if (len < 10) return ProbeVerdict.NeedMore;
      const hsLen = buf.readUIntBE(off + 6, 3);
      if (hsLen < 38 || hsLen > 0xffff) return ProbeVerdict.No;
      return buf[off + 9] === 3 ? ProbeVerdict.Yes : ProbeVerdict.No;
    }
  }
  return midstreamRecords(buf, off, len);
}

/** A run of records as a connection shows them after its handshake. */
function midstreamRecords(buf: Buffer, off: number, len: number): ProbeVerdict {
  const version = buf.readUInt16BE(off + 1);
  if (version > 0x0303) return ProbeVerdict.No; // 3.4 is never a record version
  let p = off;
  const end = off + len;
  for (let n = 0; n < 4; n++) {
    const type = buf[p];
    if (type < ContentType.ChangeCipherSpec || type > ContentType.ApplicationData) return ProbeVerdict.No;
    if (p + 1 < end && buf[p + 1] !== 3) return ProbeVerdict.No;
    if (p + 2 < end && buf[p + 2] !== (version & 0xff)) return ProbeVerdict.No;
    if (p + RECORD_HEADER_LENGTH > end) return ProbeVerdict.Yes; // the rest is past the window
    const recLen = buf.readUInt16BE(p + 3);
    if (recLen === 0 || recLen > MAX_RECORD_LENGTH) return ProbeVerdict.No;
    // change_cipher_spec is one byte; an alert is 2 bytes, or a small encrypted record.
    if (type === ContentType.ChangeCipherSpec && recLen !== 1) return ProbeVerdict.No;
    if (type === ContentType.Alert && recLen > 256) return ProbeVerdict.No;
    p += RECORD_HEADER_LENGTH + recLen;
    if (p >= end) return ProbeVerdict.Yes;
  }
  return ProbeVerdict.Yes;
}
