import { closeSync, openSync, writeSync } from 'node:fs';

/** The flood's target: a DICOM service, so a policy has a device and a port to judge. */
const TARGET = 0x0a4d140a; // 10.77.20.10
/** Flood sources: 10.128.0.0/9 and up, one address per packet, never a site address of the example policy. */
const SOURCE_BASE = 0x0a800000;
const START_SEC = 1_795_000_000;

export interface FloodOptions {
  /** Microseconds between packets (default 10: 1.2 M packets span 12 s, inside the SYN and UDP timeouts). */
  gapUs?: number;
}

function header(): Buffer {
  const hdr = Buffer.alloc(24);
  hdr.writeUInt32LE(0xa1b2c3d4, 0);
  hdr.writeUInt16LE(2, 4);
  hdr.writeUInt16LE(4, 6);
  hdr.writeUInt32LE(65535, 16);
  hdr.writeUInt32LE(1, 20);
  return hdr;
}

/**
 * Writes a classic pcap of `n` packets, each from its own source address (and MAC), built from a
 * frame template by `fill`: the address plan of a spoofed flood, which is what makes the
 * per-address tables (inventory, sightings) grow rather than only the flow table.
 */
function writeFlood(path: string, n: number, frame: Buffer, fill: (f: Buffer, off: number, k: number) => void, opts: FloodOptions): void {
  const gap = opts.gapUs ?? 10;
  const fd = openSync(path, 'w');
  writeSync(fd, header());
  const len = frame.length;
  const rec = 16 + len;
  const batch = 16384;
  const buf = Buffer.alloc(rec * batch);
  for (let i = 0; i < batch; i++) {
    buf.writeUInt32LE(len, i * rec + 8);
    buf.writeUInt32LE(len, i * rec + 12);
    frame.copy(buf, i * rec + 16);
  }
  for (let base = 0; base < n; base += batch) {
    const count = Math.min(batch, n - base);
    for (let i = 0; i < count; i++) {
      const k = base + i;
      const o = i * rec;
      const us = k * gap;
      buf.writeUInt32LE(START_SEC + Math.floor(us / 1e6), o);
      buf.writeUInt32LE(us % 1e6, o + 4);
      const f = o + 16;
      // Locally administered source MAC carrying the packet number: a distinct host per packet.
      buf.writeUInt16BE(0x0200, f + 6);
      buf.writeUInt32BE(k >>> 0, f + 8);
      buf.writeUInt32BE((SOURCE_BASE + k) >>> 0, f + 26);
      fill(buf, f, k);
    }
    writeSync(fd, buf, 0, count * rec);
  }
  closeSync(fd);
}

function ipv4Template(proto: number, l4Len: number): Buffer {
  const f = Buffer.alloc(14 + 20 + l4Len);
  f.writeUInt32BE(0x00005e00, 0); // destination MAC 00:00:5e:00:53:01
  f.writeUInt16BE(0x5301, 4);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  f.writeUInt16BE(20 + l4Len, 16);
  f[22] = 64;
  f[23] = proto;
  f.writeUInt32BE(TARGET, 30);
  return f;
}

/** `n` TCP SYNs to 10.77.20.10:104, each from a distinct source address. */
export function writeSynFlood(path: string, n: number, opts: FloodOptions = {}): void {
  const t = ipv4Template(6, 20);
  t.writeUInt16BE(104, 36);
  t[46] = 0x50;
  t[47] = 0x02;
  t.writeUInt16BE(64240, 48);
  writeFlood(path, n, t, (b, f, k) => {
    b.writeUInt16BE(1024 + ((k * 997) % 60000), f + 34);
    b.writeUInt32BE(k >>> 0, f + 38);
  }, opts);
}

/** `n` single-packet UDP flows (8 payload bytes) to 10.77.20.10:5000, each from a distinct source address. */
export function writeUdpFlood(path: string, n: number, opts: FloodOptions = {}): void {
  const t = ipv4Template(17, 16);
  t.writeUInt16BE(5000, 36);
  t.writeUInt16BE(16, 38);
  writeFlood(path, n, t, (b, f, k) => {
    b.writeUInt16BE(1024 + ((k * 997) % 60000), f + 34);
    b.writeUInt32BE(k >>> 0, f + 42);
  }, opts);
}
