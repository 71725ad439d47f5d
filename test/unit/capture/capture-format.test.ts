import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CaptureStreamReader, readCaptureFile } from '../../../agent/capture/capture-file.js';
import { splitTimestamp } from '../../../agent/capture/capture-format.js';
import { CaptureFormatError, type PacketRecord } from '../../../agent/capture/packet-record.js';
import { readPcapFrames, writePcap, writePcapng, type Frame } from '../../support/pcap-writer.js';

const tmp = mkdtempSync(join(tmpdir(), 'muvakt-cap-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const CORPUS = join(import.meta.dirname, '../../../fixtures/corpus');

function frames(n: number): Frame[] {
  return Array.from({ length: n }, (_, i) => ({ sec: 1_700_000_000 + i, nsec: i * 1000 + 7000, data: Buffer.alloc(60 + i, i), origLen: 60 + i }));
}

async function collect(path: string, chunkSize?: number) {
  const got: { sec: number; nsec: number; len: number; orig: number; lt: number; first: number; ifIndex: number }[] = [];
  let error: unknown;
  try {
    await readCaptureFile(path, (r: PacketRecord) => got.push({ sec: r.tsSec, nsec: r.tsNsec, len: r.capLen, orig: r.origLen, lt: r.linkType, first: r.buf[r.off], ifIndex: r.ifIndex }), { chunkSize });
  } catch (e) {
    error = e;
  }
  return { got, error };
}

function file(name: string, data: Buffer): string {
  const p = join(tmp, name);
  writeFileSync(p, data);
  return p;
}

describe('classic pcap', () => {
  it('reads every record across any chunk size, both byte orders and resolutions', async () => {
    const fr = frames(50);
    for (const opts of [{}, { bigEndian: true }, { nano: true }, { bigEndian: true, nano: true }]) {
      const p = file('a.pcap', writePcap(fr, 1, opts));
      for (const chunk of [7, 64, 1000, 1 << 20]) {
        const { got, error } = await collect(p, chunk);
        expect(error).toBeUndefined();
        expect(got.map((g) => [g.sec, g.nsec, g.len, g.first])).toEqual(fr.map((f, i) => [f.sec, f.nsec, f.data.length, i]));
      }
    }
  });

  it('a record cut short stops with the file name and the record offset, after delivering what came before', async () => {
    const data = writePcap(frames(5), 1);
    // Records: 24-byte header, then 16 + (60+i) bytes each.
    const fourthAt = 24 + [0, 1, 2].reduce((a, i) => a + 16 + 60 + i, 0);
    for (const cut of [fourthAt + 3, fourthAt + 16 + 10]) {
      const p = file('cut.pcap', data.subarray(0, cut));
      const { got, error } = await collect(p, 50);
      expect(got).toHaveLength(3);
      expect(error).toBeInstanceOf(CaptureFormatError);
      expect((error as CaptureFormatError).byteOffset).toBe(fourthAt);
      expect((error as Error).message).toContain(p);
      expect((error as Error).message).toMatch(new RegExp(`truncated.*byte offset ${fourthAt}`));
    }
  });

  it('the corpus truncated capture names its offset', async () => {
    const { got, error } = await collect(join(CORPUS, '27_malformed_truncated.pcap'));
    expect(got.length).toBe(650); // as tcpdump -r reads before its "truncated dump file"
    expect((error as Error).message).toMatch(/27_malformed_truncated\.pcap: capture truncated.* at byte offset 773850/);
  });

  it('an impossible record length is reported as corruption, not waited for', async () => {
    const data = writePcap(frames(3), 1);
    const second = 24 + 16 + 60;
    data.writeUInt32LE(0x7fffffff, second + 8);
    const { got, error } = await collect(file('corrupt.pcap', data));
    expect(got).toHaveLength(1);
    expect((error as Error).message).toMatch(/corrupt record: captured length 2147483647.*byte offset 100/);
  });

  it('rejects what is not a capture, and empty files, with exit-worthy errors', async () => {
    expect((await collect(file('text.pcap', Buffer.from('hello, this is not a capture file at all')))).error).toBeInstanceOf(CaptureFormatError);
    expect(((await collect(file('text.pcap', Buffer.from('hello, this is not a capture file at all')))).error as Error).message).toMatch(/not a pcap or pcapng file \(magic 0x68656c6c\)/);
    expect(((await collect(file('empty.pcap', Buffer.alloc(0)))).error as Error).message).toMatch(/empty file/);
    expect(((await collect(join(tmp, 'does-not-exist.pcap'))).error as Error).message).toMatch(/cannot open: ENOENT/);
  });
});

describe('pcapng', () => {
  it('handles several interfaces with their own link type and resolution, several sections, and unknown blocks', async () => {
    const fr = frames(30);
    const data = writePcapng(fr, [{ linkType: 1, tsresol: 6 }, { linkType: 113, tsresol: 9 }, { linkType: 101, tsresol: 0x80 | 20 }], { sectionEvery: 8, alternateByteOrder: true });
    for (const chunk of [13, 4096]) {
      const { got, error } = await collect(file('multi.pcapng', data), chunk);
      expect(error).toBeUndefined();
      expect(got.map((g) => g.lt)).toEqual(fr.map((_, i) => [1, 113, 101][i % 3]));
      expect(got.map((g) => g.ifIndex)).toEqual(fr.map((_, i) => i % 3));
      expect(got.map((g) => g.sec)).toEqual(fr.map((f) => f.sec));
      // 2^-20 s units cannot hold every nanosecond: within one unit (~954 ns).
      got.forEach((g, i) => expect(Math.abs(g.nsec - fr[i].nsec)).toBeLessThan(954));
      got.filter((_, i) => i % 3 !== 2).forEach((g) => expect(g.nsec % 1000).toBe(0));
    }
  });

  it('a block whose trailing length disagrees is corrupt, with its offset', async () => {
    const data = writePcapng(frames(3), [{ linkType: 1, tsresol: 6 }]);
    // Break the trailer of the last block.
    data.writeUInt32LE(12345, data.length - 4);
    const { got, error } = await collect(file('bad.pcapng', data));
    expect(got).toHaveLength(2);
    expect((error as Error).message).toMatch(/leading length \d+ and trailing length 12345 differ at byte offset \d+/);
  });

  it('a packet naming an undeclared interface is corrupt', async () => {
    const data = writePcapng(frames(1), [{ linkType: 1, tsresol: 6 }]);
    // The EPB is the last block: interface id sits right after its 8-byte header.
    const epb = data.length - (12 + 20 + 60);
    data.writeUInt32LE(9, epb + 8);
    expect(((await collect(file('noif.pcapng', data))).error as Error).message).toMatch(/interface 9, which no interface description block declared/);
  });
});

describe('timestamps', () => {
  it('splits 64-bit unit counts exactly without BigInt for ns and µs', () => {
    const out = { tsSec: 0, tsNsec: 0 };
    const ns = 1_795_441_121_793_066_123n;
    splitTimestamp(Number(ns >> 32n), Number(ns & 0xffffffffn), 1e9, out);
    expect(out).toEqual({ tsSec: 1_795_441_121, tsNsec: 793_066_123 });
    const us = 1_795_441_121_793_066n;
    splitTimestamp(Number(us >> 32n), Number(us & 0xffffffffn), 1e6, out);
    expect(out).toEqual({ tsSec: 1_795_441_121, tsNsec: 793_066_000 });
    const ps = 1_795_441_121_793_066_123_456n;
    splitTimestamp(Number((ps >> 32n) & 0xffffffffn), Number(ps & 0xffffffffn), 1e12, out);
    // picoseconds overflow 64 bits after 2106 only; this value wraps, so just check it is finite and ordered
    expect(Number.isFinite(out.tsSec)).toBe(true);
  });

  it('agrees with exact BigInt division on both sides of 2^53 units, for every usual resolution', () => {
    const out = { tsSec: 0, tsNsec: 0 };
    let seed = 12345;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (const units of [1e3, 1e6, 1e9, 2 ** 20, 2 ** 30]) {
      for (let i = 0; i < 2000; i++) {
        // High words under 2^21 (one double holds the count) and above it (split in steps).
        const high = i % 2 === 0 ? next() % 0x200000 : 0x200000 + (next() % 0x1000000);
        const low = next();
        splitTimestamp(high, low, units, out);
        const v = (BigInt(high) << 32n) | BigInt(low);
        const u = BigInt(units);
        expect(out, `${high}:${low} at ${units}/s`).toEqual({ tsSec: Number(v / u), tsNsec: Number(((v % u) * 1_000_000_000n) / u) });
      }
    }
  });
});

describe('stream reader (live helper pipe)', () => {
  it('frames records however the pipe slices the bytes', () => {
    const src = readPcapFrames(join(CORPUS, '01_dicom_cecho.pcap'));
    const data = writePcap(src.frames, 1, { nano: true });
    for (const slice of [1, 3, 100, 4096]) {
      const seen: number[] = [];
      const r = new CaptureStreamReader('pipe', (rec) => seen.push(rec.capLen));
      for (let o = 0; o < data.length; o += slice) r.push(data.subarray(o, o + slice));
      r.end();
      expect(seen).toEqual(src.frames.map((f) => f.data.length));
    }
  });

  it('an unfinished record at the end of the stream is an error', () => {
    const data = writePcap(frames(2), 1);
    const r = new CaptureStreamReader('pipe', () => {});
    r.push(data.subarray(0, data.length - 5));
    expect(() => r.end()).toThrow(/capture truncated/);
  });
});
