/**
 * Flow history, the part every store backend shares: checking rows before they are written
 * and the query's bounds. The SQL lives with each backend (sqlite-flow-history.ts, …).
 */
import { StoreInputError, type FlowHistoryRow, type FlowMatrixQuery } from './types.js';
import { containsFnr, toTs } from './values.js';

/** Groups a matrix returns at most (zone pairs × apps × encryption; far more than a real site has). */
export const MAX_MATRIX_ITEMS = 10_000;
const MAX_NAME = 128;
const MAX_BUCKET_SECONDS = 86_400;

function isName(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_NAME && !containsFnr(v);
}

function isCount(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

/** Whether a row may be written: names bounded and free of fødselsnummer-like values, counts whole and non-negative. */
export function validFlowHistoryRow(r: FlowHistoryRow): boolean {
  return (
    r !== null &&
    typeof r === 'object' &&
    isCount(r.bucketMs) &&
    Number.isInteger(r.bucketSeconds) &&
    r.bucketSeconds >= 1 &&
    r.bucketSeconds <= MAX_BUCKET_SECONDS &&
    isName(r.sensor) &&
    isName(r.zoneSrc) &&
    isName(r.zoneDst) &&
    isName(r.app) &&
    typeof r.encrypted === 'boolean' &&
    isCount(r.bytes) &&
    isCount(r.flows) &&
    isCount(r.phiFlows)
  );
}

/** The matrix query checked: epoch-ms bounds (null = open) and the sensor. StoreInputError for bad input. */
export function matrixBounds(q: FlowMatrixQuery): { sinceMs: number | null; untilMs: number | null; sensor: string | null } {
  const at = (v: string | number | Date | undefined, field: string): number | null => {
    if (v === undefined) return null;
    const t = toTs(v);
    if (t === null) throw new StoreInputError(`${field}: expected an ISO 8601 time or epoch milliseconds`);
    return t.ms;
  };
  const sinceMs = at(q.since, 'since');
  const untilMs = at(q.until, 'until');
  if (sinceMs !== null && untilMs !== null && untilMs < sinceMs) throw new StoreInputError('until: is before since');
  if (q.sensor !== undefined && (typeof q.sensor !== 'string' || q.sensor.length === 0 || q.sensor.length > MAX_NAME)) {
    throw new StoreInputError(`sensor: expected a name of 1–${MAX_NAME} characters`);
  }
  return { sinceMs, untilMs, sensor: q.sensor ?? null };
}

/** Rows of one key summed into one (a single multi-row upsert may not touch a row twice). */
export function mergeFlowHistoryRows(rows: readonly FlowHistoryRow[]): FlowHistoryRow[] {
  const byKey = new Map<string, FlowHistoryRow>();
  for (const r of rows) {
    const key = `${r.bucketMs}\u0000${r.sensor}\u0000${r.zoneSrc}\u0000${r.zoneDst}\u0000${r.app}\u0000${r.encrypted ? 1 : 0}`;
    const m = byKey.get(key);
    if (m === undefined) byKey.set(key, { ...r });
    else {
      m.bytes += r.bytes;
      m.flows += r.flows;
      m.phiFlows += r.phiFlows;
      m.bucketSeconds = Math.max(m.bucketSeconds, r.bucketSeconds);
    }
  }
  return [...byKey.values()];
}
