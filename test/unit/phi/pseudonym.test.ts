import { describe, expect, it } from 'vitest';
import { createPseudonymizer, PSEUDONYM_HEX_LENGTH } from '../../../protocols/phi/pseudonym.js';

const KEY = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');

describe('createPseudonymizer', () => {
  it('is stable, keyed, kind-prefixed and truncated', () => {
    const p = createPseudonymizer(KEY);
    const a = p('fodselsnummer', '14078521210');
    expect(a).toMatch(new RegExp(`^fodselsnummer:[0-9a-f]{${PSEUDONYM_HEX_LENGTH}}$`));
    expect(p('fodselsnummer', '14078521210')).toBe(a);
    expect(a).not.toContain('14078521210');
    expect(p('fodselsnummer', '03116210443')).not.toBe(a);
    expect(p('patient-id', '14078521210').split(':')[1]).not.toBe(a.split(':')[1]);
    const other = createPseudonymizer(Buffer.alloc(32, 7));
    expect(other('fodselsnummer', '14078521210')).not.toBe(a);
  });
  it('does not follow later changes to the key buffer', () => {
    const key = Buffer.from(KEY);
    const p = createPseudonymizer(key);
    const a = p('x', 'y');
    key.fill(0);
    expect(p('x', 'y')).toBe(a);
  });
  it('gives the same tokens with and without its cache, and stays bounded', () => {
    const plain = createPseudonymizer(KEY, { cacheSize: 0 });
    const cached = createPseudonymizer(KEY, { cacheSize: 100 });
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 5000; i++) {
        const v = String(10_000_000_000 + i * 7919);
        expect(cached('fodselsnummer', v)).toBe(plain('fodselsnummer', v));
        expect(cached('patient-id', v)).toBe(plain('patient-id', v));
      }
    }
    expect(plain('fodselsnummer', '14078521210')).toBe(createPseudonymizer(KEY)('fodselsnummer', '14078521210'));
  });

  it('refuses short keys', () => {
    expect(() => createPseudonymizer(Buffer.alloc(4))).toThrow(RangeError);
  });
});
