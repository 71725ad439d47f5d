/**
 * Small pure helpers of the store: timestamps, alert ids, evidence bounds and the defensive
 * fødselsnummer check. No SQLite here, so they are cheap to test and to use in the writer.
 */
import { nodeCrypto } from '../../protocols/node-crypto.js';
import { isValidFnr } from '../../protocols/phi/fodselsnummer.js';
import type { AlertSubject } from './types.js';

// ---------------------------------------------------------------- timestamps

export interface Timestamp {
  /** UTC, always `YYYY-MM-DDTHH:MM:SS.ffffffZ`, so text order is time order. */
  iso: string;
  /** Epoch milliseconds (floor), for range queries. */
  ms: number;
}

const ISO_RE = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:[.,](\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * The whole second (`YYYY-MM-DDTHH:MM:SS`) of the last time parsed in the store's own UTC form,
 * and its epoch ms: alert candidates come in capture order, many a second, each parsed twice.
 */
let lastSecond = '';
let lastSecondMs = 0;

/** Microseconds of `YYYY-MM-DDTHH:MM:SS.ffffffZ` in lastSecond, or -1 when it is not that. */
function microsInLastSecond(value: string): number {
  if (value.length !== 27 || value.charCodeAt(19) !== 0x2e || value.charCodeAt(26) !== 0x5a || !value.startsWith(lastSecond) || lastSecond === '') return -1;
  let us = 0;
  for (let i = 20; i < 26; i++) {
    const c = value.charCodeAt(i) - 0x30;
    if (c < 0 || c > 9) return -1;
    us = us * 10 + c;
  }
  return us;
}

/** Parses ISO 8601 (any fraction, Z or offset) into the store's µs UTC form; null if malformed. */
export function parseTs(value: string): Timestamp | null {
  const us = microsInLastSecond(value);
  if (us >= 0) return { iso: value, ms: lastSecondMs + Math.floor(us / 1000) };
  const m = ISO_RE.exec(value);
  if (m === null) return null;
  // Date.parse rolls 30 Feb over to March: require the calendar fields to survive a round trip.
  const asUtc = Date.parse(m[1] + 'Z');
  if (!Number.isFinite(asUtc) || new Date(asUtc).toISOString().slice(0, 19) !== m[1]) return null;
  const base = Date.parse(m[1] + (m[3].length === 5 ? `${m[3].slice(0, 3)}:${m[3].slice(3)}` : m[3]));
  if (!Number.isFinite(base)) return null;
  const frac = (m[2] ?? '').padEnd(6, '0').slice(0, 6);
  const micros = Number(frac);
  if (m[3] === 'Z') {
    lastSecond = m[1];
    lastSecondMs = base;
  }
  return { iso: new Date(base).toISOString().slice(0, 19) + '.' + frac + 'Z', ms: base + Math.floor(micros / 1000) };
}

export function tsFromMs(ms: number): Timestamp {
  const whole = Math.floor(ms);
  return { iso: new Date(whole).toISOString().slice(0, 23) + '000Z', ms: whole };
}

/** ISO string, epoch ms or Date → Timestamp; null if not a valid time. */
export function toTs(value: string | number | Date): Timestamp | null {
  if (typeof value === 'string') return parseTs(value);
  const ms = typeof value === 'number' ? value : value.getTime();
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return null;
  return tsFromMs(ms);
}

// ---------------------------------------------------------------- alert identity

/**
 * The dedup key: rule id and every subject field, NUL-separated (an absent `device_id` and an
 * empty one are the same subject). Cheap to build per candidate; the writer coalesces on it.
 */
export function alertKey(ruleId: string, s: AlertSubject): string {
  return `${ruleId}\0${s.src_ip}\0${s.dst_ip}\0${s.zone_src}\0${s.zone_dst}\0${s.device_id ?? ''}`;
}

/** Stable alert id: the first 128 bits of SHA-256 over the dedup key, so a restart continues the same alerts. */
export function alertIdFromKey(key: string): string {
  return nodeCrypto().createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 32);
}

export function alertId(ruleId: string, subject: AlertSubject): string {
  return alertIdFromKey(alertKey(ruleId, subject));
}

