/**
 * What kind of address is this? The one answer for the inventory (which addresses make
 * devices, the zone of an address without a policy), the policy (the zone of an address no
 * zone's CIDR holds), the rules (which conversations are between zones) and the country
 * enrichment (which addresses can have a country). Pure, no I/O, nothing of ours imported.
 *
 * Classes (RFC 6890's special-purpose registries, reduced to what a sensor must tell apart):
 *   private        10/8, 172.16/12, 192.168/16 (RFC 1918), fc00::/7 (ULA, RFC 4193)
 *   cgnat          100.64/10 (shared address space, RFC 6598)
 *   loopback       127/8, ::1
 *   link-local     169.254/16, fe80::/10
 *   unspecified    0/8 ("this network", RFC 1122), ::
 *   multicast      224/4, ff00::/8
 *   broadcast      255.255.255.255
 *   documentation  192.0.2/24, 198.51.100/24, 203.0.113/24 (TEST-NET-1/2/3, RFC 5737), 2001:db8::/32 (RFC 3849)
 *   reserved       other special-purpose space: 192.0.0/24, 192.88.99/24, 198.18/15, 240/4,
 *                  and IPv6 outside 2000::/3 not named above
 *   public         everything else (global unicast)
 * An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is classed as its IPv4 address.
 *
 * Internal or external (`isInternal` / `isExternal`, used where no policy zone claims the
 * address): private, CGNAT, loopback, link-local, unspecified, multicast and broadcast are
 * internal; public, reserved and **documentation** are external. Documentation ranges stand
 * for "some other network" by definition (RFC 5737 reserves them for examples of addresses
 * elsewhere): the corpus rewrites its internet peers into TEST-NET-2/3 (198.51.100.23,
 * 198.51.100.77, 203.0.113.45) and its manifests expect them to be external (VNC from outside,
 * call-home with patient data); the example policy's vendor range is TEST-NET-1; the tests'
 * network namespaces use 192.0.2.0/24 but give those addresses zones by CIDR, which win over
 * this fallback. Documentation addresses still have no country (`isPublic` is false): no
 * geolocation database places them, and a made-up country would be a false finding.
 *
 * Three forms, one answer: text (`classifyAddress`, read in place without allocating, for
 * event fields), an IPv4 address as an unsigned 32-bit number (`classifyIpv4`), and an IPv6
 * address as four unsigned 32-bit words, IPv4 mapped (`classifyIpv6`, the packet path's and
 * the policy's form).
 */

export const enum AddressClass {
  /** Not an IPv4 or IPv6 address in text form. */
  Invalid = 0,
  Private = 1,
  Cgnat = 2,
  Loopback = 3,
  LinkLocal = 4,
  Unspecified = 5,
  Multicast = 6,
  Broadcast = 7,
  Documentation = 8,
  Reserved = 9,
  Public = 10,
}

/** Names for logs and tests, indexed by class. */
export const ADDRESS_CLASS_NAMES: readonly string[] = Object.freeze([
  'invalid',
  'private',
  'cgnat',
  'loopback',
  'link-local',
  'unspecified',
  'multicast',
  'broadcast',
  'documentation',
  'reserved',
  'public',
]);

const INTERNAL_CLASSES =
  (1 << AddressClass.Private) |
  (1 << AddressClass.Cgnat) |
  (1 << AddressClass.Loopback) |
  (1 << AddressClass.LinkLocal) |
  (1 << AddressClass.Unspecified) |
  (1 << AddressClass.Multicast) |
  (1 << AddressClass.Broadcast);
const EXTERNAL_CLASSES = (1 << AddressClass.Public) | (1 << AddressClass.Documentation) | (1 << AddressClass.Reserved);
const NO_HOST_CLASSES = (1 << AddressClass.Unspecified) | (1 << AddressClass.Multicast) | (1 << AddressClass.Broadcast);

/** Inside the site when no zone says otherwise (see the header for why documentation is not). */
export function isInternal(c: AddressClass): boolean {
  return ((1 << c) & INTERNAL_CLASSES) !== 0;
}

/** Outside the site when no zone says otherwise: public, reserved, documentation. Invalid text is neither. */
export function isExternal(c: AddressClass): boolean {
  return ((1 << c) & EXTERNAL_CLASSES) !== 0;
}

/** Multicast, broadcast and unspecified: the address of no single host (no device, no conversation between zones). */
export function isGroupOrUnspecified(c: AddressClass): boolean {
  return ((1 << c) & NO_HOST_CLASSES) !== 0;
}

/** Global unicast: the only class a geolocation database can place in a country. */
export function isPublic(c: AddressClass): boolean {
  return c === AddressClass.Public;
}

