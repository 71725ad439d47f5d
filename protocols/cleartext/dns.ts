import { hostNameText } from '../phi/host-name.js';
import type { DnsRecord } from '../events/index.js';
import { ProbeVerdict } from '../probe.js';
import type { DatagramParser } from '../datagram.js';
import type { Direction } from '../stream.js';

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
