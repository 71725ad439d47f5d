import { describe, expect, it } from 'vitest';
import { FrameFlags, newFramerCounters, type FrameSink } from '../../../protocols/hl7/framing.js';
import { MllpFramer } from '../../../protocols/hl7/mllp-framer.js';
import { UnframedFramer } from '../../../protocols/hl7/unframed-framer.js';
import { chunked } from './tcp-streams.js';

function collect(max = 4 * 1024 * 1024, unframed = false) {
  const frames: [string, FrameFlags][] = [];
  const commits: boolean[] = [];
  const counters = newFramerCounters();
  const sink: FrameSink = {
    onFrame: (_dir, b, o, l, f) => frames.push([b.toString('latin1', o, o + l), f]),
    onCommitAck: (_dir, p) => commits.push(p),
    framerCounters: () => counters,
  };
  const framer = unframed ? new UnframedFramer(sink, 0, max) : new MllpFramer(sink, 0, max);
  const push = (s: string | Buffer) => {
    const b = typeof s === 'string' ? Buffer.from(s, 'latin1') : s;
    const big = Buffer.alloc(b.length + 16, 0x1c); // trailing FS bytes past the view must be ignored
    b.copy(big, 8);
    framer.push(big, 8, b.length);
  };
  return { frames, commits, counters, framer, push };
}

const A = 'MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P|2.5\rPID|1||x';
const B = 'MSH|^~\\&|A|B|C|D|20240101||ADT^A08|2|P|2.5\rPID|1||y';