// ---------------------------------------------------------------- PHI guard

/**
 * Eleven digits (optionally written 6 + 5 with a space, dot or dash, as people do), not part
 * of a longer digit run. Each match is checked with `isValidFnr` (both mod-11 check digits and
 * a real date), so phone and accession numbers pass.
 */
const FNR_LIKE = /(?<![0-9])([0-9]{6})[ .-]?([0-9]{5})(?![0-9])/g;

/** Whether text holds something that validates as a fødselsnummer / D- / H- / synthetic number. */
export function containsFnr(text: string): boolean {
  FNR_LIKE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = FNR_LIKE.exec(text)) !== null) {
    if (isValidFnr(m[1] + m[2])) return true;
  }
  return false;
}

/** Replaces every fødselsnummer-like value with `[redacted]` (for the audit log, which must always be written). */
export function redactFnr(text: string): string {
  if (!containsFnr(text)) return text;
  return text.replace(FNR_LIKE, (all, a: string, b: string) => (isValidFnr(a + b) ? '[redacted]' : all));
}

// ---------------------------------------------------------------- JSON bounds

function replacer(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

/** JSON.stringify that turns bigints into strings; null for unserialisable values (cycles). */
export function safeJson(value: unknown): string | null {
  try {
    const s = JSON.stringify(value, replacer);
    return s === undefined ? null : s;
  } catch {
    return null;
  }
}

export const MAX_EVIDENCE_BYTES = 4096;
const MAX_STRING = 256;
const MAX_ARRAY = 32;
const MAX_KEYS = 64;
const MAX_DEPTH = 4;

function trim(v: unknown, depth: number): unknown {
  if (typeof v === 'string') return v.length > MAX_STRING ? v.slice(0, MAX_STRING) + '…' : v;
  if (v === null || typeof v !== 'object') return v;
  if (depth >= MAX_DEPTH) return Array.isArray(v) ? `[array ${v.length}]` : '[object]';
  if (Array.isArray(v)) {
    const out = v.slice(0, MAX_ARRAY).map((x) => trim(x, depth + 1));
    if (v.length > MAX_ARRAY) out.push(`… ${v.length - MAX_ARRAY} more`);
    return out;
  }
  const out: Record<string, unknown> = {};
  let n = 0;
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (n++ >= MAX_KEYS) break;
    out[k] = trim(x, depth + 1);
  }
  return out;
}

/**
 * Evidence as JSON of at most `max` bytes (UTF-8). Larger evidence is trimmed (long strings,
 * long arrays, deep nesting), then top-level keys are kept in order while they fit; the
 * result carries `"_truncated": true`. `json` is the serialised original when it fits.
 */
export function boundEvidence(json: string, evidence: Record<string, unknown>, max = MAX_EVIDENCE_BYTES): { json: string; truncated: boolean } {
  if (json.length <= max / 3 || Buffer.byteLength(json) <= max) return { json, truncated: false };
  const trimmed = trim(evidence, 0) as Record<string, unknown>;
  const first = safeJson({ ...trimmed, _truncated: true });
  if (first !== null && Buffer.byteLength(first) <= max) return { json: first, truncated: true };
  const kept: Record<string, unknown> = { _truncated: true };
  let size = Buffer.byteLength('{"_truncated":true}');
  for (const [k, v] of Object.entries(trimmed)) {
    const part = safeJson({ [k]: v });
    if (part === null) continue;
    const add = Buffer.byteLength(part) - 1; // '{' + … + '}' → ',' + …
    if (size + add > max) continue;
    kept[k] = v;
    size += add;
  }
  return { json: safeJson(kept) ?? '{"_truncated":true}', truncated: true };
}

/** Any JSON value bounded to `max` bytes: as is, or a stub saying how big it was. */
export function boundJson(value: unknown, max: number): string {
  const s = safeJson(value) ?? 'null';
  if (Buffer.byteLength(s) <= max) return s;
  const t = safeJson(trim(value, 0)) ?? 'null';
  if (Buffer.byteLength(t) <= max) return t;
  return JSON.stringify({ _truncated: true, bytes: Buffer.byteLength(s) });
}
