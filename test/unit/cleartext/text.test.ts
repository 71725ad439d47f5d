import { describe, expect, it } from 'vitest';
import { cleanText, holdsFnr } from '../../../protocols/cleartext/text.js';

describe('cleanText', () => {
  it('hands clean text back trimmed', () => {
    expect(cleanText('  Mozilla/5.0 (X11) ', 256)).toBe('Mozilla/5.0 (X11)');
  });
  it('replaces control and non-ASCII characters and caps the length', () => {
    expect(cleanText('ab\u0001c\u00e6d', 64)).toBe('ab?c?d');
    expect(cleanText('abcdefgh', 5)).toBe('abcde');
    expect(cleanText('abc\u0007efgh', 5)).toBe('abc?e');
    expect(cleanText('x'.repeat(300), 256)).toHaveLength(256);
  });
});

describe('holdsFnr', () => {
  it('finds a valid number as a whole 11-digit run anywhere in the text', () => {
    expect(holdsFnr('host-14078521210.example')).toBe(true);
    expect(holdsFnr('14078521210')).toBe(true);
    expect(holdsFnr('x 03116210443')).toBe(true);
  });
  it('finds one inside a longer run of digits (a code glued to it)', () => {
    expect(holdsFnr('140785212100')).toBe(true);
    expect(holdsFnr('20014078521210')).toBe(true);
  });
  it('ignores invalid numbers and shorter runs', () => {
    expect(holdsFnr('host-14078521211.example')).toBe(false);
    expect(holdsFnr('1407852121 and 0311621044')).toBe(false);
    expect(holdsFnr('short')).toBe(false);
  });
});
