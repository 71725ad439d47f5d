/**
 * The streaming fødselsnummer scan used on HTTP bodies and syslog streams, and the rate at which
 * random 11-digit numbers get through the check: about 1/121 pass both check digits, and of
 * those only the share whose first six digits form a valid (D-/H-/synthetic) date.
 */
import { describe, expect, it } from 'vitest';
import { FnrStream, MAX_PHI_IDS, PhiAccumulator } from '../../../protocols/cleartext/phi-scan.js';
import { scanFnr } from '../../../protocols/phi/fodselsnummer.js';
import { rng } from '../../support/streams.js';
import { pseudonymize } from './support.js';

const DAYS = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const leap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/** Share of 29 February among (yy, individual number) pairs: the century comes from the individual number. */
function feb29Share(): number {
  let ok = 0;
  for (let yy = 0; yy < 100; yy++) {
    for (let ind = 0; ind < 1000; ind++) {
      const years: number[] = [];
      if (ind <= 499) years.push(1900 + yy);
      if (ind >= 500 && ind <= 749 && yy >= 54) years.push(1800 + yy);
      if (ind >= 500 && yy < 40) years.push(2000 + yy);
      if (ind >= 900 && yy >= 40) years.push(1900 + yy);
      if (years.some(leap)) ok++;
    }
  }
  return ok / 100_000;
}

/** Share of the first four digits (DDMM) that name a day: plain, D-nummer (+40 day), H-nummer (+40 month), synthetic (+80 month). */
function dateShare(): number {
  const f29 = feb29Share();
  let share = 0;
  for (let dd = 0; dd < 100; dd++) {
    for (let mm = 0; mm < 100; mm++) {
      const dNummer = dd > 40;
      const day = dNummer ? dd - 40 : dd;
      let month = mm;
      if (mm > 80) month = mm - 80;
      else if (mm > 40) {
        if (dNummer) continue;
        month = mm - 40;
      }
      if (month < 1 || month > 12 || day < 1 || day > DAYS[month]) continue;
      share += month === 2 && day === 29 ? f29 : 1;
    }
  }
  return share / 10_000;
}

/** Both mod-11 check digits, written out independently of the scanner. */
function checksumsPass(d: number[]): boolean {
  const w1 = [3, 7, 6, 1, 8, 9, 4, 5, 2];
  const w2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
  const k = (w: number[]) => {
    const r = 11 - (w.reduce((a, x, i) => a + x * d[i], 0) % 11);
    return r === 11 ? 0 : r;
  };
  return k(w1) === d[9] && k(w2) === d[10];
}

describe('random 11-digit numbers', () => {
  it('are rejected at the expected rate ≈ 1 − (1/121)·(valid-date share)', () => {
    const rand = rng(2024);
    const N = 363_000;
    const text = Buffer.alloc(N * 12, 0x20);
    let checksumHits = 0;
    for (let i = 0; i < N; i++) {
      const d: number[] = [];
      for (let j = 0; j < 11; j++) {
        d.push(Math.floor(rand() * 10));
        text[i * 12 + j] = 0x30 + d[j];
      }
      if (checksumsPass(d)) checksumHits++;
    }
    const accepted = scanFnr(text, 0, text.length);
    const share = dateShare();
    expect(share).toBeGreaterThan(0.17);
    expect(share).toBeLessThan(0.19);
    // Check digits alone: 1/121.
    expect(checksumHits / N).toBeCloseTo(1 / 121, 3);
    const expected = share / 121;
    expect(accepted / N).toBeGreaterThan(expected * 0.88);
    expect(accepted / N).toBeLessThan(expected * 1.12);
    const rejected = 1 - accepted / N;
    expect(rejected).toBeCloseTo(1 - share / 121, 3);
    // Through the streaming scanner, in random pieces, the same numbers are accepted.
    const acc = new PhiAccumulator(() => 'x');
    const s = new FnrStream();
    s.begin(acc);
    for (let o = 0; o < text.length; ) {
      const n = 1 + Math.floor(rand() * 40);
      s.push(text, o, Math.min(n, text.length - o));
      o += n;
    }
    s.flush();
    expect(acc.occurrences).toBe(accepted);
  });
});

describe('FnrStream', () => {
  const numbers = ['14078521210', '03116210443', '29020456165'];

  it('finds the same numbers as a one-shot scan however the bytes are cut', () => {
    const rand = rng(77);
    for (let round = 0; round < 300; round++) {
      // Text with numbers, longer digit runs, and digits glued to them.
      let t = '';
      for (let k = 0; k < 20; k++) {
        const r = rand();
        if (r < 0.3) t += numbers[k % 3];
        else if (r < 0.4) t += '9' + numbers[k % 3];
        else if (r < 0.5) t += numbers[k % 3] + '12';
        else t += String(Math.floor(rand() * 1e6));
        t += rand() < 0.5 ? ' ' : 'x';
      }
      const b = Buffer.from(t);
      const whole = scanFnr(b, 0, b.length);
      const acc = new PhiAccumulator(pseudonymize);
      const s = new FnrStream();
      s.begin(acc, 'body');
      for (let o = 0; o < b.length; ) {
        const n = 1 + Math.floor(rand() * 13);
        s.push(b, o, Math.min(n, b.length - o));
        o += n;
      }
      s.flush();
      expect(acc.occurrences, t).toBe(whole);
    }
  });

  it('a number at the very end counts at flush; a gap inside a run poisons it', () => {
    const acc = new PhiAccumulator(pseudonymize);
    const s = new FnrStream();
    s.begin(acc);
    s.push(Buffer.from('id=140785'), 0, 9);
    s.push(Buffer.from('21210'), 0, 5);
    expect(acc.occurrences).toBe(0);
    s.flush();
    expect(acc.pseudonyms).toEqual([pseudonymize('fodselsnummer', '14078521210')]);
    s.begin(acc);
    s.push(Buffer.from('x140785'), 0, 7);
    s.poison();
    s.push(Buffer.from('21210 y'), 0, 7);
    s.flush();
    expect(acc.occurrences).toBe(1);
  });

  it('keeps at most MAX_PHI_IDS pseudonyms, counting the rest', () => {
    const acc = new PhiAccumulator((k, v) => `${k}:${v.length}:${Math.random()}`);
    const b = Buffer.from('14078521210 '.repeat(40));
    acc.scan(b, 0, b.length);
    expect(acc.occurrences).toBe(40);
    expect(acc.pseudonyms).toHaveLength(MAX_PHI_IDS);
    expect(acc.dropped).toBe(8);
  });
});
