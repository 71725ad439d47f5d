import { CaptureFormatError, newPacketRecord, type CaptureStats, type PacketHandler } from './packet-record.js';

/**
 * Incremental reader for classic pcap (µs and ns, both byte orders) and pcapng (several
 * sections, several interfaces with their own link type, if_tsresol and if_tsoffset).
 *
 * It is a framing parser: the caller hands it a buffer, it walks every complete record and
 * reports how far it got; the caller keeps the tail and appends more bytes. Nothing is
 * copied and the record object is reused, so reading costs a few integer reads per packet.
 */

const enum Magic {
  PcapMicro = 0xa1b2c3d4,
  PcapNano = 0xa1b23c4d,
  PcapMicroSwapped = 0xd4c3b2a1,
  PcapNanoSwapped = 0x4d3cb2a1,
  PcapngShb = 0x0a0d0d0a,
  PcapngByteOrder = 0x1a2b3c4d,
}

const enum BlockType {
  InterfaceDescription = 0x00000001,
  ObsoletePacket = 0x00000002,
  SimplePacket = 0x00000003,
  InterfaceStatistics = 0x00000005,
  EnhancedPacket = 0x00000006,
  SectionHeader = 0x0a0d0d0a,
}

const enum Format {
  Unknown,
  Pcap,
  Pcapng,
}

/** Larger than any real snaplen (libpcap's maximum is 256 KiB); beyond this a length is corrupt. */
const MAX_RECORD = 64 * 1024 * 1024;
const LIBPCAP_MAX_SNAPLEN = 262144;

interface PcapngInterface {
  linkType: number;
  snapLen: number;
  /** Timestamp units per second (10^n or 2^n). */
  unitsPerSec: number;
  tsOffsetSec: number;
  stats: CaptureStats;
}

export class CaptureFormatParser {
  private format = Format.Unknown;
  private le = true;
  private nano = false;
  private pcapLinkType = 0;
  private maxCapLen = LIBPCAP_MAX_SNAPLEN;
  private interfaces: PcapngInterface[] = [];
  private readonly rec = newPacketRecord();
  /** Frames read so far. */
  packets = 0;

  constructor(
    private readonly source: string,
    private readonly onPacket: PacketHandler,
    /** Called when a pcapng Interface Statistics Block arrives (dumpcap writes them). */
    private readonly onStats?: (ifIndex: number, stats: CaptureStats) => void,
  ) {}

  get formatName(): string {
    if (this.format === Format.Pcap) return this.nano ? 'pcap-ns' : 'pcap';
    if (this.format === Format.Pcapng) return 'pcapng';
    return 'unknown';
  }

  /**
   * Walks the complete records in buf[start, end). `fileOffset` is the position of buf[start]
   * in the capture, used only for error messages. Returns the index of the first byte not
   * consumed (the start of an incomplete record).
   */
  parse(buf: Buffer, start: number, end: number, fileOffset: number): number {
    let off = start;
    if (this.format === Format.Unknown) {
      if (end - off < 4) return off;
      const magic = buf.readUInt32BE(off);
      if (magic === Magic.PcapngShb) {
        this.format = Format.Pcapng;
      } else {
        if (magic !== Magic.PcapMicro && magic !== Magic.PcapNano && magic !== Magic.PcapMicroSwapped && magic !== Magic.PcapNanoSwapped) {
          throw new CaptureFormatError(this.source, fileOffset, `not a pcap or pcapng file (magic 0x${magic.toString(16).padStart(8, '0')})`);
        }
        if (end - off < 24) return off;
        this.readPcapHeader(buf, off, fileOffset);
        off += 24;
      }
    }
    if (this.format === Format.Pcap) return this.parsePcap(buf, off, end, fileOffset - start);
    return this.parsePcapng(buf, off, end, fileOffset - start);
  }

  /** Called at end of input with the number of bytes left unconsumed. */
  finish(leftover: number, fileOffset: number): void {
    if (this.format === Format.Unknown) {
      throw new CaptureFormatError(this.source, 0, leftover === 0 ? 'empty file, not a capture' : 'file too short for a capture header');
    }
    if (leftover > 0) {
      throw new CaptureFormatError(
        this.source,
        fileOffset,
        `capture truncated: last record incomplete (${leftover} bytes of it present)`,
      );
    }
  }

