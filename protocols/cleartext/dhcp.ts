import { hostNameText, softwareText } from '../phi/host-name.js';
import type { DhcpRecord } from '../events/index.js';
import { ProbeVerdict } from '../probe.js';
import type { DatagramParser } from '../datagram.js';
import type { Direction } from '../stream.js';

/** DHCP facts a device tells about itself (the `dhcp` event): its name, vendor class and what it asks for. */
export type { DhcpRecord };

const MSG_TYPES = ['', 'discover', 'offer', 'request', 'decline', 'ack', 'nak', 'release', 'inform'];
const MAGIC = 0x63825363;

/** BOOTP with the DHCP magic cookie, on the DHCP ports. */
export function probeDhcp(buf: Buffer, off: number, len: number, serverPort: number): ProbeVerdict {
  if (serverPort !== 67 && serverPort !== 68) return ProbeVerdict.No;
  if (len < 240) return ProbeVerdict.No;
  const op = buf[off];
  return (op === 1 || op === 2) && buf[off + 1] === 1 && buf[off + 2] === 6 && buf.readUInt32BE(off + 236) === MAGIC ? ProbeVerdict.Yes : ProbeVerdict.No;
}

function ip4(buf: Buffer, o: number): string {
  return `${buf[o]}.${buf[o + 1]}.${buf[o + 2]}.${buf[o + 3]}`;
}

/** Printable text of an option, bounded; control bytes are dropped. */
function text(buf: Buffer, o: number, n: number): string {
  return buf.toString('latin1', o, o + Math.min(n, 64)).replace(/[^\x20-\x7e]/g, '');
}

export class DhcpParser implements DatagramParser {
  malformed = 0;
  constructor(private readonly emit: (r: DhcpRecord) => void) {}

  datagram(_dir: Direction, buf: Buffer, off: number, len: number, tsSec: number, tsNsec: number): number {
    const end = off + len;
    if (len < 240 || buf.readUInt32BE(off + 236) !== MAGIC) {
      this.malformed++;
      return 0;
    }
    let mac = '';
    for (let i = 0; i < 6; i++) mac += (i ? ':' : '') + buf[off + 28 + i].toString(16).padStart(2, '0');
    const rec: DhcpRecord = { type: 'dhcp', dhcp_type: 'bootp', client_mac: mac, ts_sec: tsSec, ts_nsec: tsNsec };
    const yiaddr = buf.readUInt32BE(off + 16);
    if (yiaddr !== 0) rec.assigned_ip = ip4(buf, off + 16);
    let p = off + 240;
    while (p < end) {
      const code = buf[p];
      if (code === 255) break;
      if (code === 0) {
        p++;
        continue;
      }
      if (p + 2 > end || p + 2 + buf[p + 1] > end) {
        this.malformed++;
        break;
      }
      const n = buf[p + 1];
      const v = p + 2;
      if (code === 53 && n >= 1) rec.dhcp_type = MSG_TYPES[buf[v]] ?? String(buf[v]);
      else if (code === 12) rec.hostname = hostNameText(text(buf, v, n));
      else if (code === 60) {
        const vc = softwareText(text(buf, v, n));
        if (vc !== undefined) rec.vendor_class = vc;
      }
      else if (code === 50 && n === 4) rec.requested_ip = ip4(buf, v);
      else if (code === 55) rec.params = [...buf.subarray(v, v + Math.min(n, 64))];
      p = v + n;
    }
    this.emit(rec);
    return 0;
  }

  end(): void {}
}
