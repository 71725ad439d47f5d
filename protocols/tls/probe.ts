import { ProbeVerdict } from '../probe.js';

/**
 * A TLS (or SSLv3) record carrying a hello: content type 22, version 3.0–3.4, a plausible
 * record length, a ClientHello (1) or ServerHello (2) whose length fits a hello (at least the
 * 38 bytes of a ServerHello, under 64 KiB) and whose own version is 3.x as well.
 */
export function probeTls(buf: Buffer, off: number, len: number): ProbeVerdict {
  if (len < 1) return ProbeVerdict.NeedMore;
  if (buf[off] !== 0x16) return ProbeVerdict.No;
  if (len < 6) return ProbeVerdict.NeedMore;
  if (buf[off + 1] !== 3 || buf[off + 2] > 4) return ProbeVerdict.No;
  const recLen = buf.readUInt16BE(off + 3);
  if (recLen < 4 || recLen > 16384 + 2048) return ProbeVerdict.No;
  const hs = buf[off + 5];
  if (hs !== 1 && hs !== 2) return ProbeVerdict.No;
  if (len < 10) return ProbeVerdict.NeedMore;
  const hsLen = buf.readUIntBE(off + 6, 3);
  if (hsLen < 38 || hsLen > 0xffff) return ProbeVerdict.No;
  return buf[off + 9] === 3 ? ProbeVerdict.Yes : ProbeVerdict.No;
}
