import { describe, expect, it } from 'vitest';
import { ReassemblyBudget, TcpReassembler } from '../../../agent/reassembly/tcp-reassembler.js';
import { DETACH, Direction, type StreamParser } from '../../../protocols/stream.js';

class Recorder implements StreamParser {
  chunks: string[] = [];
  gaps: number[] = [];
  ended = '';
  /** Per-call answers to return from data(). */
  answers: number[] = [];
  data(dir: Direction, buf: Buffer, off: number, len: number): number {
    this.chunks.push(`${dir}:${buf.toString('latin1', off, off + len)}`);
    return this.answers.shift() ?? 0;
  }
  gap(dir: Direction, len: number): void {
    this.gaps.push(dir === Direction.ToServer ? len : -len);
  }
  end(reason: string): void {
    this.ended = reason;
  }
  text(dir: Direction): string {
    return this.chunks.filter((c) => c.startsWith(`${dir}:`)).map((c) => c.slice(2)).join('');
  }
}

const B = (s: string) => Buffer.from(s, 'latin1');

function setup(isn = 1000, limits?: ConstructorParameters<typeof ReassemblyBudget>[0]) {
  const rec = new Recorder();
  const budget = new ReassemblyBudget(limits);
  const r = new TcpReassembler(rec, budget);
  r.segment(Direction.ToServer, isn, true, false, B(''), 0, 0, 0, 0, 0);
  const seg = (rel: number, text: string, opts: { fin?: boolean; missing?: number } = {}) =>
    r.segment(Direction.ToServer, (isn + 1 + rel) >>> 0, false, opts.fin ?? false, B(text), 0, text.length, opts.missing ?? 0, 0, 0);
  return { rec, budget, r, seg };
}

describe('TcpReassembler', () => {
  it('delivers in order and puts out-of-order segments back in place', () => {
    const { rec, r, seg, budget } = setup();
    seg(0, 'hello ');
    seg(11, 'there');
    seg(6, 'world');
    r.end('fin');
    expect(rec.text(Direction.ToServer)).toBe('hello worldthere');
    expect(rec.gaps).toEqual([]);
    expect(budget.outOfOrderSegments).toBe(1);
    expect(budget.heldBytes).toBe(0);
    expect(rec.ended).toBe('fin');
  });

  it('resolves retransmissions and overlaps first-wins', () => {
    const { rec, r, seg, budget } = setup();
    seg(0, 'AAAA');
    seg(0, 'XXXX'); // full retransmission with other bytes: the first copy won
    seg(2, 'YYBBBB'); // overlaps two delivered bytes
    seg(12, 'DDDD'); // held
    seg(10, 'ZZZZZZ'); // overlaps the held piece: only 'ZZ' is new
    seg(8, 'CC');
    r.end('fin');
    expect(rec.text(Direction.ToServer)).toBe('AAAABBBBCCZZDDDD');
    expect(budget.retransmittedBytes).toBe(4 + 2 + 4);
  });

  it('handles sequence numbers wrapping around 2^32', () => {
    const { rec, r, seg } = setup(0xfffffffd);
    seg(0, 'abc');
    seg(6, 'ghi');
    seg(3, 'def');
    r.end('fin');
    expect(rec.text(Direction.ToServer)).toBe('abcdefghi');
  });

  it('reports a hole the peer acknowledged as a gap and goes on', () => {
    const { rec, r, seg } = setup();
    seg(0, 'one');
    seg(8, 'three'); // 'two--' lost by the capture
    expect(rec.text(Direction.ToServer)).toBe('one');
    r.acknowledged(Direction.ToServer, 1001 + 13);
    expect(rec.gaps).toEqual([5]);
    expect(rec.text(Direction.ToServer)).toBe('onethree');
  });

  it('flushes held data with gaps when the connection ends', () => {
    const { rec, r, seg } = setup();
    seg(4, 'late');
    r.end('timeout');
    expect(rec.gaps).toEqual([4]);
    expect(rec.text(Direction.ToServer)).toBe('late');
    expect(rec.ended).toBe('timeout');
  });

  it('skips bytes the parser does not want, including held ones, without delivering them', () => {
    const { rec, r, seg, budget } = setup();
    rec.answers = [10]; // after "HDR:" skip 10 bytes
    seg(0, 'HDR:');
    seg(12, 'bulk5678NEXT'); // out of order, straddles the end of the skip window
    seg(4, 'bulk1234');
    expect(rec.text(Direction.ToServer)).toBe('HDR:lk5678NEXT');
    expect(r.counters(Direction.ToServer).skipped).toBe(10);
    expect(budget.heldBytes).toBe(0);
  });

  it('does not copy out-of-order bytes that fall wholly inside a skip', () => {
    const { rec, r, seg, budget } = setup();
    rec.answers = [20];
    seg(0, 'HDR:');
    seg(10, 'xxxx'); // rel 10..13, inside the skip: remembered, not copied
    expect(budget.heldBytes).toBe(0);
    seg(4, 'yyyyyy');
    seg(14, 'zzzzzzzzzz');
    seg(24, 'END');
    r.end('fin');
    expect(rec.text(Direction.ToServer)).toBe('HDR:END');
    expect(rec.gaps).toEqual([]);
    expect(r.counters(Direction.ToServer).skipped).toBe(20);
  });

  it('stops feeding a detached parser', () => {
    const { rec, r, seg } = setup();
    rec.answers = [DETACH];
    seg(0, 'first');
    seg(5, 'second');
    expect(rec.chunks).toEqual(['0:first']);
    expect(r.isDetached).toBe(true);
    r.end('fin');
    expect(rec.ended).toBe('fin');
  });

  it('caps held out-of-order bytes per direction and turns the oldest hole into a gap', () => {
    const { rec, r, seg, budget } = setup(1000, { maxDirectionBytes: 10, maxGlobalBytes: 1000 });
    seg(0, 'a');
    seg(5, 'bbbbbb'); // 6 held
    seg(20, 'cccccc'); // would make 12 > 10: the hole before 'bbbbbb' is given up
    expect(budget.capHits).toBe(1);
    expect(rec.gaps).toEqual([4]);
    expect(rec.text(Direction.ToServer)).toBe('abbbbbb');
    r.end('fin');
    expect(rec.gaps).toEqual([4, 9]);
    expect(rec.text(Direction.ToServer)).toBe('abbbbbbcccccc');
  });

  it('picks up a connection midstream at the first byte it sees', () => {
    const rec = new Recorder();
    const r = new TcpReassembler(rec, new ReassemblyBudget());
    r.segment(Direction.ToClient, 5000, false, false, B('mid'), 0, 3, 0, 0, 0);
    r.segment(Direction.ToClient, 5003, false, true, B('dle'), 0, 3, 0, 0, 0);
    r.end('fin');
    expect(rec.text(Direction.ToClient)).toBe('middle');
  });

  it('reports the bytes a snaplen cut off as a gap', () => {
    const { rec, r, seg } = setup();
    seg(0, 'head', { missing: 100 });
    seg(104, 'tail');
    r.end('fin');
    expect(rec.text(Direction.ToServer)).toBe('headtail');
    expect(rec.gaps).toEqual([100]);
  });
});