/** An IPv4 address as an unsigned 32-bit number (a.b.c.d → a << 24 | … | d). */
export function classifyIpv4(a: number): AddressClass {
  const hi = a >>> 24;
  const b = (a >>> 16) & 0xff;
  switch (hi) {
    case 0:
      return AddressClass.Unspecified;
    case 10:
      return AddressClass.Private;
    case 100:
      return b >= 64 && b <= 127 ? AddressClass.Cgnat : AddressClass.Public;
    case 127:
      return AddressClass.Loopback;
    case 169:
      return b === 254 ? AddressClass.LinkLocal : AddressClass.Public;
    case 172:
      return b >= 16 && b <= 31 ? AddressClass.Private : AddressClass.Public;
    case 192: {
      if (b === 168) return AddressClass.Private;
      const c = (a >>> 8) & 0xff;
      if (b === 0) return c === 2 ? AddressClass.Documentation : c === 0 ? AddressClass.Reserved : AddressClass.Public;
      return b === 88 && c === 99 ? AddressClass.Reserved : AddressClass.Public;
    }
    case 198:
      if (b === 18 || b === 19) return AddressClass.Reserved;
      return b === 51 && ((a >>> 8) & 0xff) === 100 ? AddressClass.Documentation : AddressClass.Public;
    case 203:
      return b === 0 && ((a >>> 8) & 0xff) === 113 ? AddressClass.Documentation : AddressClass.Public;
    default:
      if (hi >= 224 && hi <= 239) return AddressClass.Multicast;
      if (hi >= 240) return a >>> 0 === 0xffffffff ? AddressClass.Broadcast : AddressClass.Reserved;
      return AddressClass.Public;
  }
}

/** An IPv6 address as four unsigned 32-bit words, most significant first; IPv4 mapped (::ffff:a.b.c.d) is classed as IPv4. */
export function classifyIpv6(w0: number, w1: number, w2: number, w3: number): AddressClass {
  if (w0 === 0 && w1 === 0) {
    if (w2 === 0xffff) return classifyIpv4(w3 >>> 0);
    if (w2 === 0) {
      if (w3 === 0) return AddressClass.Unspecified;
      if (w3 === 1) return AddressClass.Loopback;
    }
    return AddressClass.Reserved;
  }
  const top = w0 >>> 16;
  if ((top & 0xe000) === 0x2000) return w0 >>> 0 === 0x20010db8 ? AddressClass.Documentation : AddressClass.Public;
  if ((top & 0xfe00) === 0xfc00) return AddressClass.Private;
  if ((top & 0xffc0) === 0xfe80) return AddressClass.LinkLocal;
  if ((top & 0xff00) === 0xff00) return AddressClass.Multicast;
  return AddressClass.Reserved;
}

/** An address in text (dotted quad, or IPv6 with `::`, an embedded dotted quad and an optional %zone), read in place. */
export function classifyAddress(s: string): AddressClass {
  const v4 = dottedQuad(s, 0, s.length);
  if (v4 >= 0) return classifyIpv4(v4);
  return s.indexOf(':') >= 0 ? ipv6Text(s) : AddressClass.Invalid;
}

/** The dotted quad in s[from, to) as an unsigned number, or -1. */
function dottedQuad(s: string, from: number, to: number): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + octet;
      dots++;
      octet = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39 && digits < 3) {
      octet = octet * 10 + (c - 0x30);
      if (octet > 255) return -1;
      digits++;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + octet;
}

/** The eight groups of the IPv6 address being read (one reader at a time: no allocation per call). */
const groups = new Uint16Array(8);

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x57 : -1;
}

function ipv6Text(s: string): AddressClass {
  let end = s.indexOf('%');
  if (end < 0) end = s.length;
  let n = 0;
  let gap = -1;
  let i = 0;
  if (end >= 2 && s.charCodeAt(0) === 0x3a) {
    if (s.charCodeAt(1) !== 0x3a) return AddressClass.Invalid;
    gap = 0;
    i = 2;
  }
  while (i < end) {
    let v = 0;
    let j = i;
    while (j < end && j - i < 5) {
      const h = hexValue(s.charCodeAt(j));
      if (h < 0) break;
      v = v * 16 + h;
      j++;
    }
    if (j < end && s.charCodeAt(j) === 0x2e) {
      // The last 32 bits as a dotted quad (::ffff:10.1.2.3).
      const v4 = dottedQuad(s, i, end);
      if (v4 < 0 || n > 6) return AddressClass.Invalid;
      groups[n++] = v4 >>> 16;
      groups[n++] = v4 & 0xffff;
      i = end;
      break;
    }
    if (j === i || j - i > 4 || n === 8) return AddressClass.Invalid;
    groups[n++] = v;
    i = j;
    if (i === end) break;
    if (s.charCodeAt(i) !== 0x3a) return AddressClass.Invalid;
    i++;
    if (i < end && s.charCodeAt(i) === 0x3a) {
      if (gap >= 0) return AddressClass.Invalid;
      gap = n;
      i++;
    } else if (i === end) {
      return AddressClass.Invalid; // a single trailing colon
    }
  }
  if (gap < 0) {
    if (n !== 8) return AddressClass.Invalid;
  } else {
    if (n > 7) return AddressClass.Invalid;
    // Move the groups after '::' to the end and zero the gap.
    const tail = n - gap;
    for (let k = 0; k < tail; k++) groups[7 - k] = groups[n - 1 - k];
    for (let k = gap; k < 8 - tail; k++) groups[k] = 0;
  }
  return classifyIpv6(
    ((groups[0] << 16) | groups[1]) >>> 0,
    ((groups[2] << 16) | groups[3]) >>> 0,
    ((groups[4] << 16) | groups[5]) >>> 0,
    ((groups[6] << 16) | groups[7]) >>> 0,
  );
}
