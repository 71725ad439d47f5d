import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { classifyFnr, findFnrs, FnrKind, isValidFnr, scanFnr } from '../../../protocols/phi/fodselsnummer.js';

const manifest = JSON.parse(readFileSync(new URL('../../../fixtures/corpus/MANIFEST.json', import.meta.url), 'utf8'));
const patients: { fodselsnummer: string }[] = manifest.identities.patients;

// Generated with fixtures/corpus/scripts/fnr.py (see the args beside each one).
const VALID: [string, FnrKind][] = [
  ['14078521210', FnrKind.Fodselsnummer], // 14071985 212
  ['03116210443', FnrKind.Fodselsnummer], // 03111962 104
  ['29020456165', FnrKind.Fodselsnummer], // 29022004 561 (leap day)
  ['01010000110', FnrKind.Fodselsnummer], // 01011900 0
  ['31123950057', FnrKind.Fodselsnummer], // 31122039 500
  ['54078521204', FnrKind.DNummer], // 14071985 212 --dnum
  ['71019010052', FnrKind.DNummer], // 31011990 100 --dnum
  ['14478521384', FnrKind.HNummer], // 14071985 individual 213, month + 40
  ['01524010026', FnrKind.HNummer], // 01121940 individual 100, month + 40
  ['14878521286', FnrKind.Synthetic], // --tenor
  ['54878521350', FnrKind.Synthetic], // --dnum --tenor
];

// Correct check digits but impossible dates, then checksum failures and non-numbers.
const INVALID = [
  '32018521244', // day 32
  '31138510053', // month 13
  '29028510037', // 29 Feb 1985
  '30028510086', // 30 Feb
  '14078521211', // k2 off by one
  '14078521200', // k1 wrong
  '12345678901',
  '00000000000',
  '1407852121', // 10 digits
  '140785212100', // 12 digits
  '1407852121a',
];

describe('fødselsnummer validation', () => {
  it('accepts every identity in MANIFEST.json', () => {
    expect(patients.length).toBeGreaterThan(0);
    for (const p of patients) expect(isValidFnr(p.fodselsnummer), p.fodselsnummer).toBe(true);
  });
  it.each(VALID)('classifies %s', (v, kind) => {
    expect(classifyFnr(v)).toBe(kind);
  });
  it.each(INVALID)('rejects %s', (v) => {
    expect(classifyFnr(v)).toBe(FnrKind.Invalid);
  });
  it('rejects random 11-digit numbers almost always', () => {
    let hits = 0;
    let seed = 12345;
    for (let i = 0; i < 20000; i++) {
      let s = '';
      for (let j = 0; j < 11; j++) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        s += String(seed % 10);
      }
      if (isValidFnr(s)) hits++;
    }
    // Random digits: ~1/121 pass the checksums, ~22 % of those also form a date (~1/550).
    expect(hits).toBeLessThan(20000 / 250);
  });
});

describe('scanFnr', () => {
  it('finds numbers embedded in text and HL7 fields', () => {
    const text = 'PID|1||14078521210^^^NOFNR^NNNOR||X\rNK1|1|Y|03116210443|x29020456165y';
    expect(findFnrs(text).map((f) => f.value)).toEqual(['14078521210', '03116210443', '29020456165']);
  });
  it('ignores runs shorter or longer than 11 digits', () => {
    expect(findFnrs('140785212100 914078521210 1407852121 +4722334455')).toEqual([]);
  });
  it('finds numbers at the very start and end of the range only', () => {
    const buf = Buffer.from('914078521210|14078521210');
    // Range starting inside a longer run must not split it into a fake 11-digit run.
    expect(scanFnr(buf, 13, 11)).toBe(1);
    expect(scanFnr(buf, 0, 12)).toBe(0);
  });
  it('finds exactly what a byte-by-byte reference scan finds, at every offset and length', () => {
    // The scan skips ahead eleven bytes at a time; this checks the skipping against the plain
    // definition (a maximal run of exactly 11 digits inside the range, checksums valid) on text
    // dense with digit runs of every length around 11, valid numbers among them.
    const reference = (b: Buffer, off: number, len: number): number[] => {
      const out: number[] = [];
      let i = off;
      while (i < off + len) {
        if (b[i] < 0x30 || b[i] > 0x39) {
          i++;
          continue;
        }
        const s = i;
        while (i < off + len && b[i] >= 0x30 && b[i] <= 0x39) i++;
        if (i - s === 11 && classifyFnr(b.toString('latin1', s, i)) !== FnrKind.Invalid) out.push(s);
      }
      return out;
    };
    let seed = 12345;
    const rnd = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
    let matches = 0;
    for (let round = 0; round < 300; round++) {
      let text = '';
      while (text.length < 400) {
        const pick = rnd(6);
        if (pick === 0) text += VALID[rnd(VALID.length)][0];
        else if (pick === 1) text += String(rnd(10)) + VALID[rnd(VALID.length)][0];
        else if (pick === 2) text += '0123456789012345'.slice(0, 8 + rnd(6));
        else text += '|^ ab\r'.slice(0, 1 + rnd(3));
      }
      const buf = Buffer.from(text, 'latin1');
      const off = rnd(20);
      const len = buf.length - off - rnd(20);
      const got: number[] = [];
      const n = scanFnr(buf, off, len, (s) => got.push(s));
      expect(got).toEqual(reference(buf, off, len));
      expect(n).toBe(got.length);
      matches += n;
    }
    expect(matches).toBeGreaterThan(300);
  });
  it('reports offsets and kinds', () => {
    const buf = Buffer.from('a54078521204b14078521210');
    const got: [number, FnrKind][] = [];
    scanFnr(buf, 0, buf.length, (s, k) => got.push([s, k]));
    expect(got).toEqual([
      [1, FnrKind.DNummer],
      [13, FnrKind.Fodselsnummer],
    ]);
  });
});
