/**
 * Byte-level mutation in the manner of AFL's "havoc" stage: a stack of 1–16 random edits (bit
 * flips, interesting values, arithmetic on 8/16/32-bit fields in both byte orders, block
 * delete/duplicate/overwrite, splices from another seed). Deterministic for a given seed, so any
 * finding can be reproduced from its saved input alone.
 */

/** xorshift32: fast, seedable, good enough to pick mutations. */
export class Prng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  /** 0 ≤ n < bound. */
  below(bound: number): number {
    return bound <= 1 ? 0 : this.next() % bound;
  }
}

const INTERESTING_8 = [0, 1, 0x7f, 0x80, 0xff, 0x10, 0x20, 0x40, 0x64];
const INTERESTING_16 = [0, 0x7fff, 0x8000, 0xffff, 0x0100, 0x0400, 0x1000, 0x4000];
const INTERESTING_32 = [0, 0x7fffffff, 0x80000000, 0xffffffff, 0x00010000, 0x01000000, 0x00ffffff];

export class Mutator {
  constructor(
    private readonly rng: Prng,
    readonly maxLen: number,
  ) {}

  /** A new buffer: `input` with a stack of havoc edits; `other` is spliced from. */
  mutate(input: Buffer, other: Buffer): Buffer {
    let b: Buffer = Buffer.from(input);
    const r = this.rng;
    const stack = 1 << (1 + r.below(4));
    for (let i = 0; i < stack; i++) b = this.one(b, other);
    return b.length > this.maxLen ? b.subarray(0, this.maxLen) : b;
  }

  private one(b: Buffer, other: Buffer): Buffer {
    const r = this.rng;
    const n = b.length;
    if (n === 0) return Buffer.from([r.below(256)]);
    switch (r.below(14)) {
      case 0: {
        const bit = r.below(n * 8);
        b[bit >> 3] ^= 0x80 >> (bit & 7);
        return b;
      }
      case 1:
        b[r.below(n)] = INTERESTING_8[r.below(INTERESTING_8.length)];
        return b;
      case 2:
        if (n >= 2) {
          const v = INTERESTING_16[r.below(INTERESTING_16.length)];
          const at = r.below(n - 1);
          if (r.below(2)) b.writeUInt16BE(v, at);
          else b.writeUInt16LE(v, at);
        }
        return b;
      case 3:
        if (n >= 4) {
          const v = INTERESTING_32[r.below(INTERESTING_32.length)];
          const at = r.below(n - 3);
          if (r.below(2)) b.writeUInt32BE(v, at);
          else b.writeUInt32LE(v, at);
        }
        return b;
      case 4: {
        const at = r.below(n);
        b[at] = (b[at] + (r.below(2) ? 1 : -1) * (1 + r.below(35))) & 0xff;
        return b;
      }
      case 5:
        if (n >= 2) {
          const at = r.below(n - 1);
          const be = r.below(2) === 1;
          const v = be ? b.readUInt16BE(at) : b.readUInt16LE(at);
          const w = (v + (r.below(2) ? 1 : -1) * (1 + r.below(35))) & 0xffff;
          if (be) b.writeUInt16BE(w, at);
          else b.writeUInt16LE(w, at);
        }
        return b;
      case 6:
        b[r.below(n)] = r.below(256);
        return b;
      case 7:
      case 8: {
        // delete a block (more likely than inserting: keeps inputs small)
        const len = 1 + r.below(Math.min(n, 1 + (n >> 2)));
        const at = r.below(n - len + 1);
        return Buffer.concat([b.subarray(0, at), b.subarray(at + len)]);
      }
      case 9: {
        // duplicate a block of the input at another place
        const len = 1 + r.below(Math.min(n, 512));
        const from = r.below(n - len + 1);
        const at = r.below(n + 1);
        return Buffer.concat([b.subarray(0, at), Buffer.from(b.subarray(from, from + len)), b.subarray(at)]);
      }
      case 10: {
        // overwrite a block with another part of the input
        const len = 1 + r.below(Math.min(n, 256));
        const from = r.below(n - len + 1);
        const to = r.below(n - len + 1);
        b.copyWithin(to, from, from + len);
        return b;
      }
      case 11: {
        // insert a run of one repeated byte (length fields meeting long runs)
        const len = 1 + r.below(64);
        const at = r.below(n + 1);
        return Buffer.concat([b.subarray(0, at), Buffer.alloc(len, r.below(2) ? 0 : r.below(256)), b.subarray(at)]);
      }
      case 12: {
        // splice: our head, another seed's tail
        if (other.length < 2) return b;
        const cut = r.below(n);
        const from = r.below(other.length);
        return Buffer.concat([b.subarray(0, cut), other.subarray(from, from + Math.min(other.length - from, 4096))]);
      }
      default: {
        // truncate
        return b.subarray(0, r.below(n) + 1);
      }
    }
  }
}