  private readPcapHeader(buf: Buffer, off: number, fileOffset: number): void {
    const magic = buf.readUInt32BE(off);
    switch (magic) {
      case Magic.PcapMicro:
        this.le = false;
        this.nano = false;
        break;
      case Magic.PcapNano:
        this.le = false;
        this.nano = true;
        break;
      case Magic.PcapMicroSwapped:
        this.le = true;
        this.nano = false;
        break;
      case Magic.PcapNanoSwapped:
        this.le = true;
        this.nano = true;
        break;
      default:
        throw new CaptureFormatError(
          this.source,
          fileOffset,
          `not a pcap or pcapng file (magic 0x${magic.toString(16).padStart(8, '0')})`,
        );
    }
    this.format = Format.Pcap;
    const snap = this.le ? buf.readUInt32LE(off + 16) : buf.readUInt32BE(off + 16);
    // The upper bits of the link-type word carry FCS information (pcap spec); only 0–15 name the link.
    this.pcapLinkType = (this.le ? buf.readUInt32LE(off + 20) : buf.readUInt32BE(off + 20)) & 0xffff;
    this.maxCapLen = Math.min(MAX_RECORD, Math.max(snap, LIBPCAP_MAX_SNAPLEN));
  }

  private parsePcap(buf: Buffer, off: number, end: number, base: number): number {
    const rec = this.rec;
    const le = this.le;
    const fracToNs = this.nano ? 1 : 1000;
    const maxCap = this.maxCapLen;
    rec.linkType = this.pcapLinkType;
    rec.ifIndex = 0;
    rec.buf = buf;
    while (end - off >= 16) {
      const incl = le ? le32(buf, off + 8) : be32(buf, off + 8);
      if (incl > maxCap) {
        throw new CaptureFormatError(this.source, base + off, `corrupt record: captured length ${incl} exceeds ${maxCap}`);
      }
      if (end - off - 16 < incl) break;
      const frac = le ? le32(buf, off + 4) : be32(buf, off + 4);
      if (frac >= 1_000_000_000 / fracToNs) {
        throw new CaptureFormatError(this.source, base + off, `corrupt record: timestamp fraction ${frac} out of range`);
      }
      rec.tsSec = le ? le32(buf, off) : be32(buf, off);
      rec.tsNsec = frac * fracToNs;
      rec.origLen = le ? le32(buf, off + 12) : be32(buf, off + 12);
      if (rec.origLen < incl) rec.origLen = incl;
      rec.off = off + 16;
      rec.capLen = incl;
      this.packets++;
      this.onPacket(rec);
      off += 16 + incl;
    }
    return off;
  }

  private u32(buf: Buffer, off: number): number {
    return this.le ? le32(buf, off) : be32(buf, off);
  }

  private parsePcapng(buf: Buffer, off: number, end: number, base: number): number {
    while (end - off >= 12) {
      const le = this.le;
      const blockType = le ? le32(buf, off) : be32(buf, off);
      const total = le ? le32(buf, off + 4) : be32(buf, off + 4);
      // Enhanced packet blocks are nearly every block: read in place, without the general
      // block dispatch below (which checks the same things in the same order).
      if (blockType === BlockType.EnhancedPacket && total >= 32 && total % 4 === 0 && total <= MAX_RECORD) {
        if (end - off < total) break;
        const capLen = le ? le32(buf, off + 20) : be32(buf, off + 20);
        const ifIndex = le ? le32(buf, off + 8) : be32(buf, off + 8);
        const iface = this.interfaces[ifIndex];
        if ((le ? le32(buf, off + total - 4) : be32(buf, off + total - 4)) === total && 28 + capLen <= total - 4 && iface !== undefined) {
          const rec = this.rec;
          rec.buf = buf;
          rec.off = off + 28;
          rec.capLen = capLen;
          const origLen = le ? le32(buf, off + 24) : be32(buf, off + 24);
          rec.origLen = origLen < capLen ? capLen : origLen;
          rec.linkType = iface.linkType;
          rec.ifIndex = ifIndex;
          splitTimestamp(le ? le32(buf, off + 12) : be32(buf, off + 12), le ? le32(buf, off + 16) : be32(buf, off + 16), iface.unitsPerSec, rec);
          rec.tsSec += iface.tsOffsetSec;
          this.packets++;
          this.onPacket(rec);
          off += total;
          continue;
        }
        // Anything wrong with it: the general path below reports it.
      }
      const type = buf.readUInt32BE(off);
      if (type === BlockType.SectionHeader) {
        // A new section may switch byte order; its byte-order magic tells which.
        const bom = buf.readUInt32LE(off + 8);
        if (bom === Magic.PcapngByteOrder) this.le = true;
        else if (bom === 0x4d3c2b1a) this.le = false;
        else throw new CaptureFormatError(this.source, base + off, `corrupt pcapng section header: byte-order magic 0x${bom.toString(16)}`);
      }
      const blockType2 = this.u32(buf, off);
      const total2 = this.u32(buf, off + 4);
      if (total2 < 12 || total2 % 4 !== 0 || total2 > MAX_RECORD) {
        throw new CaptureFormatError(this.source, base + off, `corrupt pcapng block: total length ${total2}`);
      }
      if (end - off < total2) break;
      const trailer = this.u32(buf, off + total2 - 4);
      if (trailer !== total2) {
        throw new CaptureFormatError(
          this.source,
          base + off,
          `corrupt pcapng block: leading length ${total2} and trailing length ${trailer} differ`,
        );
      }
      this.pcapngBlock(blockType2, buf, off, total2, base);
      off += total2;
    }
    return off;
  }

