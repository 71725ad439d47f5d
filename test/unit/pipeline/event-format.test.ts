import { describe, expect, it } from 'vitest';
import { isoMicro, isoMicroToMs, macFromHalves } from '../../../agent/events/format.js';

/** The plain definition: the date from Date, six fraction digits padded. */
const reference = (sec: number, nsec: number) => `${new Date(sec * 1000).toISOString().slice(0, 19)}.${String(Math.floor(nsec / 1000)).padStart(6, '0')}Z`;

describe('isoMicro', () => {
  it('formats seconds and nanoseconds as ISO 8601 UTC with microseconds', () => {
    expect(isoMicro(1_700_000_000, 5_000)).toBe('2023-11-14T22:13:20.000005Z');
    expect(isoMicro(1_700_000_000, 999_999_999)).toBe('2023-11-14T22:13:20.999999Z');
    expect(isoMicro(0, 0)).toBe('1970-01-01T00:00:00.000000Z');
  });
  it('agrees with the plain definition through its per-second and per-instant caches', () => {
    // Repeats, second changes and jumps back, as events from several flows interleave.
    let n = 0;
    for (let i = 0; i < 50_000; i++) {
      const sec = 1_700_000_000 + (i % 7 === 0 ? i : Math.floor(i / 10));
      const nsec = (i * 7919 * 1013) % 1e9;
      expect(isoMicro(sec, nsec)).toBe(reference(sec, nsec));
      expect(isoMicro(sec, nsec)).toBe(reference(sec, nsec));
      n++;
    }
    expect(n).toBe(50_000);
  });
  it('round-trips through isoMicroToMs to the millisecond', () => {
    expect(isoMicroToMs(isoMicro(1_700_000_000, 123_456_789))).toBe(1_700_000_000_123);
  });
});

describe('macFromHalves', () => {
  it('writes a MAC from its 16 + 32 bit halves, through its cache, for high and low values alike', () => {
    const hex = (hi: number, lo: number) =>
      [hi >>> 8, hi & 0xff, lo >>> 24, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff].map((b) => b.toString(16).padStart(2, '0')).join(':');
    expect(macFromHalves(0x0277, 0x0a00001f)).toBe('02:77:0a:00:00:1f');
    expect(macFromHalves(0xffff, 0xffffffff)).toBe('ff:ff:ff:ff:ff:ff');
    let seed = 7;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    const macs = Array.from({ length: 600 }, () => [rnd() & 0xffff, rnd()] as const);
    // Twice over many more MACs than the cache holds: collisions must never hand out another's text.
    for (let round = 0; round < 2; round++) for (const [hi, lo] of macs) expect(macFromHalves(hi, lo)).toBe(hex(hi, lo));
    expect(macFromHalves(0, 0)).toBe('00:00:00:00:00:00');
  });
});
