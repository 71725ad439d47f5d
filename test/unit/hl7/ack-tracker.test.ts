import { describe, expect, it } from 'vitest';
import { AckTracker, DEFAULT_MAX_OUTSTANDING } from '../../../protocols/hl7/ack-tracker.js';
import { timeRatio } from '../../support/relative-time.js';
import { harness, mllp } from './support.js';

describe('AckTracker', () => {
  it('answers messages that reuse a control id oldest first, from the middle of a chain too', () => {
    const t = new AckTracker<string>(1000, 100);
    t.add(0, 'X', '', 1, 0, 'a');
    t.add(0, 'X', '', 2, 0, 'b');
    t.add(0, 'X', '', 3, 0, 'c');
    t.add(1, 'X', '', 3, 0, 'other-direction');
    expect(t.match(1, 'X')?.data).toBe('a');
    // Expiry removes the oldest left ('b'), then 'c' is the next to be answered.
    const expired: string[] = [];
    t.expire(1002, (e) => expired.push(e.data));
    expect(expired).toEqual(['b']);
    expect(t.match(1, 'X')?.data).toBe('c');
    expect(t.match(1, 'X')).toBeNull();
    expect(t.match(0, 'X')?.data).toBe('other-direction');
    expect(t.size).toBe(0);
    expect(t.nextDueMs()).toBe(Infinity);
  });

  it('matches a whole batch, leaving other batches and directions alone', () => {
    const t = new AckTracker<string>(1000, 100);
    t.add(0, 'M1', 'B1', 1, 0, 'm1');
    t.add(0, 'M2', 'B2', 2, 0, 'm2');
    t.add(0, 'M3', 'B1', 3, 0, 'm3');
    t.add(1, 'M4', 'B1', 4, 0, 'm4');
    expect(t.match(1, 'M3')?.data).toBe('m3');
    expect(t.matchBatch(1, 'B1').map((e) => e.data)).toEqual(['m1']);
    expect(t.matchBatch(1, 'B1')).toEqual([]);
    expect(t.drain().map((e) => e.data)).toEqual(['m2', 'm4']);
  });

  it('evicts the oldest at the cap and keeps the chain of a reused id consistent', () => {
    const t = new AckTracker<number>(1000, 3);
    for (let i = 0; i < 5; i++) {
      const ev = t.add(0, 'SAME', '', i, 0, i);
      expect(ev?.data ?? null).toBe(i >= 3 ? i - 3 : null);
    }
    expect(t.size).toBe(3);
    expect([t.match(1, 'SAME')?.data, t.match(1, 'SAME')?.data, t.match(1, 'SAME')?.data, t.match(1, 'SAME')]).toEqual([2, 3, 4, null]);
  });

  it('adds and answers as fast with one repeated control id as with unique ids (a full table of 10,000)', () => {
    const n = 40_000;
    const ids = Array.from({ length: n }, (_, i) => `U${i}`);
    const run = (id: (i: number) => string) => () => {
      const t = new AckTracker<number>(1e12, DEFAULT_MAX_OUTSTANDING);
      for (let i = 0; i < n; i++) t.add(0, id(i), '', i, 0, i);
      for (let i = 0; i < 1000; i++) t.match(1, id(i));
    };
    const r = timeRatio(run(() => 'SAME'), run((i) => ids[i]));
    expect(r.ratio, `repeated ${r.worstMs.toFixed(1)} ms, unique ${r.normalMs.toFixed(1)} ms`).toBeLessThan(3);
  });
});

describe('Hl7StreamParser under one repeated control id', () => {
  const msg = (id: string) => mllp(`MSH|^~\\&|A|B|C|D|20240101||ADT^A01|${id}|P|2.5|||AL|NE\rEVN|A01|20240101`);
  const stream = (id: (i: number) => string, n: number) => Buffer.from(Array.from({ length: n }, (_, i) => msg(id(i))).join(''), 'latin1');

  it('processes 20,000 unanswered messages with one control id within 3x the time of unique ids', () => {
    const n = 20_000;
    const same = stream(() => 'REUSED', n);
    const unique = stream((i) => `U${String(i).padStart(6, '0')}`, n);
    let outstanding = 0;
    const run = (buf: Buffer) => () => {
      const h = harness({ ackTimeoutMs: 1e9 });
      h.parser.data(0, buf, 0, buf.length, 1000, 0);
      outstanding = h.parser.counters.outstandingOverflow;
    };
    const r = timeRatio(run(same), run(unique), 3);
    expect(outstanding).toBe(n - DEFAULT_MAX_OUTSTANDING); // the table was full: the worst case was reached
    expect(r.ratio, `repeated ${r.worstMs.toFixed(1)} ms, unique ${r.normalMs.toFixed(1)} ms`).toBeLessThan(3);
  });
});
