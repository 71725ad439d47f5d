/** Text forms used only when something is reported, never on the per-packet path. */

export { isoMicro } from '../../protocols/events/time.js';

export function ipv4ToString(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`;
}

/** RFC 5952 text form of an IPv6 address given as four 32-bit words. */
export function ipv6ToString(w0: number, w1: number, w2: number, w3: number): string {
  const g = [w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff];
  // Longest run of zero groups (length ≥ 2, first one wins) becomes "::".
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) return g.map((x) => x.toString(16)).join(':');
  const head = g.slice(0, bestStart).map((x) => x.toString(16)).join(':');
  const tail = g.slice(bestStart + bestLen).map((x) => x.toString(16)).join(':');
  return `${head}::${tail}`;
}

export function ipToString(version: number, w0: number, w1: number, w2: number, w3: number): string {
  return version === 4 ? ipv4ToString(w3) : ipv6ToString(w0, w1, w2, w3);
}

/** A MAC address kept as its first 16 and last 32 bits. */
export function macFromHalves(hi: number, lo: number): string {
  // Every flow event names two MACs, and a segment has few hosts: a small direct-mapped cache
  // hands out the same text again instead of building it per flow.
  const slot = (Math.imul(lo ^ (hi << 16), 0x9e3779b1) >>> 24) & (MAC_CACHE - 1);
  if (macHi[slot] === hi && macLo[slot] === lo && macText[slot] !== '') return macText[slot];
  const h = HEX_BYTE;
  const text = `${h[hi >>> 8]}:${h[hi & 0xff]}:${h[lo >>> 24]}:${h[(lo >>> 16) & 0xff]}:${h[(lo >>> 8) & 0xff]}:${h[lo & 0xff]}`;
  macHi[slot] = hi;
  macLo[slot] = lo;
  macText[slot] = text;
  return text;
}
const MAC_CACHE = 256;
const macHi = new Uint32Array(MAC_CACHE);
const macLo = new Uint32Array(MAC_CACHE);
const macText: string[] = new Array<string>(MAC_CACHE).fill('');
const HEX_BYTE = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

const PROTO_NAMES: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'ipv6-icmp', 50: 'esp', 51: 'ah', 47: 'gre', 132: 'sctp' };

export function protoName(p: number): string {
  return PROTO_NAMES[p] ?? String(p);
}

/**
 * Milliseconds of an event timestamp as isoMicro writes it (`YYYY-MM-DDTHH:MM:SS.ffffffZ`),
 * parsing each second once: events arrive in bursts from the same second. Anything else goes
 * through Date.parse.
 */
export function isoMicroToMs(ts: string): number {
  if (ts.length === 27 && ts.charCodeAt(19) === 0x2e && ts.charCodeAt(26) === 0x5a) {
    if (parsedSecondText === '' || !ts.startsWith(parsedSecondText)) {
      parsedSecondText = ts.slice(0, 19);
      parsedSecondMs = Date.parse(`${parsedSecondText}Z`);
    }
    let frac = 0;
    for (let i = 20; i < 23; i++) frac = frac * 10 + (ts.charCodeAt(i) - 0x30);
    return parsedSecondMs + frac;
  }
  return Date.parse(ts);
}
let parsedSecondText = '';
let parsedSecondMs = NaN;
