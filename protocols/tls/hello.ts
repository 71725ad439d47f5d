/**
 * ClientHello and ServerHello bodies (RFC 8446 §4.1.2–4.1.3, RFC 5246 §7.4.1), read in place
 * from `buf[off, end)`. Every length is checked against the end of the enclosing structure;
 * a length that runs past it stops the walk with an issue, keeping what was read before it.
 */
import { hostNameText } from '../phi/host-name.js';
import { ExtensionType, HRR_RANDOM } from './constants.js';
import { isGrease } from './cipher-suites.js';

/** SNI and ALPN strings longer than this are cut (DNS names are ≤ 253). */
const MAX_NAME = 255;
/** ALPN protocols kept from one list. */
const MAX_ALPN = 16;
/** supported_versions entries kept (the extension allows 127). */
const MAX_VERSIONS = 16;

export type HelloIssue = 'short' | 'session-id-too-long' | 'odd-suites-length' | 'length-past-message' | 'extension-past-message' | 'bad-extension';

export interface ClientHelloInfo {
  legacyVersion: number;
  /** supported_versions without GREASE, in the client's order; null when the extension is absent. */
  supportedVersions: number[] | null;
  /** Cipher suites offered, as tshark counts them (GREASE and SCSVs included). */
  suitesOffered: number;
  sni: string | null;
  alpn: string[];
  /** Set when the walk stopped early; the fields read before it are still valid. */
  issue: HelloIssue | null;
}

export interface ServerHelloInfo {
  legacyVersion: number;
  /** supported_versions.selected_version (TLS 1.3), or null. */
  selectedVersion: number | null;
  /** The chosen suite; SSL 2.0: a 24-bit cipher kind, -1 until CLIENT-MASTER-KEY names it. */
  cipherSuite: number;
  compression: number;
  alpn: string | null;
  helloRetry: boolean;
  issue: HelloIssue | null;
}

/**
 * Bytes as a printable string: ASCII 0x20–0x7e kept, anything else as \xNN, cut at `max`
 * characters. SNI and ALPN are ASCII by specification; a peer cannot smuggle control
 * characters or invalid UTF-8 into an event through them.
 */
export function printable(buf: Buffer, start: number, end: number, max = MAX_NAME): string {
  let s = '';
  for (let i = start; i < end && s.length < max; i++) {
    const c = buf[i];
    s += c >= 0x20 && c < 0x7f && c !== 0x5c ? String.fromCharCode(c) : '\\x' + c.toString(16).padStart(2, '0');
  }
  return s.length > max ? s.slice(0, max) : s;
}

export function parseClientHello(buf: Buffer, off: number, end: number): ClientHelloInfo | null {
  // legacy_version(2) random(32) session_id<0..32>
  if (end - off < 35) return null;
  const info: ClientHelloInfo = {
    legacyVersion: buf.readUInt16BE(off),
    supportedVersions: null,
    suitesOffered: 0,
    sni: null,
    alpn: [],
    issue: null,
  };
  let p = off + 34;
  const sid = buf[p];
  if (sid > 32) {
    info.issue = 'session-id-too-long';
    return info;
  }
  p += 1 + sid;
  if (p + 2 > end) return stop(info, 'short');
  const suitesLen = buf.readUInt16BE(p);
  p += 2;
  if (p + suitesLen > end) {
    // Count what the message does hold, so a cut-off hello still says something.
    info.suitesOffered = (end - p) >> 1;
    return stop(info, 'length-past-message');
  }
  info.suitesOffered = suitesLen >> 1;
  if ((suitesLen & 1) !== 0) info.issue = 'odd-suites-length';
  p += suitesLen;
  if (p + 1 > end) return stop(info, 'short');
  const compLen = buf[p];
  p += 1 + compLen;
  if (p > end) return stop(info, 'length-past-message');
  if (p === end) return info; // SSL 3.0 / TLS 1.0 hellos may have no extensions
  if (p + 2 > end) return stop(info, 'short');
  const extLen = buf.readUInt16BE(p);
  p += 2;
  let extEnd = p + extLen;
  if (extEnd > end) {
    info.issue = 'extension-past-message';
    extEnd = end;
  }
  walkExtensions(buf, p, extEnd, info, (type, s, e) => {
    switch (type) {
      case ExtensionType.ServerName:
        if (info.sni === null) info.sni = readSni(buf, s, e);
        return s <= e;
      case ExtensionType.Alpn:
        return readAlpn(buf, s, e, info.alpn);
      case ExtensionType.SupportedVersions: {
        if (s >= e) return false;
        const n = buf[s];
        if (s + 1 + n > e || (n & 1) !== 0) return false;
        const list: number[] = [];
        for (let i = s + 1; i + 1 < s + 1 + n && list.length < MAX_VERSIONS; i += 2) {
          const v = buf.readUInt16BE(i);
          if (!isGrease(v)) list.push(v);
        }
        info.supportedVersions = list;
        return true;
      }
    }
    return true;
  });
  return info;
}

