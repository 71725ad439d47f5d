import { hostNameText } from '../phi/host-name.js';
import type { DnsRecord } from '../events/index.js';
import { ProbeVerdict } from '../probe.js';
import type { DatagramParser } from '../datagram.js';
import { DETACH, type Direction, type StreamParser } from '../stream.js';

/** A DNS message reduced to what the inventory needs (the `dns` event): which names an address answers to. */
export type { DnsRecord };

const RRTYPES: Record<number, string> = { 1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 15: 'MX', 16: 'TXT', 28: 'AAAA', 33: 'SRV', 65: 'HTTPS', 255: 'ANY' };
const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];
const MAX_ANSWERS = 16;
const MAX_NAME = 255;
const MAX_POINTERS = 16;

/** A DNS header with one question, opcode QUERY and sane counts. */
export function probeDns(buf: Buffer, off: number, len: number, serverPort: number): ProbeVerdict {
  if (serverPort !== 53 && serverPort !== 5353 && serverPort !== 5355) return ProbeVerdict.No;
  if (len < 12) return ProbeVerdict.No;
  const flags = buf.readUInt16BE(off + 2);
  const opcode = (flags >> 11) & 0xf;
  const qd = buf.readUInt16BE(off + 4);
  return opcode === 0 && qd >= 1 && qd <= 4 && buf.readUInt16BE(off + 6) <= 256 ? ProbeVerdict.Yes : ProbeVerdict.No;
}

/** Reads a (possibly compressed) name; returns [name, offset after it] or null when malformed. */
function readName(buf: Buffer, start: number, msgOff: number, end: number): [string, number] | null {
  let p = start;
  let after = -1;
  let name = '';
  for (let jumps = 0; ; ) {
    if (p >= end) return null;
    const l = buf[p];
    if (l === 0) {
      if (after < 0) after = p + 1;
      return [name === '' ? '.' : hostNameText(name), after];
    }
    if ((l & 0xc0) === 0xc0) {
      if (p + 1 >= end || ++jumps > MAX_POINTERS) return null;
      if (after < 0) after = p + 2;
      p = msgOff + (((l & 0x3f) << 8) | buf[p + 1]);
      continue;
    }
    if (l > 63 || p + 1 + l > end) return null;
    name += (name ? '.' : '') + buf.toString('latin1', p + 1, p + 1 + l);
    if (name.length > MAX_NAME) return null;
    p += 1 + l;
  }
}

function ipv6Text(buf: Buffer, o: number): string {
  const g: string[] = [];
  for (let i = 0; i < 16; i += 2) g.push(buf.readUInt16BE(o + i).toString(16));
  return g.join(':').replace(/(^|:)0(:0)+(:|$)/, '::').replace(/:{3,}/, '::');
}

/**
 * DNS over UDP: one record per message with the question and, for responses, the A/AAAA/
 * CNAME/PTR answers. Malformed messages are counted, never thrown.
 */
export class DnsParser implements DatagramParser {
  malformed = 0;
  constructor(private readonly emit: (r: DnsRecord) => void) {}

  datagram(_dir: Direction, buf: Buffer, off: number, len: number, tsSec: number, tsNsec: number): number {
    const end = off + len;
    if (len < 12) {
      this.malformed++;
      return 0;
    }
    const id = buf.readUInt16BE(off);
    const flags = buf.readUInt16BE(off + 2);
    const qd = buf.readUInt16BE(off + 4);
    const an = buf.readUInt16BE(off + 6);
    if (qd === 0) {
      this.malformed++;
      return 0;
    }
    const q = readName(buf, off + 12, off, end);
    if (q === null || q[1] + 4 > end) {
      this.malformed++;
      return 0;
    }
    let p = q[1];
    const qtype = buf.readUInt16BE(p);
    p += 4;
    const response = (flags & 0x8000) !== 0;
    const rec: DnsRecord = { type: 'dns', dns_type: response ? 'response' : 'query', id, rrname: q[0], rrtype: RRTYPES[qtype] ?? String(qtype), ts_sec: tsSec, ts_nsec: tsNsec };
    if (response) {
      rec.rcode = RCODES[flags & 0xf] ?? String(flags & 0xf);
      // Skip any further questions.
      for (let i = 1; i < qd; i++) {
        const n = readName(buf, p, off, end);
        if (n === null) return this.bad();
        p = n[1] + 4;
      }
      const answers: NonNullable<DnsRecord['answers']> = [];
      for (let i = 0; i < an && answers.length < MAX_ANSWERS; i++) {
        const n = readName(buf, p, off, end);
        if (n === null || n[1] + 10 > end) return this.bad();
        p = n[1];
        const type = buf.readUInt16BE(p);
        const ttl = buf.readUInt32BE(p + 4);
        const rdlen = buf.readUInt16BE(p + 8);
        p += 10;
        if (p + rdlen > end) return this.bad();
        let rdata: string | null = null;
        if (type === 1 && rdlen === 4) rdata = `${buf[p]}.${buf[p + 1]}.${buf[p + 2]}.${buf[p + 3]}`;
        else if (type === 28 && rdlen === 16) rdata = ipv6Text(buf, p);
        else if (type === 5 || type === 12) rdata = readName(buf, p, off, end)?.[0] ?? null;
        if (rdata !== null) answers.push({ rrname: n[0], rrtype: RRTYPES[type], rdata, ttl });
        p += rdlen;
      }
      rec.answers = answers;
    }
    this.emit(rec);
    return 0;
  }

