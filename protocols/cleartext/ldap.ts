/**
 * LDAP (RFC 4511) that opens with StartTLS (RFC 4511 §4.14): the client's first LDAPMessage is
 * an ExtendedRequest naming 1.3.6.1.4.1.1466.20037; the server's ExtendedResponse with the same
 * messageID and resultCode success means the rest of the connection is TLS: the parser stops
 * and says where it begins (`tlsFrom`, for StartTlsStream). LDAP without StartTLS is not
 * claimed (the probe says no), so the cleartext PHI scanner keeps reading it. Only message
 * heads are read: at most HEAD bytes of a message are kept across chunks.
 */
import { DETACH, Direction, type StreamEndReason } from '../stream.js';
import type { UpgradableParser } from '../tls/starttls.js';
import { ProbeVerdict } from '../probe.js';

export interface LdapParserOptions {
  /** StartTLS was accepted: the analyzer marks the flow encrypted. */
  onEncrypted?: () => void;
}

const enum Op {
  BindRequest = 0x60,
  ExtendedRequest = 0x77,
  ExtendedResponse = 0x78,
}

/** The StartTLS OID, as the ExtendedRequest's requestName [0] carries it. */
const START_TLS = Buffer.from('1.3.6.1.4.1.1466.20037', 'latin1');
/** Bytes of a message head kept: tag, length, messageID, protocolOp tag and the start of its body. */
const HEAD = 64;
/** LDAPMessages read per connection before giving up on seeing StartTLS. */
const MAX_MESSAGES = 16;

/** A BER length at `p` (short or long form, up to 4 bytes): [length, header bytes], or null (need more / invalid: -1). */
function berLength(b: Buffer, p: number, end: number): [number, number] | null | -1 {
  if (p >= end) return null;
  const first = b[p];
  if (first < 0x80) return [first, 1];
  const n = first & 0x7f;
  if (n === 0 || n > 4) return -1;
  if (p + 1 + n > end) return null;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + b[p + 1 + i];
  return [len, 1 + n];
}

interface Head {
  /** Bytes of the whole message (tag and length included). */
  total: number;
  id: number;
  op: number;
  /** Offset of the protocolOp's body. */
  body: number;
  bodyEnd: number;
}

/** Parses an LDAPMessage head in `b[p, end)`: null = need more bytes, -1 = not an LDAPMessage. */
function readHead(b: Buffer, p: number, end: number): Head | null | -1 {
  if (p >= end) return null;
  if (b[p] !== 0x30) return -1;
  const l = berLength(b, p + 1, end);
  if (l === null || l === -1) return l;
  const [len, lh] = l;
  let q = p + 1 + lh;
  if (q + 2 > end) return null;
  if (b[q] !== 0x02) return -1;
  const idLen = b[q + 1];
  if (idLen < 1 || idLen > 4) return -1;
  if (q + 2 + idLen + 2 > end) return null;
  let id = 0;
  for (let i = 0; i < idLen; i++) id = id * 256 + b[q + 2 + i];
  q += 2 + idLen;
  const op = b[q];
  const ol = berLength(b, q + 1, end);
  if (ol === null || ol === -1) return ol;
  const body = q + 1 + ol[1];
  return { total: 1 + lh + len, id, op, body, bodyEnd: Math.min(end, body + ol[0]) };
}

/** Whether the ExtendedRequest body at `h.body` names StartTLS: true, false, or null (need more). */
function namesStartTls(b: Buffer, h: Head, end: number): boolean | null {
  if (h.body + 2 > end) return null;
  if (b[h.body] !== 0x80 || b[h.body + 1] !== START_TLS.length) return false;
  if (h.body + 2 + START_TLS.length > end) return null;
  return b.compare(START_TLS, 0, START_TLS.length, h.body + 2, h.body + 2 + START_TLS.length) === 0;
}