  private pcapngBlock(type: number, buf: Buffer, off: number, total: number, base: number): void {
    const bodyEnd = off + total - 4;
    switch (type) {
      case BlockType.SectionHeader:
        if (total < 28) throw new CaptureFormatError(this.source, base + off, 'corrupt pcapng section header: too short');
        this.interfaces = [];
        return;
      case BlockType.InterfaceDescription:
        this.interfaceDescription(buf, off, bodyEnd, base);
        return;
      case BlockType.EnhancedPacket: {
        if (total < 32) throw new CaptureFormatError(this.source, base + off, 'corrupt enhanced packet block: too short');
        const ifIndex = this.u32(buf, off + 8);
        const capLen = this.u32(buf, off + 20);
        if (28 + capLen > total - 4) {
          throw new CaptureFormatError(this.source, base + off, `corrupt enhanced packet block: captured length ${capLen} exceeds block`);
        }
        this.emitPacket(buf, off + 28, capLen, this.u32(buf, off + 24), ifIndex, this.u32(buf, off + 12), this.u32(buf, off + 16), base + off);
        return;
      }
      case BlockType.SimplePacket: {
        if (total < 16) throw new CaptureFormatError(this.source, base + off, 'corrupt simple packet block: too short');
        const orig = this.u32(buf, off + 8);
        const iface = this.interfaces[0];
        let capLen = Math.min(orig, total - 16);
        if (iface && iface.snapLen > 0) capLen = Math.min(capLen, iface.snapLen);
        // SPBs carry no timestamp; the pcapng spec leaves it unknown, so report the epoch.
        this.emitPacket(buf, off + 12, capLen, orig, 0, 0, 0, base + off, true);
        return;
      }
      case BlockType.ObsoletePacket: {
        if (total < 32) throw new CaptureFormatError(this.source, base + off, 'corrupt packet block: too short');
        const ifIndex = this.le ? buf.readUInt16LE(off + 8) : buf.readUInt16BE(off + 8);
        const capLen = this.u32(buf, off + 20);
        if (28 + capLen > total - 4) {
          throw new CaptureFormatError(this.source, base + off, `corrupt packet block: captured length ${capLen} exceeds block`);
        }
        this.emitPacket(buf, off + 28, capLen, this.u32(buf, off + 24), ifIndex, this.u32(buf, off + 12), this.u32(buf, off + 16), base + off);
        return;
      }
      case BlockType.InterfaceStatistics:
        this.interfaceStatistics(buf, off, bodyEnd);
        return;
      default:
        // Name resolution, decryption secrets, custom blocks…: not ours to read.
        return;
    }
  }

  private interfaceDescription(buf: Buffer, off: number, bodyEnd: number, base: number): void {
    if (bodyEnd - off < 16) throw new CaptureFormatError(this.source, base + off, 'corrupt interface description block: too short');
    const linkType = this.le ? buf.readUInt16LE(off + 8) : buf.readUInt16BE(off + 8);
    const iface: PcapngInterface = {
      linkType,
      snapLen: this.u32(buf, off + 12),
      unitsPerSec: 1_000_000,
      tsOffsetSec: 0,
      stats: { received: 0, dropped: 0, ifDropped: 0 },
    };
    let o = off + 16;
    while (o + 4 <= bodyEnd) {
      const code = this.le ? buf.readUInt16LE(o) : buf.readUInt16BE(o);
      const len = this.le ? buf.readUInt16LE(o + 2) : buf.readUInt16BE(o + 2);
      const v = o + 4;
      if (code === 0 || v + len > bodyEnd) break;
      if (code === 9 && len >= 1) {
        const r = buf[v];
        const exp = r & 0x7f;
        iface.unitsPerSec = r & 0x80 ? 2 ** exp : 10 ** exp;
        if (!(iface.unitsPerSec >= 1) || exp > 63) {
          throw new CaptureFormatError(this.source, base + off, `corrupt interface description block: if_tsresol ${r}`);
        }
      } else if (code === 14 && len >= 8) {
        const hi = this.le ? buf.readInt32LE(v + 4) : buf.readInt32BE(v);
        const lo = this.le ? buf.readUInt32LE(v) : buf.readUInt32BE(v + 4);
        iface.tsOffsetSec = hi * 4294967296 + lo;
      }
      o = v + ((len + 3) & ~3);
    }
    this.interfaces.push(iface);
  }

