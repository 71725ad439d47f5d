import { ipTextVersion } from '../../protocols/ip/ip-text.js';

/** A parsed prefix: four 32-bit words (IPv4 as ::ffff:a.b.c.d, like the packet path) and a length in that space. */
export interface Prefix {
  text: string;
  version: 4 | 6;
  words: [number, number, number, number];
  /** Prefix length in the 128-bit space (IPv4 /24 → 120). */
  bits: number;
}

function v6Words(s: string): [number, number, number, number] | null {
  let text = s;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.') && lastColon >= 0) {
    // ::ffff:1.2.3.4 style
    const v4 = text.slice(lastColon + 1);
    if (ipTextVersion(v4) !== 4) return null;
    const o = v4.split('.').map(Number);
    tail = [(o[0] << 8) | o[1], (o[2] << 8) | o[3]];
    text = text.slice(0, lastColon + 1) + '0:0';
  }
  const [h, t] = text.includes('::') ? text.split('::') : [text, undefined];
  const head = h ? h.split(':') : [];
  const rest = t === undefined ? [] : t ? t.split(':') : [];
  const fill = t === undefined ? 0 : 8 - head.length - rest.length;
  const groups = [...head, ...Array(Math.max(fill, 0)).fill('0'), ...rest].map((g) => parseInt(g, 16));
  if (groups.length !== 8 || groups.some((g) => !(g >= 0 && g <= 0xffff))) return null;
  if (tail.length) {
    groups[6] = tail[0];
    groups[7] = tail[1];
  }
  return [((groups[0] << 16) | groups[1]) >>> 0, ((groups[2] << 16) | groups[3]) >>> 0, ((groups[4] << 16) | groups[5]) >>> 0, ((groups[6] << 16) | groups[7]) >>> 0];
}

/** Parses an address or CIDR ("10.77.10.0/24", "fd77::/64", "10.77.90.10"); null if invalid. */
export function parsePrefix(text: string): Prefix | null {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const lenText = slash < 0 ? null : text.slice(slash + 1);
  const version = ipTextVersion(addr);
  if (version === 0) return null;
  const max = version === 4 ? 32 : 128;
  const len = lenText === null ? max : /^\d{1,3}$/.test(lenText) ? Number(lenText) : NaN;
  if (!(len >= 0 && len <= max)) return null;
  let words: [number, number, number, number];
  if (version === 4) {
    const o = addr.split('.').map(Number);
    words = [0, 0, 0xffff, ((o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3]) >>> 0];
  } else {
    const w = v6Words(addr);
    if (w === null) return null;
    words = w;
  }
  const bits = version === 4 ? 96 + len : len;
  return { text, version: version as 4 | 6, words: maskWords(words, bits), bits };
}

export function maskWords(w: [number, number, number, number], bits: number): [number, number, number, number] {
  const out: [number, number, number, number] = [0, 0, 0, 0];
  for (let i = 0; i < 4; i++) {
    const b = Math.max(0, Math.min(32, bits - i * 32));
    const mask = b === 0 ? 0 : b === 32 ? 0xffffffff : (~0 << (32 - b)) >>> 0;
    out[i] = (w[i] & mask) >>> 0;
  }
  return out;
}

/** Do two prefixes share any address? */
export function overlaps(a: Prefix, b: Prefix): boolean {
  const bits = Math.min(a.bits, b.bits);
  const ma = maskWords(a.words, bits);
  const mb = maskWords(b.words, bits);
  return ma[0] === mb[0] && ma[1] === mb[1] && ma[2] === mb[2] && ma[3] === mb[3];
}

export function contains(p: Prefix, w0: number, w1: number, w2: number, w3: number): boolean {
  const m = maskWords([w0 >>> 0, w1 >>> 0, w2 >>> 0, w3 >>> 0], p.bits);
  return m[0] === p.words[0] && m[1] === p.words[1] && m[2] === p.words[2] && m[3] === p.words[3];
}
