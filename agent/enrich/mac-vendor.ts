import { createRequire } from 'node:module';

/**
 * MAC address → manufacturer, from the IEEE OUI registry as packaged by `oui-data`
 * (BSD-2-Clause, updated from IEEE's public listing). Loaded on first use: the JSON is 5 MB.
 */
let table: Map<number, string> | null = null;

/**
 * OUI (24-bit number) → organisation name. Only the names are kept, copied out of the JSON
 * entries (which also hold postal addresses) so the parsed package can be collected.
 */
function load(): Map<number, string> {
  if (table === null) {
    const raw = createRequire(import.meta.url)('oui-data') as Record<string, string>;
    table = new Map();
    for (const oui in raw) {
      const entry = raw[oui];
      const nl = entry.indexOf('\n');
      table.set(parseInt(oui, 16), Buffer.from(nl < 0 ? entry : entry.slice(0, nl), 'utf8').toString('utf8'));
    }
  }
  return table;
}

/** Vendor of a MAC given as its first 16 and last 32 bits (how flows keep it). */
export function macVendorOf(hi: number, lo: number): string | null {
  if ((hi >>> 8) & 0x02) return null;
  return load().get(((hi << 8) | (lo >>> 24)) >>> 0) ?? null;
}

/** Locally administered addresses (bit 1 of the first octet) have no registered vendor. */
export function isLocallyAdministered(mac: string): boolean {
  return (parseInt(mac.slice(0, 2), 16) & 0x02) !== 0;
}

/** The organisation's name (first line of the IEEE entry), or null if not registered. */
export function macVendor(mac: string): string | null {
  if (mac.length < 8 || isLocallyAdministered(mac)) return null;
  return load().get(parseInt(mac.slice(0, 2) + mac.slice(3, 5) + mac.slice(6, 8), 16)) ?? null;
}