  private interfaceStatistics(buf: Buffer, off: number, bodyEnd: number): void {
    const ifIndex = this.u32(buf, off + 8);
    const iface = this.interfaces[ifIndex];
    if (!iface) return;
    let o = off + 20;
    while (o + 4 <= bodyEnd) {
      const code = this.le ? buf.readUInt16LE(o) : buf.readUInt16BE(o);
      const len = this.le ? buf.readUInt16LE(o + 2) : buf.readUInt16BE(o + 2);
      const v = o + 4;
      if (code === 0 || v + len > bodyEnd) break;
      if (len === 8 && (code === 4 || code === 5 || code === 7)) {
        const hi = this.u32(buf, this.le ? v + 4 : v);
        const lo = this.u32(buf, this.le ? v : v + 4);
        const n = hi * 4294967296 + lo;
        if (code === 4) iface.stats.received = n;
        else if (code === 5) iface.stats.ifDropped = n;
        else iface.stats.dropped = n;
      }
      o = v + ((len + 3) & ~3);
    }
    this.onStats?.(ifIndex, iface.stats);
  }

  private emitPacket(
    buf: Buffer,
    dataOff: number,
    capLen: number,
    origLen: number,
    ifIndex: number,
    tsHigh: number,
    tsLow: number,
    blockOffset: number,
    noTimestamp = false,
  ): void {
    const iface = this.interfaces[ifIndex];
    if (!iface) {
      throw new CaptureFormatError(this.source, blockOffset, `packet block names interface ${ifIndex}, which no interface description block declared`);
    }
    const rec = this.rec;
    rec.buf = buf;
    rec.off = dataOff;
    rec.capLen = capLen;
    rec.origLen = origLen < capLen ? capLen : origLen;
    rec.linkType = iface.linkType;
    rec.ifIndex = ifIndex;
    if (noTimestamp) {
      rec.tsSec = 0;
      rec.tsNsec = 0;
    } else {
      splitTimestamp(tsHigh, tsLow, iface.unitsPerSec, rec);
      rec.tsSec += iface.tsOffsetSec;
    }
    this.packets++;
    this.onPacket(rec);
  }
}

/** Unsigned 32-bit reads by bytes: the capture's hot loop, without Buffer's argument checks. */
function le32(buf: Buffer, off: number): number {
  return (buf[off] | (buf[off + 1] << 8) | (buf[off + 2] << 16) | (buf[off + 3] << 24)) >>> 0;
}

function be32(buf: Buffer, off: number): number {
  return ((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>> 0;
}

/**
 * (high·2³² + low) units → whole seconds and nanoseconds without BigInt and without losing
 * precision: a nanosecond timestamp is ~1.8e18, beyond a double's 2⁵³, so divide in 16-bit steps.
 */
export function splitTimestamp(high: number, low: number, unitsPerSec: number, out: { tsSec: number; tsNsec: number }): void {
  if (high < 0x200000 && unitsPerSec <= 1_000_000_000) {
    // Under 2^53 units (any microsecond timestamp): one exact division in doubles.
    const v = high * 4294967296 + low;
    const sec = Math.floor(v / unitsPerSec);
    out.tsSec = sec;
    out.tsNsec = unitsPerSec === 1_000_000_000 ? v - sec * unitsPerSec : Math.floor(((v - sec * unitsPerSec) * 1_000_000_000) / unitsPerSec);
    return;
  }
  if (unitsPerSec > 1e10) {
    const v = (BigInt(high) << 32n) | BigInt(low);
    const u = BigInt(unitsPerSec);
    out.tsSec = Number(v / u);
    out.tsNsec = Number(((v % u) * 1_000_000_000n) / u);
    return;
  }
  const qHigh = Math.floor(high / unitsPerSec);
  const r = high - qHigh * unitsPerSec;
  const t1 = r * 65536 + (low >>> 16);
  const q1 = Math.floor(t1 / unitsPerSec);
  const r1 = t1 - q1 * unitsPerSec;
  const t2 = r1 * 65536 + (low & 0xffff);
  const q2 = Math.floor(t2 / unitsPerSec);
  const rem = t2 - q2 * unitsPerSec;
  out.tsSec = qHigh * 4294967296 + q1 * 65536 + q2;
  out.tsNsec = unitsPerSec === 1_000_000_000 ? rem : Math.floor((rem * 1_000_000_000) / unitsPerSec);
}
