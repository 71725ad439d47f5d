/**
 * Is a text an IP address, and of which version: the answer node:net's isIP gives (a dotted quad
 * without leading zeros; IPv6 with at most one `::`, an optional dotted-quad tail and an optional
 * `%zone`), without loading node:net. node:net brings Node's streams and sockets with it, some
 * 15 ms of a start that only wants to read a policy's addresses.
 */

/** 4 or 6 for an address of that version, 0 for anything else. */
export function ipTextVersion(s: string): 0 | 4 | 6 {
  if (isDottedQuad(s, 0, s.length)) return 4;
  return isIpv6(s) ? 6 : 0;
}

/** A dotted quad in s[from, to): four decimal octets, 0–255, no leading zeros. */
function isDottedQuad(s: string, from: number, to: number): boolean {
  let parts = 0;
  let i = from;
  while (parts < 4) {
    const start = i;
    let value = 0;
    while (i < to) {
      const c = s.charCodeAt(i);
      if (c < 0x30 || c > 0x39) break;
      value = value * 10 + (c - 0x30);
      i++;
    }
    const digits = i - start;
    if (digits === 0 || digits > 3 || value > 255 || (digits > 1 && s.charCodeAt(start) === 0x30)) return false;
    parts++;
    if (parts < 4) {
      if (i >= to || s.charCodeAt(i) !== 0x2e) return false;
      i++;
    }
  }
  return i === to;
}

function isHexDigit(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** A zone after `%`: one or more of letters, digits, `-`, `.` and `:`. */
function isZone(s: string, from: number): boolean {
  if (from >= s.length) return false;
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d || c === 0x2e || c === 0x3a;
    if (!ok) return false;
  }
  return true;
}

function isIpv6(s: string): boolean {
  const percent = s.indexOf('%');
  const end = percent < 0 ? s.length : percent;
  if (percent >= 0 && !isZone(s, percent + 1)) return false;
  // A second `::` is refused by the group walk itself.
  const gap = s.indexOf('::');
  return isIpv6Groups(s, 0, end, gap >= 0 && gap < end);
}

/**
 * The groups of s[from, to): 1–4 hex digits each, separated by single colons, the last one
 * possibly a dotted quad (two groups' worth). With a `::` (the one place two colons meet) they
 * must be 7 groups' worth at most, since `::` stands for at least one; without, exactly 8.
 */
function isIpv6Groups(s: string, from: number, to: number, hasGap: boolean): boolean {
  let groups = 0;
  let i = from;
  let gapSeen = false;
  // A leading `::`.
  if (s.charCodeAt(i) === 0x3a) {
    if (!hasGap || s.charCodeAt(i + 1) !== 0x3a) return false;
    gapSeen = true;
    i += 2;
    if (i === to) return true;
  }
  for (;;) {
    const start = i;
    while (i < to && isHexDigit(s.charCodeAt(i))) i++;
    if (i < to && s.charCodeAt(i) === 0x2e) {
      // A dotted-quad tail: the rest, two groups.
      if (!isDottedQuad(s, start, to)) return false;
      groups += 2;
      break;
    }
    const digits = i - start;
    if (digits === 0 || digits > 4) return false;
    groups++;
    if (i === to) break;
    if (s.charCodeAt(i) !== 0x3a) return false;
    i++;
    if (s.charCodeAt(i) === 0x3a) {
      if (gapSeen) return false;
      gapSeen = true;
      i++;
      if (i === to) break;
    } else if (i === to) {
      return false;
    }
  }
  return hasGap ? gapSeen && groups <= 7 : groups === 8;
}
