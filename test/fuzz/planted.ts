/**
 * What the privacy property looks for: each planted value as written and base64-encoded at each
 * of the three byte alignments it can take inside a longer base64 text (an HTTP Basic header, a
 * MIME part, an SMTP AUTH line). A value encoded after other bytes shares its first and last
 * base64 characters with its neighbours, so only the characters the value alone decides are
 * searched for.
 */

/** Base64 fragments shorter than this match too much unrelated text to mean anything. */
const MIN_FRAGMENT = 8;

export function base64Fragments(value: string): string[] {
  const v = Buffer.from(value, 'utf8');
  const out: string[] = [];
  for (let k = 0; k < 3; k++) {
    const b = Buffer.concat([Buffer.alloc(k), v]).toString('base64');
    // k leading filler bytes reach into ceil(8k/6) characters; only whole 3-byte groups are the value's own.
    const from = k === 0 ? 0 : k === 1 ? 2 : 3;
    const to = Math.floor((k + v.length) / 3) * 4;
    const frag = b.slice(from, to);
    if (frag.length >= MIN_FRAGMENT) out.push(frag);
  }
  return [...new Set(out)];
}

export interface PlantedMatcher {
  /** The length of the first planted value found in `text` and how it was written, or undefined. */
  find(text: string): { length: number; form: 'raw' | 'base64' } | undefined;
}

/**
 * Runs once per fuzz input over everything it emitted, so it must cost less than the parsers: a
 * table of the needles' first two characters is checked at each position and only a hit is
 * compared in full (a pass of `includes` per needle took a fifth of a DICOM input's time).
 */
export function plantedMatcher(values: readonly string[]): PlantedMatcher {
  const needles: { needle: string; length: number; form: 'raw' | 'base64' }[] = [];
  for (const v of values) {
    if (v.length < 2) continue;
    needles.push({ needle: v, length: v.length, form: 'raw' });
    for (const f of base64Fragments(v)) needles.push({ needle: f, length: v.length, form: 'base64' });
  }
  const pair = (a: number, b: number) => ((a & 0xff) << 8) | (b & 0xff);
  const byPair = new Map<number, typeof needles>();
  const table = new Uint8Array(65536);
  for (const n of needles) {
    const k = pair(n.needle.charCodeAt(0), n.needle.charCodeAt(1));
    table[k] = 1;
    const list = byPair.get(k) ?? [];
    list.push(n);
    byPair.set(k, list);
  }
  return {
    find(text) {
      const end = text.length - 1;
      let prev = text.charCodeAt(0);
      for (let i = 0; i < end; i++) {
        const next = text.charCodeAt(i + 1);
        const k = pair(prev, next);
        prev = next;
        if (table[k] === 0) continue;
        for (const n of byPair.get(k)!) if (text.startsWith(n.needle, i)) return n;
      }
      return undefined;
    },
  };
}
