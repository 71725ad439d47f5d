/**
 * What the alert list accepts beyond its schema, so a person typing a URL gets what they mean:
 * comma lists (`severity=critical,high`), a plain date for `since`/`until` (a whole day in the
 * site's time zone), and a clear 400 naming the known rule ids when a `rule_id` matches no rule.
 */
import { ApiError } from './plugins/errors.js';

/** Query parameters that take several values, repeated or comma-separated. */
export const LIST_PARAMS = ['severity', 'rule_id', 'status', 'sensor'] as const;

/** The zone in which a plain date is a day: the hospital's, not the server's. */
export const SITE_TIME_ZONE = 'Europe/Oslo';

/** `a,b` and `a&a` both become `[a, b]`; empty pieces are dropped. Mutates the parsed query. */
export function splitCommaLists(query: Record<string, unknown>, keys: readonly string[] = LIST_PARAMS): void {
  for (const key of keys) {
    const v = query[key];
    if (v === undefined) continue;
    const parts = (Array.isArray(v) ? v : [v]).flatMap((x) => (typeof x === 'string' ? x.split(',') : [x]));
    query[key] = parts.filter((x) => x !== '');
  }
}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Minutes east of UTC that `timeZone` has at instant `ms`. */
function offsetMinutes(ms: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(ms));
  const n = (t: string) => Number(parts.find((p) => p.type === t)!.value);
  const wall = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second'));
  return Math.round((wall - Math.floor(ms / 1000) * 1000) / 60_000);
}

/** Epoch ms of local midnight starting `y-m-d` in `timeZone` (DST-safe: the offset is re-read at the result). */
function localMidnight(y: number, m: number, d: number, timeZone: string): number {
  const guess = Date.UTC(y, m - 1, d);
  let ms = guess - offsetMinutes(guess, timeZone) * 60_000;
  ms = guess - offsetMinutes(ms, timeZone) * 60_000;
  return ms;
}

/**
 * `since`/`until` from the query string: digits are epoch milliseconds; `YYYY-MM-DD` is that
 * day in the site's zone (`since` its first instant, `until` its last, so `since=D&until=D` is
 * the whole day); anything else goes to the store as ISO 8601 (which checks it).
 */
export function timeParam(v: string | undefined, edge: 'since' | 'until', timeZone = SITE_TIME_ZONE): string | number | undefined {
  if (v === undefined) return undefined;
  if (/^\d{1,15}$/.test(v)) return Number(v);
  const m = DATE_ONLY.exec(v);
  if (m === null) return v;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const check = new Date(Date.UTC(y, mo - 1, d));
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) {
    throw new ApiError(400, `${edge}: ${v} is not a calendar date (expected YYYY-MM-DD, ISO 8601 or epoch milliseconds)`);
  }
  if (edge === 'since') return localMidnight(y, mo, d, timeZone);
  const next = new Date(Date.UTC(y, mo - 1, d + 1));
  return localMidnight(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), timeZone) - 1;
}

/**
 * Refuses rule ids that no rule has and no stored alert carries (a typo would otherwise return an
 * empty list that looks like "all clear"). `stored(id)` answers for rules retired since.
 */
export async function checkRuleIds(ids: readonly string[] | undefined, known: ReadonlySet<string>, stored: (id: string) => Promise<boolean>): Promise<void> {
  if (ids === undefined) return;
  const unknown: string[] = [];
  for (const id of ids) if (!known.has(id) && !(await stored(id))) unknown.push(id);
  if (unknown.length === 0) return;
  throw new ApiError(400, `rule_id: unknown rule ${unknown.map((u) => JSON.stringify(u)).join(', ')}; known rules: ${[...known].sort().join(', ')}`);
}
