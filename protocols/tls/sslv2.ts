/**
 * SSL 2.0 messages (draft-hickman-netscape-ssl-00) as old stacks still send them: the
 * SSLv2-format ClientHello (also the "SSLv2-compatible" hello of clients that offer SSL 3.0 or
 * TLS and accept a v2 answer, RFC 5246 appendix E.2), the v2 SERVER-HELLO and the
 * CLIENT-MASTER-KEY that names the cipher the client chose. Read in place from one record
 * body `buf[off, end)` (message type first); every length is checked against the record.
 */
import type { SuiteWeakness } from './cipher-suites.js';
import type { ClientHelloInfo, ServerHelloInfo } from './hello.js';

export const enum V2MessageType {
  ClientHello = 1,
  ClientMasterKey = 2,
  ServerHello = 4,
}

/** 2-byte record header (high bit set); bodies of up to 32767 bytes. */
export const V2_HEADER_LENGTH = 2;
export const SSL2 = 0x0002;

/** A v2 ServerHello's certificate, in place: `[start, end)` of `buf`, or null. */
export interface V2ServerHello {
  info: ServerHelloInfo;
  certStart: number;
  certEnd: number;
  /** Cipher kinds the server accepts (the client picks one in CLIENT-MASTER-KEY). */
  ciphers: number;
}

/** msg_type(1) version(2) cipher_spec_length(2) session_id_length(2) challenge_length(2) cipher_specs… */
export function parseV2ClientHello(buf: Buffer, off: number, end: number): ClientHelloInfo | null {
  if (end - off < 9 || buf[off] !== V2MessageType.ClientHello) return null;
  const specLen = buf.readUInt16BE(off + 3);
  const sidLen = buf.readUInt16BE(off + 5);
  const chLen = buf.readUInt16BE(off + 7);
  const info: ClientHelloInfo = {
    legacyVersion: buf.readUInt16BE(off + 1),
    supportedVersions: null,
    // tshark counts v2 cipher specs (3 bytes each), TLS suites among them included.
    suitesOffered: Math.floor(Math.min(specLen, end - off - 9) / 3),
    sni: null,
    alpn: [],
    issue: null,
  };
  if (specLen % 3 !== 0) info.issue = 'odd-suites-length';
  if (off + 9 + specLen + sidLen + chLen > end) info.issue = 'length-past-message';
  return info;
}

/**
 * msg_type(1) session_id_hit(1) certificate_type(1) server_version(2) certificate_length(2)
 * cipher_specs_length(2) connection_id_length(2) certificate cipher_specs connection_id.
 * The cipher is not chosen here: `cipherSuite` is -1 until CLIENT-MASTER-KEY names it.
 */
export function parseV2ServerHello(buf: Buffer, off: number, end: number): V2ServerHello | null {
  if (end - off < 11 || buf[off] !== V2MessageType.ServerHello) return null;
  const certLen = buf.readUInt16BE(off + 5);
  const specLen = buf.readUInt16BE(off + 7);
  const info: ServerHelloInfo = {
    legacyVersion: buf.readUInt16BE(off + 3),
    selectedVersion: null,
    cipherSuite: -1,
    compression: 0,
    alpn: null,
    helloRetry: false,
    issue: null,
  };
  const certStart = off + 11;
  let certEnd = certStart + certLen;
  if (certEnd > end) {
    info.issue = 'length-past-message';
    certEnd = certStart;
  } else if (certEnd + specLen > end || specLen % 3 !== 0) {
    info.issue = 'length-past-message';
  }
  return { info, certStart, certEnd, ciphers: Math.floor(specLen / 3) };
}

/** CLIENT-MASTER-KEY: msg_type(1) cipher_kind(3) …; the cipher kind, or -1. */
export function v2MasterKeyCipher(buf: Buffer, off: number, end: number): number {
  if (end - off < 4 || buf[off] !== V2MessageType.ClientMasterKey) return -1;
  return buf.readUIntBE(off + 1, 3);
}

/**
 * Whether `buf[off, off+len)` starts with an SSLv2-format ClientHello (2-byte header) whose
 * lengths agree with each other: 'yes', 'no', or 'more' when the 11 bytes that decide are not
 * all there yet. The version must be SSL 2.0 or 3.x, the cipher specs a non-empty multiple of 3,
 * the challenge 16–32 bytes (as the spec and RFC 5246 E.2 require).
 */
export function looksLikeV2Hello(buf: Buffer, off: number, len: number): 'yes' | 'no' | 'more' {
  if (len < 1) return 'more';
  if ((buf[off] & 0x80) === 0) return 'no';
  if (len < 3) return 'more';
  const recLen = ((buf[off] & 0x7f) << 8) | buf[off + 1];
  const type = buf[off + 2];
  if (type === V2MessageType.ClientHello) {
    if (len < 11) return 'more';
    const v = buf.readUInt16BE(off + 3);
    if (v !== SSL2 && (v >> 8 !== 3 || (v & 0xff) > 3)) return 'no';
    const spec = buf.readUInt16BE(off + 5);
    const sid = buf.readUInt16BE(off + 7);
    const ch = buf.readUInt16BE(off + 9);
    if (spec === 0 || spec % 3 !== 0 || (sid !== 0 && sid !== 16) || ch < 16 || ch > 32) return 'no';
    return 9 + spec + sid + ch === recLen ? 'yes' : 'no';
  }
  if (type === V2MessageType.ServerHello) {
    if (len < 13) return 'more';
    const hit = buf[off + 3];
    const certType = buf[off + 4];
    const v = buf.readUInt16BE(off + 5);
    const cert = buf.readUInt16BE(off + 7);
    const spec = buf.readUInt16BE(off + 9);
    const cid = buf.readUInt16BE(off + 11);
    if (hit > 1 || v !== SSL2 || spec % 3 !== 0 || cid < 16 || cid > 32) return 'no';
    if (hit === 0 && (certType !== 1 || cert === 0 || spec === 0)) return 'no';
    return 11 + cert + spec + cid === recLen ? 'yes' : 'no';
  }
  return 'no';
}

/** SSL 2.0 cipher kinds (draft-hickman appendix C), named as tshark names them. */
const V2_CIPHERS = new Map<number, string>([
  [0x010080, 'SSL2_RC4_128_WITH_MD5'],
  [0x020080, 'SSL2_RC4_128_EXPORT40_WITH_MD5'],
  [0x030080, 'SSL2_RC2_128_CBC_WITH_MD5'],
  [0x040080, 'SSL2_RC2_128_CBC_EXPORT40_WITH_MD5'],
  [0x050080, 'SSL2_IDEA_128_CBC_WITH_MD5'],
  [0x060040, 'SSL2_DES_64_CBC_WITH_MD5'],
  [0x0700c0, 'SSL2_DES_192_EDE3_CBC_WITH_MD5'],
]);

export function v2CipherName(kind: number): string {
  return V2_CIPHERS.get(kind) ?? '0x' + kind.toString(16).padStart(6, '0');
}

/** What makes an SSL 2.0 cipher kind weak, in the same terms as cipher-suites.ts (RC2/IDEA: none beyond the version). */
export function v2CipherWeaknesses(kind: number): SuiteWeakness[] {
  const name = V2_CIPHERS.get(kind);
  if (name === undefined) return [];
  const out: SuiteWeakness[] = [];
  if (name.includes('EXPORT')) out.push('export-cipher');
  if (name.includes('_RC4_')) out.push('rc4-cipher');
  if (name.includes('_DES_64_')) out.push('des-cipher');
  if (name.includes('_EDE3_')) out.push('3des-cipher');
  return out;
}
