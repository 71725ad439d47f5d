import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AlertCandidate, AlertSubject, Severity } from '../../../agent/store/types.js';

/** A temp directory per test file; removed by `cleanup()`. */
export function tempDir(prefix = 'muvakt-store-'): { dir: string; db: (name?: string) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  let n = 0;
  return {
    dir,
    db: (name?: string) => join(dir, name ?? `t${n++}.db`),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function subject(i: number, over: Partial<AlertSubject> = {}): AlertSubject {
  return { src_ip: `10.77.10.${i % 250}`, dst_ip: `198.51.100.${Math.floor(i / 250)}`, zone_src: 'mu-radiology', zone_dst: 'external', ...over };
}

/** ISO µs timestamp `ms` after 2026-03-01T00:00:00Z, with `us` extra microseconds. */
export const T0 = Date.parse('2026-03-01T00:00:00Z');
export function iso(ms: number, us = 0): string {
  return new Date(T0 + ms).toISOString().slice(0, 23) + String(us).padStart(3, '0') + 'Z';
}

export function cand(i: number, over: Partial<AlertCandidate> = {}): AlertCandidate {
  return {
    rule_id: 'G2.medical-internet',
    title: 'Medical device talks to the internet',
    severity: 'high' as Severity,
    guide_refs: ['MU 3.7', 'MU 4.6'],
    subject: subject(i),
    evidence: { app: 'https', dst_port: 443, country: 'US' },
    recommendation: 'Block the flow or add it to allowed_flows.',
    ts: iso(i * 1000),
    ...over,
  };
}

const W1 = [3, 7, 6, 1, 8, 9, 4, 5, 2];
const W2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
function check(digits: number[], w: number[]): number {
  const k = 11 - (digits.reduce((s, d, i) => s + d * w[i], 0) % 11);
  return k === 11 ? 0 : k;
}
/** A valid fødselsnummer for DDMMYY + individual number, or null when the checksum cannot be made (k = 10). */
export function fnr(ddmmyy: string, ind: number): string | null {
  const d = (ddmmyy + String(ind).padStart(3, '0')).split('').map(Number);
  const k1 = check(d, W1);
  if (k1 === 10) return null;
  const k2 = check([...d, k1], W2);
  if (k2 === 10) return null;
  return d.join('') + k1 + k2;
}
/** The first valid number for DDMMYY at or after individual number `from`. */
export function someFnr(ddmmyy: string, from = 100): string {
  for (let i = from; i < 1000; i++) {
    const v = fnr(ddmmyy, i);
    if (v !== null) return v;
  }
  throw new Error('no valid number');
}