/** The client's first bytes: an LDAPMessage carrying the StartTLS ExtendedRequest. */
export function probeLdapStartTls(buf: Buffer, off: number, len: number): ProbeVerdict {
  const end = off + len;
  const h = readHead(buf, off, end);
  if (h === null) return ProbeVerdict.NeedMore;
  if (h === -1 || h.op !== Op.ExtendedRequest || h.total > 256) return ProbeVerdict.No;
  const s = namesStartTls(buf, h, end);
  return s === null ? ProbeVerdict.NeedMore : s ? ProbeVerdict.Yes : ProbeVerdict.No;
}

export class LdapStreamParser implements UpgradableParser {
  tlsFrom = -1;
  /** StartTLS requested by the client and the server's answer (for the tests and counters). */
  startTlsRequested = false;
  startTlsAccepted = false;
  private readonly onEncrypted: (() => void) | undefined;
  private readonly head: [Buffer, Buffer] = [Buffer.alloc(HEAD), Buffer.alloc(HEAD)];
  private readonly headLen = [0, 0];
  /** Bytes of the current message still to pass after its head, per direction. */
  private readonly rest = [0, 0];
  private pendingId = -1;
  private messages = 0;
  private ended = false;

  constructor(opts: LdapParserOptions = {}) {
    this.onEncrypted = opts.onEncrypted;
  }

  data(dir: Direction, buf: Buffer, off: number, len: number, _tsSec: number, _tsNsec: number): number {
    if (this.ended) return DETACH;
    let p = off;
    const end = off + len;
    while (p < end) {
      if (this.rest[dir] > 0) {
        const n = Math.min(this.rest[dir], end - p);
        this.rest[dir] -= n;
        p += n;
        continue;
      }
      // Collect up to HEAD bytes of the next message in this direction.
      const hb = this.head[dir];
      const take = Math.min(HEAD - this.headLen[dir], end - p);
      buf.copy(hb, this.headLen[dir], p, p + take);
      const have = this.headLen[dir] + take;
      const h = readHead(hb, 0, have);
      if (h === -1 || (h === null && have === HEAD)) return this.stop();
      if (h === null || have < Math.min(h.total, HEAD)) {
        // The chunk ended inside the head: wait for the rest of it.
        this.headLen[dir] = have;
        return 0;
      }
      // Bytes of this chunk that belong to the message after the head we had.
      const used = Math.min(h.total - this.headLen[dir], take);
      this.rest[dir] = h.total - this.headLen[dir] - used;
      this.headLen[dir] = 0;
      p += used;
      if (++this.messages > MAX_MESSAGES) return this.stop();
      if (this.message(dir, hb, h)) {
        if (this.startTlsAccepted && this.rest[dir] === 0) this.tlsFrom = p;
        return this.stop();
      }
    }
    return 0;
  }

  gap(_dir: Direction, _len: number): void {
    this.ended = true;
  }

  end(_reason: StreamEndReason): void {
    this.ended = true;
  }

  /** True when this message ends the cleartext part (StartTLS accepted, or LDAP without it). */
  private message(dir: Direction, b: Buffer, h: Head): boolean {
    if (dir === Direction.ToServer) {
      if (h.op === Op.ExtendedRequest && namesStartTls(b, h, h.bodyEnd) === true) {
        this.startTlsRequested = true;
        this.pendingId = h.id;
        return false;
      }
      // Another request before the answer (a bind): the session stays cleartext.
      return h.op === Op.BindRequest;
    }
    if (h.op === Op.ExtendedResponse && h.id === this.pendingId) {
      // resultCode ENUMERATED first: 0 is success.
      const ok = b[h.body] === 0x0a && b[h.body + 1] === 1 && b[h.body + 2] === 0;
      this.pendingId = -1;
      if (!ok) return true;
      this.startTlsAccepted = true;
      this.onEncrypted?.();
      return true;
    }
    return false;
  }

  private stop(): number {
    this.ended = true;
    return DETACH;
  }
}