describe('MllpFramer', () => {
  it('splits several frames in one chunk', () => {
    const f = collect();
    f.push(`\x0b${A}\x1c\r\x0b${B}\x1c\r`);
    expect(f.frames).toEqual([
      [A, FrameFlags.None],
      [B, FrameFlags.None],
    ]);
  });

  it.each([[[1]], [[2]], [[3, 1, 4, 1, 5, 9]], [[17]]])('joins a frame split in chunks of %j', (sizes) => {
    const f = collect();
    const stream = Buffer.from(`\x0b${A}\x1c\r\r\n\x0b${B}\x1c\r`, 'latin1');
    for (const c of chunked(stream, sizes)) f.push(c);
    expect(f.frames.map((x) => x[0])).toEqual([A, B]);
    expect(f.counters.bytesOutsideFrames).toBe(0);
  });

  it('tolerates a missing CR after FS', () => {
    const f = collect();
    f.push(`\x0b${A}\x1c\x0b${B}\x1c`);
    expect(f.frames.map((x) => x[0])).toEqual([A, B]);
  });

  it('delivers a frame that lost its end block when the next start block arrives', () => {
    const f = collect();
    f.push(`\x0b${A}\r\x0b${B}\x1c\r`);
    expect(f.frames).toEqual([
      [A + '\r', FrameFlags.Unterminated],
      [B, FrameFlags.None],
    ]);
    expect(f.counters.unterminatedFrames).toBe(1);
  });

  it('flushes an unterminated frame on demand and exposes it as partial', () => {
    const f = collect();
    f.push(`\x0b${A}`);
    expect(f.framer.partial()?.toString('latin1')).toBe(A);
    expect(f.framer.flush()).toBe(true);
    expect(f.frames).toEqual([[A, FrameFlags.Unterminated]]);
    expect(f.framer.partial()).toBeNull();
  });

  it('recognises MLLP release 2 commit ACK and NAK', () => {
    const f = collect();
    f.push('\x0b\x06\x1c\r\x0b\x15\x1c\r');
    expect(f.commits).toEqual([true, false]);
    expect(f.frames).toEqual([]);
    expect([f.counters.commitAcks, f.counters.commitNaks]).toEqual([1, 1]);
  });

  it('resynchronises at the next start block when the capture starts mid-message', () => {
    const f = collect();
    f.push(`2.5\rPID|1||tail\x1c\r\x0b${B}\x1c\r`);
    expect(f.frames.map((x) => x[0])).toEqual([B]);
    expect(f.counters.bytesOutsideFrames).toBeGreaterThan(0);
  });

  it('drops the partial frame on a gap and resumes at the next start block', () => {
    const f = collect();
    f.push(`\x0b${A.slice(0, 20)}`);
    f.framer.gap();
    f.push(`${A.slice(30)}\x1c\r\x0b${B}\x1c\r`);
    expect(f.frames.map((x) => x[0])).toEqual([B]);
    expect(f.counters.framesLostToGap).toBe(1);
  });

  it('keeps memory bounded on a 10 MB frame and recovers afterwards', () => {
    const max = 4 * 1024 * 1024;
    const f = collect(max);
    const block = Buffer.alloc(64 * 1024, 0x41);
    f.push('\x0bMSH|^~\\&|BIG|');
    let peak = 0;
    for (let i = 0; i < 160; i++) {
      f.push(block);
      peak = Math.max(peak, f.framer.capacity());
    }
    f.push(`\x1c\r\x0b${B}\x1c\r`);
    expect(peak).toBeLessThanOrEqual(max);
    expect(f.counters.oversizeFrames).toBe(1);
    expect(f.counters.oversizeBytes).toBeGreaterThan(10 * 1024 * 1024);
    expect(f.frames.map((x) => x[0])).toEqual([B]);
    expect(f.framer.capacity()).toBeLessThanOrEqual(64 * 1024);
  });

  it('drops an oversize frame that arrives whole in one chunk', () => {
    const f = collect(1024);
    f.push(`\x0b${'x'.repeat(2000)}\x1c\r\x0b${B}\x1c\r`);
    expect(f.frames.map((x) => x[0])).toEqual([B]);
    expect(f.counters.oversizeFrames).toBe(1);
  });

  it('delivers a frame inside one chunk as a view (no copy)', () => {
    const f = collect();
    f.push(`\x0b${A}\x1c\r`);
    expect(f.framer.capacity()).toBe(0);
  });

  it('hands its direction to the sink and asks for counters only when it has something to count', () => {
    const seen: number[] = [];
    let asked = 0;
    const counters = newFramerCounters();
    const sink: FrameSink = {
      onFrame: (dir) => seen.push(dir),
      onCommitAck: (dir) => seen.push(dir),
      framerCounters: () => {
        asked++;
        return counters;
      },
    };
    const framer = new MllpFramer(sink, 1, 1024);
    const clean = Buffer.from(`\x0b${A}\x1c\r\r\n\x0b${B}`, 'latin1');
    framer.push(clean, 0, clean.length);
    framer.push(Buffer.from('\x1c\r', 'latin1'), 0, 2);
    expect([seen, asked]).toEqual([[1, 1], 0]);
    const commit = Buffer.from('\x0b\x06\x1c\r', 'latin1');
    framer.push(commit, 0, commit.length);
    expect([seen, asked, counters.commitAcks]).toEqual([[1, 1, 1], 1, 1]);
  });
});

describe('UnframedFramer', () => {
  it('cuts at each MSH line and flushes the last message on demand', () => {
    for (const sizes of [[1], [5], [1000]]) {
      const f = collect(4096, true);
      for (const c of chunked(Buffer.from(`${A}\r${B}\r`, 'latin1'), sizes)) f.push(c);
      expect(f.frames.map((x) => x[0])).toEqual([`${A}\r`]);
      f.framer.flush();
      expect(f.frames.map((x) => x[0])).toEqual([`${A}\r`, `${B}\r`]);
    }
  });

  it('skips bytes before the first header and after a gap until a line start', () => {
    const f = collect(4096, true);
    f.push(`junk\r${A}\r`);
    f.framer.gap();
    f.push(`XMSH|not a start\r${B}\n`);
    f.framer.flush();
    expect(f.frames.map((x) => x[0])).toEqual([B + '\n']);
    expect(f.counters.framesLostToGap).toBe(1);
  });

  it('bounds an endless message', () => {
    const f = collect(100_000, true);
    f.push(`${A}\r`);
    for (let i = 0; i < 50; i++) f.push(Buffer.alloc(10_000, 0x41));
    expect(f.framer.capacity()).toBeLessThanOrEqual(100_000 + 64 * 1024);
    expect(f.counters.oversizeFrames).toBe(1);
  });
});