export function parseServerHello(buf: Buffer, off: number, end: number): ServerHelloInfo | null {
  // legacy_version(2) random(32) session_id<0..32> cipher_suite(2) compression(1)
  if (end - off < 38) return null;
  const legacyVersion = buf.readUInt16BE(off);
  const helloRetry = buf.compare(HRR_RANDOM, 0, 32, off + 2, off + 34) === 0;
  let p = off + 34;
  const sid = buf[p];
  if (sid > 32 || p + 1 + sid + 3 > end) return null;
  p += 1 + sid;
  const info: ServerHelloInfo = {
    legacyVersion,
    selectedVersion: null,
    cipherSuite: buf.readUInt16BE(p),
    compression: buf[p + 2],
    alpn: null,
    helloRetry,
    issue: null,
  };
  p += 3;
  if (p === end) return info;
  if (p + 2 > end) return stop(info, 'short');
  const extLen = buf.readUInt16BE(p);
  p += 2;
  let extEnd = p + extLen;
  if (extEnd > end) {
    info.issue = 'extension-past-message';
    extEnd = end;
  }
  walkExtensions(buf, p, extEnd, info, (type, s, e) => {
    if (type === ExtensionType.SupportedVersions) {
      if (e - s !== 2) return false;
      info.selectedVersion = buf.readUInt16BE(s);
    } else if (type === ExtensionType.Alpn) {
      const list: string[] = [];
      if (!readAlpn(buf, s, e, list)) return false;
      info.alpn = list.length > 0 ? list[0] : null;
    }
    return true;
  });
  return info;
}

function stop<T extends { issue: HelloIssue | null }>(info: T, issue: HelloIssue): T {
  info.issue = issue;
  return info;
}

/** Calls `fn(type, start, end)` per extension; `fn` returns false for a malformed body. */
function walkExtensions(buf: Buffer, p: number, end: number, info: { issue: HelloIssue | null }, fn: (type: number, s: number, e: number) => boolean): void {
  while (p < end) {
    if (p + 4 > end) {
      info.issue ??= 'extension-past-message';
      return;
    }
    const type = buf.readUInt16BE(p);
    const len = buf.readUInt16BE(p + 2);
    p += 4;
    if (p + len > end) {
      info.issue ??= 'extension-past-message';
      return;
    }
    if (!fn(type, p, p + len)) info.issue ??= 'bad-extension';
    p += len;
  }
}

/** server_name_list: the first host_name entry (RFC 6066 §3). */
function readSni(buf: Buffer, s: number, e: number): string | null {
  if (s + 2 > e) return null;
  const listEnd = Math.min(e, s + 2 + buf.readUInt16BE(s));
  let p = s + 2;
  while (p + 3 <= listEnd) {
    const type = buf[p];
    const len = buf.readUInt16BE(p + 1);
    p += 3;
    if (p + len > listEnd) return null;
    if (type === 0) return hostNameText(printable(buf, p, p + len));
    p += len;
  }
  return null;
}

/**
 * An ALPN id is a short registered token (`h2`, `http/1.1`, `acme-tls/1`); any other text — a
 * host name with a fødselsnummer, someone's name — is reported as `{text}`, keeping the count.
 */
const ALPN_ID = /^[A-Za-z0-9._/-]{1,40}$/;
function alpnText(s: string): string {
  return s === '' || (ALPN_ID.test(s) && hostNameText(s.replace(/\//g, '-')) === s.replace(/\//g, '-')) ? s : '{text}';
}

/** protocol_name_list (RFC 7301 §3.1) into `out`; false when a length runs past the extension. */
function readAlpn(buf: Buffer, s: number, e: number, out: string[]): boolean {
  if (s + 2 > e) return false;
  const listLen = buf.readUInt16BE(s);
  if (s + 2 + listLen > e) return false;
  const listEnd = s + 2 + listLen;
  let p = s + 2;
  while (p < listEnd) {
    const len = buf[p];
    p += 1;
    if (p + len > listEnd) return false;
    if (out.length < MAX_ALPN) out.push(alpnText(printable(buf, p, p + len)));
    p += len;
  }
  return true;
}
