/** Text forms used only when something is reported, never on the per-packet path. */

/** ISO 8601 UTC with microseconds, like Suricata's EVE timestamps. */
export function isoMicro(sec: number, nsec: number): string {
  const iso = new Date(sec * 1000).toISOString(); // 2026-11-23T14:08:27.000Z
  const micros = Math.floor(nsec / 1000);
  return `${iso.slice(0, 19)}.${String(micros).padStart(6, '0')}Z`;
}

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
  const bytes = [hi >>> 8, hi & 0xff, lo >>> 24, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

const PROTO_NAMES: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'ipv6-icmp', 50: 'esp', 51: 'ah', 47: 'gre', 132: 'sctp' };

export function protoName(p: number): string {
  return PROTO_NAMES[p] ?? String(p);
}
