/**
 * The server's leaf certificate from a TLS ≤ 1.2 Certificate message (RFC 5246 §7.4.2).
 *
 * A bounds-checked DER walk finds the validity and the raw issuer/subject names (so the
 * dates are exact whatever the Node version, and a self-signed certificate is recognised
 * even when OpenSSL refuses the rest); node:crypto's X509Certificate gives the printable
 * names and checks the self-signature. Nothing here throws.
 */
import type { CertificateInfo } from '../events/index.js';
import type { KeyObject, X509Certificate } from 'node:crypto';
import { nodeCrypto } from '../node-crypto.js';

/**
 * Subject and issuer are kept whole up to this many characters. A longer name is cut after
 * the last whole attribute that fits, ends in NAME_CUT and is flagged (`subject_truncated`).
 */
export const MAX_NAME = 2048;
/** Marks a name cut at MAX_NAME (the cut names are flagged as well). */
export const NAME_CUT = ', …';

export type { CertificateInfo };

export interface LeafCertificate {
  info: CertificateInfo;
  /** Validity as epoch seconds (NaN when unreadable), for the expiry check. */
  notBeforeSec: number;
  notAfterSec: number;
}

export type CertificateIssue = 'empty' | 'truncated' | 'bad-der';

/**
 * Reads `certificate_list` from a Certificate body. `truncated` says the message was cut at
 * the buffering cap: a leaf that fits is still read.
 */
export function parseCertificateMessage(buf: Buffer, off: number, end: number): LeafCertificate | CertificateIssue {
  if (end - off < 3) return 'truncated';
  const listEnd = Math.min(end, off + 3 + buf.readUIntBE(off, 3));
  let p = off + 3;
  if (p + 3 > listEnd) return 'empty';
  const leafLen = buf.readUIntBE(p, 3);
  const leafStart = p + 3;
  if (leafStart + leafLen > listEnd) return 'truncated';
  // Chain length, counting only entries that fit in what we hold.
  let chain = 0;
  while (p + 3 <= listEnd) {
    const n = buf.readUIntBE(p, 3);
    if (p + 3 + n > listEnd) break;
    chain++;
    p += 3 + n;
  }
  const leaf = readCertificate(buf, leafStart, leafStart + leafLen);
  if (leaf === null) return 'bad-der';
  leaf.info.chain_length = Math.max(chain, 1);
  return leaf;
}

/** One DER certificate in `buf[s, e)`. Null when its outer structure is not a certificate. */
export function readCertificate(buf: Buffer, s: number, e: number): LeafCertificate | null {
  const outer = tlv(buf, s, e);
  if (outer === null || outer.tag !== 0x30 || outer.end !== e) return null;
  const tbs = tlv(buf, outer.start, outer.end);
  if (tbs === null || tbs.tag !== 0x30) return null;
  let t = tlv(buf, tbs.start, tbs.end);
  if (t !== null && t.tag === 0xa0) t = tlv(buf, t.end, tbs.end); // [0] version
  if (t === null || t.tag !== 0x02) return null; // serialNumber
  const sigAlg = tlv(buf, t.end, tbs.end);
  if (sigAlg === null || sigAlg.tag !== 0x30) return null;
  const issuer = tlv(buf, sigAlg.end, tbs.end);
  if (issuer === null || issuer.tag !== 0x30) return null;
  const validity = tlv(buf, issuer.end, tbs.end);
  if (validity === null || validity.tag !== 0x30) return null;
  const subject = tlv(buf, validity.end, tbs.end);
  if (subject === null || subject.tag !== 0x30) return null;
  const nb = tlv(buf, validity.start, validity.end);
  const na = nb === null ? null : tlv(buf, nb.end, validity.end);
  const notBeforeSec = nb === null ? NaN : derTime(buf, nb.tag, nb.start, nb.end);
  const notAfterSec = na === null ? NaN : derTime(buf, na.tag, na.start, na.end);

  const der = buf.subarray(s, e);
  const sha256 = nodeCrypto().createHash('sha256').update(der).digest('hex');
  // A server shows the same certificate to every client: decode and verify it once.
  const known = certificateCache.get(sha256);
  if (known !== undefined) return { info: { ...known.info }, notBeforeSec: known.notBeforeSec, notAfterSec: known.notAfterSec };
  const sameName = buf.compare(buf, issuer.hdr, issuer.end, subject.hdr, subject.end) === 0;
  const info: CertificateInfo = {
    subject: '',
    issuer: '',
    not_before: isoSeconds(notBeforeSec),
    not_after: isoSeconds(notAfterSec),
    self_signed: false,
    sha256,
    chain_length: 1,
  };
  let x: X509Certificate | null = null;
  try {
    x = new (nodeCrypto().X509Certificate)(der);
    const subject = joinName(x.subject);
    const issuer = joinName(x.issuer);
    info.subject = cutName(subject);
    info.issuer = cutName(issuer);
    if (subject.length > MAX_NAME) info.subject_truncated = true;
    if (issuer.length > MAX_NAME) info.issuer_truncated = true;
  } catch {
    x = null;
  }
  if (sameName) {
    // Verified when the key and algorithm allow it; otherwise equal names decide.
    let verified: boolean | null = null;
    if (x !== null) {
      try {
        const key = x.publicKey;
        if (cheapToVerify(key)) verified = x.verify(key);
      } catch {
        verified = null;
      }
    }
    info.self_signed = verified !== false;
  }
  const leaf = { info, notBeforeSec, notAfterSec };
  if (certificateCache.size >= CERTIFICATE_CACHE_SIZE) certificateCache.delete(certificateCache.keys().next().value as string);
  certificateCache.set(sha256, { info: { ...info }, notBeforeSec, notAfterSec });
  return leaf;
}

