import { describe, expect, it } from 'vitest';
import type { DecodedPacket } from '../../../protocols/packet.js';
import { DEFAULT_MAX_PIECES, FragmentReassembler } from '../../../protocols/ip/fragments.js';

/** A fragment of datagram `id`: payload bytes [off, off + len) of `payload`. */
function frag(payload: Buffer, id: number, off: number, len: number): [Buffer, DecodedPacket] {
  const d = {
    ipVersion: 4, src0: 10, src1: 77, src2: 1, src3: 2, dst0: 10, dst1: 77, dst2: 1, dst3: 3, l4Proto: 17,
    fragId: id, fragOffset: off, moreFragments: off + len < payload.length, ipTruncated: false, l4Off: off, ipEnd: off + len,
  } as unknown as DecodedPacket;
  return [payload, d];
}

function feed(r: FragmentReassembler, payload: Buffer, id: number, size: number, order: 'forward' | 'reverse' | 'interleaved') {
  const offs: number[] = [];
  for (let o = 0; o < payload.length; o += size) offs.push(o);
  if (order === 'reverse') offs.reverse();
  if (order === 'interleaved') offs.sort((a, b) => ((a / size) % 2) - ((b / size) % 2) || a - b);
  let out = null;
  for (const o of offs) {
    const [b, d] = frag(payload, id, o, Math.min(size, payload.length - o));
    out = r.add(b, d, 0, 60) ?? out;
  }
  return out;
}

describe('fragment reassembly worst case', () => {
  it('tiny fragments in any order cost O(log n) each, counted in steps, and still rebuild the datagram', () => {
    const n = 1000;
    const payload = Buffer.from(Array.from({ length: 8 * n }, (_, i) => i & 0xff));
    for (const order of ['forward', 'reverse', 'interleaved'] as const) {
      const r = new FragmentReassembler();
      const out = feed(r, payload, 1, 8, order);
      expect(out?.payload.equals(payload), order).toBe(true);
      // Per fragment: a binary search (≤ 11 probes for 1000 pieces) and at most a couple of neighbours.
      expect(r.steps, order).toBeLessThan(n * 14);
    }
  });

  it('a datagram in more pieces than the cap is dropped and counted, not held', () => {
    const r = new FragmentReassembler();
    const payload = Buffer.alloc(8 * (DEFAULT_MAX_PIECES + 100));
    // Every other piece first, so none merges into a complete run before the cap.
    const out = feed(r, payload, 2, 8, 'interleaved');
    expect(out).toBeNull();
    expect(r.stats.overLimit).toBeGreaterThan(0);
    expect(r.stats.completed).toBe(0);
  });
});
