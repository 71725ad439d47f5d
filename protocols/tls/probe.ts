import { ProbeVerdict } from '../probe.js';

/**
 * A TLS (or SSLv3) record carrying a handshake message: content type 22, version 3.x, a
 * plausible record length, and a ClientHello (1) or ServerHello (2) inside.
 */
export function probeTls(buf: Buffer, off: number, len: number): ProbeVerdict {
  if (len < 1) return ProbeVerdict.NeedMore;
  if (buf[off] !== 0x16) return ProbeVerdict.No;
  if (len < 6) return ProbeVerdict.NeedMore;
  if (buf[off + 1] !== 3 || buf[off + 2] > 4) return ProbeVerdict.No;
  const recLen = buf.readUInt16BE(off + 3);
  if (recLen < 4 || recLen > 16384 + 2048) return ProbeVerdict.No;
  const hs = buf[off + 5];
  return hs === 1 || hs === 2 ? ProbeVerdict.Yes : ProbeVerdict.No;
}