/** Certificates seen recently, by SHA-256 of their DER (bounded; oldest out first). */
const CERTIFICATE_CACHE_SIZE = 256;
const certificateCache = new Map<string, LeafCertificate>();

/**
 * Whether checking the self-signature costs at most a normal handshake's worth of CPU. A
 * hostile peer picks the key: a 16k-bit RSA modulus or a huge public exponent would make one
 * verification cost milliseconds, per connection. Those fall back to the name comparison.
 */
function cheapToVerify(key: KeyObject): boolean {
  const d = key.asymmetricKeyDetails;
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss':
      return d !== undefined && (d.modulusLength ?? Infinity) <= 8192 && (d.publicExponent ?? 1n << 64n) <= 0xffffffffn;
    case 'ec':
      return d?.namedCurve !== undefined; // explicit curve parameters are not checked
    case 'ed25519':
    case 'ed448':
      return true;
  }
  return false;
}

/** OpenSSL's multi-line name ("O=…\nCN=…") as one line. */
function joinName(name: string): string {
  return name.split('\n').join(', ');
}

/**
 * A one-line name, whole up to MAX_NAME. Longer, it keeps the attributes that fit whole (or
 * the head of an endless first attribute) and ends in NAME_CUT, so a reader never mistakes a
 * cut name for the whole one.
 */
export function cutName(s: string): string {
  if (s.length <= MAX_NAME) return s;
  const cut = s.lastIndexOf(', ', MAX_NAME - NAME_CUT.length);
  return (cut > 0 ? s.slice(0, cut) : s.slice(0, MAX_NAME - NAME_CUT.length)) + NAME_CUT;
}

function isoSeconds(sec: number): string {
  if (!Number.isFinite(sec)) return '';
  const d = new Date(sec * 1000);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString().slice(0, 19) + 'Z';
}

interface Tlv {
  tag: number;
  /** Offset of the tag byte. */
  hdr: number;
  start: number;
  end: number;
}

/** One DER TLV with a single-byte tag, inside `[p, limit)`; null when it does not fit. */
function tlv(buf: Buffer, p: number, limit: number): Tlv | null {
  if (p + 2 > limit) return null;
  const tag = buf[p];
  let len = buf[p + 1];
  let q = p + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || q + n > limit) return null;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[q + i];
    q += n;
  }
  if (q + len > limit) return null;
  return { tag, hdr: p, start: q, end: q + len };
}

/** UTCTime (YYMMDDHHMMSSZ) or GeneralizedTime (YYYYMMDDHHMMSS[.f]Z) as epoch seconds, NaN if odd. */
function derTime(buf: Buffer, tag: number, s: number, e: number): number {
  const txt = buf.toString('latin1', s, e);
  let m: RegExpExecArray | null;
  let year: number;
  if (tag === 0x17 && (m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?Z$/.exec(txt)) !== null) {
    const yy = Number(m[1]);
    year = yy >= 50 ? 1900 + yy : 2000 + yy; // RFC 5280 §4.1.2.5.1
  } else if (tag === 0x18 && (m = /^(\d\d\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?(?:\.\d+)?Z$/.exec(txt)) !== null) {
    year = Number(m[1]);
  } else {
    return NaN;
  }
  const ms = Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? '0'));
  return ms / 1000;
}
