import { describe, expect, it } from 'vitest';
import { PayloadPhiScanner, type PayloadPhiRecord } from '../../../protocols/phi/payload-scanner.js';
import { createPseudonymizer } from '../../../protocols/phi/pseudonym.js';
import { DETACH, Direction } from '../../../protocols/stream.js';
import { TEST_PSEUDONYM_KEY } from '../../support/keys.js';

const FNR = '14078521210';
const DNR = '41017510078';
const pseudonymize = createPseudonymizer(TEST_PSEUDONYM_KEY);

function scanner(depth?: number) {
  const out: PayloadPhiRecord[] = [];
  const s = new PayloadPhiScanner({ protocol: 'tcp', pseudonymize, emit: (r) => out.push(r), depth });
  return { s, out };
}

function feed(s: PayloadPhiScanner, text: string, chunk: number, dir = Direction.ToServer) {
  const b = Buffer.from(text, 'latin1');
  for (let o = 0; o < b.length; o += chunk) s.data(dir, b, o, Math.min(chunk, b.length - o), 1, 0);
}

describe('PayloadPhiScanner', () => {
  it('finds numbers split across any chunk boundary, and only exact 11-digit runs', () => {
    const text = `patient ${FNR} seen; order 123${FNR}9 is not one; dnr=${DNR}; bad 14078521211; end ${FNR}`;
    for (const chunk of [1, 2, 3, 5, 7, 11, 13, 1000]) {
      const { s, out } = scanner();
      feed(s, text, chunk);
      s.end('fin');
      expect(out, `chunk ${chunk}`).toHaveLength(1);
      expect(out[0].count).toBe(3);
      expect(out[0].kinds.sort()).toEqual(['d-nummer', 'fodselsnummer']);
      expect(out[0].pseudonyms.sort()).toEqual([pseudonymize('d-nummer', DNR), pseudonymize('fodselsnummer', FNR)].sort());
      expect(JSON.stringify(out)).not.toContain(FNR);
    }
  });

  it('a number at the very end of the stream counts; digits either side of a gap do not join', () => {
    const { s, out } = scanner();
    feed(s, `x${FNR}`, 4);
    s.data(Direction.ToClient, Buffer.from('140785'), 0, 6, 1, 0);
    s.gap(Direction.ToClient);
    s.data(Direction.ToClient, Buffer.from('21210 '), 0, 6, 1, 0);
    s.end('fin');
    expect(out[0].count).toBe(1);
  });

  it('stops at the depth: skips the rest of a direction, detaches when both are done', () => {
    const { s, out } = scanner(32);
    const pad = 'a'.repeat(40);
    const b = Buffer.from(pad + FNR);
    expect(s.data(Direction.ToServer, b, 0, b.length, 1, 0)).toBe(0x7fffffff);
    expect(s.data(Direction.ToClient, b, 0, b.length, 1, 0)).toBe(DETACH);
    s.end('fin');
    expect(out).toEqual([]); // the number lay beyond the depth
  });

  it('treats each datagram as complete', () => {
    const { s, out } = scanner();
    const a = Buffer.from(`<13>user ${FNR}`);
    s.datagram(Direction.ToServer, a, 0, a.length, 1, 0);
    s.datagram(Direction.ToServer, a, 0, a.length, 2, 0);
    s.end();
    expect(out[0].count).toBe(2);
    expect(out[0].pseudonyms).toHaveLength(1);
  });

  it('emits nothing for clean payload', () => {
    const { s, out } = scanner();
    feed(s, 'GET /status HTTP/1.1\r\nX-Id: 12345678901\r\n\r\n', 9);
    s.end('fin');
    expect(out).toEqual([]);
  });
});
