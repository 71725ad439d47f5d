import { readFileSync } from 'node:fs';

/** A frame read back from a classic pcap file (test fixtures only). */
export interface Frame {
  sec: number;
  nsec: number;
  data: Buffer;
  origLen: number;
}

/** Reads a classic µs/ns pcap of either byte order into frames (small fixture files only). */
export function readPcapFrames(path: string): { linkType: number; frames: Frame[] } {
  const b = readFileSync(path);
  const magicBE = b.readUInt32BE(0);
  const le = magicBE === 0xd4c3b2a1 || magicBE === 0x4d3cb2a1;
  const nano = magicBE === 0xa1b23c4d || magicBE === 0x4d3cb2a1;
  const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const linkType = u32(20) & 0xffff;
  const frames: Frame[] = [];
  let o = 24;
  while (o + 16 <= b.length) {
    const incl = u32(o + 8);
    if (o + 16 + incl > b.length) break;
    frames.push({ sec: u32(o), nsec: nano ? u32(o + 4) : u32(o + 4) * 1000, origLen: u32(o + 12), data: b.subarray(o + 16, o + 16 + incl) });
    o += 16 + incl;
  }
  return { linkType, frames };
}

export function writePcap(frames: Frame[], linkType: number, opts: { bigEndian?: boolean; nano?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  const h = Buffer.alloc(24);
  const w = (buf: Buffer, v: number, o: number) => (opts.bigEndian ? buf.writeUInt32BE(v, o) : buf.writeUInt32LE(v, o));
  w(h, opts.nano ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  if (opts.bigEndian) {
    h.writeUInt16BE(2, 4);
    h.writeUInt16BE(4, 6);
  } else {
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
  }
  w(h, 262144, 16);
  w(h, linkType, 20);
  parts.push(h);
  for (const f of frames) {
    const r = Buffer.alloc(16);
    w(r, f.sec, 0);
    w(r, opts.nano ? f.nsec : Math.floor(f.nsec / 1000), 4);
    w(r, f.data.length, 8);
    w(r, f.origLen, 12);
    parts.push(r, f.data);
  }
  return Buffer.concat(parts);
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}

class BlockWriter {
  constructor(private readonly be: boolean) {}
  u32(v: number): Buffer {
    const b = Buffer.alloc(4);
    if (this.be) b.writeUInt32BE(v >>> 0);
    else b.writeUInt32LE(v >>> 0);
    return b;
  }
  u16(v: number): Buffer {
    const b = Buffer.alloc(2);
    if (this.be) b.writeUInt16BE(v);
    else b.writeUInt16LE(v);
    return b;
  }
  option(code: number, value: Buffer): Buffer {
    return Buffer.concat([this.u16(code), this.u16(value.length), value, Buffer.alloc(pad4(value.length) - value.length)]);
  }
  block(type: number, body: Buffer): Buffer {
    const total = 12 + body.length;
    return Buffer.concat([this.u32(type), this.u32(total), body, this.u32(total)]);
  }
}

export interface PcapngInterfaceSpec {
  linkType: number;
  /** if_tsresol byte: 6 = µs, 9 = ns, 0x80|n = 2^-n. */
  tsresol: number;
}

/**
 * Writes frames as pcapng. Frames are spread round-robin over `interfaces` (each with its own
 * resolution), a new section (optionally of the other byte order) starts every `sectionEvery`
 * frames, and an unknown custom block is inserted so readers must skip what they don't know.
 */
export function writePcapng(
  frames: Frame[],
  interfaces: PcapngInterfaceSpec[],
  opts: { sectionEvery?: number; alternateByteOrder?: boolean; simplePackets?: boolean } = {},
): Buffer {
  const parts: Buffer[] = [];
  let section = -1;
  let bw = new BlockWriter(false);
  frames.forEach((f, i) => {
    const newSection = i === 0 || (opts.sectionEvery !== undefined && i % opts.sectionEvery === 0);
    if (newSection) {
      section++;
      bw = new BlockWriter(Boolean(opts.alternateByteOrder) && section % 2 === 1);
      const shb = Buffer.concat([bw.u32(0x1a2b3c4d), bw.u16(1), bw.u16(0), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])]);
      parts.push(bw.block(0x0a0d0d0a, shb));
      for (const itf of interfaces) {
        const body = Buffer.concat([bw.u16(itf.linkType), bw.u16(0), bw.u32(262144), bw.option(9, Buffer.from([itf.tsresol])), bw.u32(0)]);
        parts.push(bw.block(1, body));
      }
      // A custom block (type 0x00000BAD) nobody asked for.
      parts.push(bw.block(0x00000bad, Buffer.concat([bw.u32(32473), Buffer.from('muvakt-test!')])));
    }
    const ifIndex = i % interfaces.length;
    const res = interfaces[ifIndex].tsresol;
    const unitsPerSec = res & 0x80 ? 2 ** (res & 0x7f) : 10 ** res;
    const units = BigInt(f.sec) * BigInt(unitsPerSec) + (BigInt(f.nsec) * BigInt(unitsPerSec)) / 1_000_000_000n;
    const data = Buffer.concat([f.data, Buffer.alloc(pad4(f.data.length) - f.data.length)]);
    const body = Buffer.concat([
      bw.u32(ifIndex),
      bw.u32(Number(units >> 32n)),
      bw.u32(Number(units & 0xffffffffn)),
      bw.u32(f.data.length),
      bw.u32(f.origLen),
      data,
    ]);
    parts.push(bw.block(6, body));
  });
  return Buffer.concat(parts);
}

/** Re-frames an Ethernet frame (untagged) for another link type. */
export function relink(frame: Buffer, linkType: number): Buffer {
  const etherType = frame.readUInt16BE(12);
  const ip = frame.subarray(14);
  const isV6 = etherType === 0x86dd;
  switch (linkType) {
    case 113: {
      const h = Buffer.alloc(16);
      h.writeUInt16BE(0, 0); // to us
      h.writeUInt16BE(1, 2); // ARPHRD_ETHER
      h.writeUInt16BE(6, 4);
      frame.copy(h, 6, 6, 12);
      h.writeUInt16BE(etherType, 14);
      return Buffer.concat([h, ip]);
    }
    case 276: {
      const h = Buffer.alloc(20);
      h.writeUInt16BE(etherType, 0);
      h.writeUInt32BE(2, 4); // if index
      h.writeUInt16BE(1, 8);
      h[10] = 0;
      h[11] = 6;
      frame.copy(h, 12, 6, 12);
      return Buffer.concat([h, ip]);
    }
    case 101:
      return Buffer.from(ip);
    case 0: {
      const h = Buffer.alloc(4);
      h.writeUInt32LE(isV6 ? 30 : 2);
      return Buffer.concat([h, ip]);
    }
    case 108: {
      const h = Buffer.alloc(4);
      h.writeUInt32BE(isV6 ? 24 : 2);
      return Buffer.concat([h, ip]);
    }
    default:
      throw new Error(`relink: unsupported ${linkType}`);
  }
}
