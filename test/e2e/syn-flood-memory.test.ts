import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/agent/cli/main.js');
const FLOWS = 2_000_000;
const CAP = 200_000;
/** The documented upper bound of memory per tracked flow (README, "Bounded memory"). */
const BYTES_PER_FLOW = 1024;

/** Writes a classic pcap of `n` SYNs, each from a distinct source address/port. */
function writeSynFlood(path: string, n: number): void {
  const fd = openSync(path, 'w');
  const hdr = Buffer.alloc(24);
  hdr.writeUInt32LE(0xa1b2c3d4, 0);
  hdr.writeUInt16LE(2, 4);
  hdr.writeUInt16LE(4, 6);
  hdr.writeUInt32LE(65535, 16);
  hdr.writeUInt32LE(1, 20);
  writeSync(fd, hdr);
  const rec = 16 + 54;
  const batch = 16384;
  const buf = Buffer.alloc(rec * batch);
  // Template: Ethernet + IPv4 + TCP SYN to 10.77.20.10:104.
  for (let i = 0; i < batch; i++) {
    const o = i * rec;
    buf.writeUInt32LE(54, o + 8);
    buf.writeUInt32LE(54, o + 12);
    const f = o + 16;
    buf.writeUInt16BE(0x0800, f + 12);
    buf[f + 14] = 0x45;
    buf.writeUInt16BE(40, f + 16);
    buf[f + 22] = 64;
    buf[f + 23] = 6;
    buf.writeUInt32BE(0x0a4d140a, f + 30);
    buf.writeUInt16BE(104, f + 36);
    buf[f + 46] = 0x50;
    buf[f + 47] = 0x02;
  }
  for (let base = 0; base < n; base += batch) {
    const count = Math.min(batch, n - base);
    for (let i = 0; i < count; i++) {
      const k = base + i;
      const o = i * rec;
      // 10 µs apart: 20 s in all, inside the 30 s SYN timeout, so only eviction frees flows.
      const us = k * 10;
      buf.writeUInt32LE(1_795_000_000 + Math.floor(us / 1e6), o);
      buf.writeUInt32LE(us % 1e6, o + 4);
      const f = o + 16;
      buf.writeUInt32BE((0x0a000000 | (k >>> 6)) >>> 0, f + 26);
      buf.writeUInt16BE(1024 + (k & 63) * 997 % 60000, f + 34);
      buf.writeUInt32BE(k, f + 38);
    }
    writeSync(fd, buf, 0, count * rec);
  }
  closeSync(fd);
}

describe('bounded memory under a SYN flood', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'muvakt-flood-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it(`${FLOWS.toLocaleString('en')} distinct SYN-only flows stay below the flow-table cap plus 100 MB, with evictions counted`, () => {
    if (!existsSync(CLI)) throw new Error('dist/ is missing: run "npm run build" (npm test does)');
    const file = join(tmp, 'synflood.pcap');
    writeSynFlood(file, FLOWS);
    const small = execFileSync(process.execPath, [CLI, 'analyze', join(ROOT, 'fixtures/corpus/01_dicom_cecho.pcap')], { encoding: 'utf8' });
    const baseline = Number(/peak memory \(RSS\)\s+(\d+) MB/.exec(small)![1]);
    const out = execFileSync(process.execPath, [CLI, 'analyze', file, '--max-flows', String(CAP)], { encoding: 'utf8', maxBuffer: 1 << 20 });
    const rss = Number(/peak memory \(RSS\)\s+(\d+) MB/.exec(out)![1]);
    const evictions = Number(/flow evictions \(table full\)\s+([\d,]+)/.exec(out)![1].replace(/,/g, ''));
    const flows = Number(/^flows\s+([\d,]+)/m.exec(out)![1].replace(/,/g, ''));
    expect(flows).toBe(FLOWS);
    expect(evictions).toBe(FLOWS - CAP);
    const budgetMb = baseline + (CAP * BYTES_PER_FLOW) / 1e6 + 100;
    expect(rss, `peak RSS ${rss} MB, baseline ${baseline} MB, budget ${budgetMb} MB`).toBeLessThan(budgetMb);
  });
});