  end(): void {}

  private bad(): number {
    this.malformed++;
    return 0;
  }
}

/** A DNS message may span this many bytes; the two-byte length prefix allows no more. */
const MAX_TCP_MESSAGE = 0xffff;

/**
 * DNS over TCP (RFC 7766), told by content alone: the client's first message is a two-byte
 * length and a standard query with one question and no answers, whose name parses. The
 * question's name must be whole in the probed bytes, so a stray binary protocol that happens to
 * start with a plausible header is not taken for DNS.
 */
export function probeDnsTcp(buf: Buffer, off: number, len: number): ProbeVerdict {
  if (len < 14) return ProbeVerdict.NeedMore;
  const msgLen = buf.readUInt16BE(off);
  if (msgLen < 17) return ProbeVerdict.No;
  const m = off + 2;
  const flags = buf.readUInt16BE(m + 2);
  // A query (QR 0), opcode QUERY, Z bit clear (AD and CD are allowed: dig sets AD), no response code.
  if ((flags & 0xf840) !== 0 || (flags & 0x000f) !== 0) return ProbeVerdict.No;
  if (buf.readUInt16BE(m + 4) !== 1 || buf.readUInt16BE(m + 6) !== 0 || buf.readUInt16BE(m + 8) !== 0 || buf.readUInt16BE(m + 10) > 2) return ProbeVerdict.No;
  const end = off + Math.min(len, 2 + msgLen);
  // Labels must be hostname-like text; a compression pointer cannot occur in the first name.
  for (let p = m + 12; ; ) {
    if (p >= end) return len >= 2 + msgLen ? ProbeVerdict.No : ProbeVerdict.NeedMore;
    const l = buf[p];
    if (l === 0) return p + 5 <= off + 2 + msgLen ? ProbeVerdict.Yes : ProbeVerdict.No;
    if (l > 63) return ProbeVerdict.No;
    for (let i = p + 1; i <= p + l && i < end; i++) {
      const c = buf[i];
      if (c < 0x21 || c > 0x7e) return ProbeVerdict.No;
    }
    p += 1 + l;
  }
}

/**
 * DNS over TCP: each direction is a sequence of length-prefixed messages, several per
 * connection and split across segments at any byte. Every whole message goes to the same
 * parser as a UDP datagram, so the `dns` events are the same either way.
 */
export class DnsTcpParser implements StreamParser {
  private readonly messages: DnsParser;
  /** Per direction: a message cut by a segment boundary, gathered until whole. */
  private readonly pending: [Buffer | null, Buffer | null] = [null, null];
  private readonly have = [0, 0];
  private readonly need = [0, 0];
  /** Per direction: the two-byte length itself may be cut; its first byte, or -1. */
  private readonly lenHigh = [-1, -1];
  private lost = false;

  constructor(emit: (r: DnsRecord) => void) {
    this.messages = new DnsParser(emit);
  }

  get malformed(): number {
    return this.messages.malformed;
  }

  data(dir: Direction, buf: Buffer, off: number, len: number, tsSec: number, tsNsec: number): number {
    // After lost bytes the length prefixes cannot be found again.
    if (this.lost) return DETACH;
    const d = dir as number;
    const end = off + len;
    let p = off;
    while (p < end) {
      const pend = this.pending[d];
      if (pend !== null) {
        const take = Math.min(this.need[d] - this.have[d], end - p);
        buf.copy(pend, this.have[d], p, p + take);
        this.have[d] += take;
        p += take;
        if (this.have[d] === this.need[d]) {
          this.pending[d] = null;
          this.messages.datagram(dir, pend, 0, this.need[d], tsSec, tsNsec);
        }
        continue;
      }
      let msgLen: number;
      if (this.lenHigh[d] >= 0) {
        msgLen = (this.lenHigh[d] << 8) | buf[p];
        this.lenHigh[d] = -1;
        p += 1;
      } else if (end - p < 2) {
        this.lenHigh[d] = buf[p];
        p += 1;
        continue;
      } else {
        msgLen = buf.readUInt16BE(p);
        p += 2;
      }
      if (msgLen === 0) continue;
      if (end - p >= msgLen) {
        this.messages.datagram(dir, buf, p, msgLen, tsSec, tsNsec);
        p += msgLen;
      } else {
        // Only a message cut by the segment boundary is copied; whole ones are parsed in place.
        const gather = Buffer.allocUnsafe(Math.min(msgLen, MAX_TCP_MESSAGE));
        this.pending[d] = gather;
        this.need[d] = msgLen;
        this.have[d] = 0;
      }
    }
    return 0;
  }

  gap(): void {
    this.lost = true;
    this.pending[0] = this.pending[1] = null;
  }

  end(): void {
    this.messages.end();
  }
}
