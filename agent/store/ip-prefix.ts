/**
 * The alert list's address filter also takes a CIDR prefix (`10.77.10.0/24`, `fd00:77::/64`):
 * an alert matches when its source or destination is inside it. PostgreSQL answers that with its
 * own `inet` type; SQLite has none, so its store registers `muvakt_ip_in` (this module's
 * `inPrefix`) on its connection.
 */
import { overlaps, parsePrefix, type Prefix } from '../../rules/policy/cidr.js';

/** The SQL function name SQLite's store registers. */
export const SQLITE_IP_IN = 'muvakt_ip_in';

/** A CIDR prefix as the filter takes it, or null when the text is not one. */
export function filterPrefix(text: string): Prefix | null {
  return text.includes('/') ? parsePrefix(text) : null;
}

let last: { text: string; prefix: Prefix | null } | null = null;

/** 1 when `ip` is an address inside `prefixText` (same address family), else 0: SQLite's function. */
export function inPrefix(ip: unknown, prefixText: unknown): number {
  if (typeof ip !== 'string' || typeof prefixText !== 'string' || ip === '') return 0;
  // One query asks about one prefix for every row: parse it once.
  if (last?.text !== prefixText) last = { text: prefixText, prefix: parsePrefix(prefixText) };
  const p = last.prefix;
  const a = parsePrefix(ip);
  if (p === null || a === null || a.version !== p.version) return 0;
  return overlaps(a, p) ? 1 : 0;
}
