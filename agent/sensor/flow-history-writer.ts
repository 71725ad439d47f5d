/**
 * Writes the flow history's rows to the store: when a bucket closes (capture time), when a
 * live sensor's timer asks, and at the end of a run. A failed write (disk full, store locked
 * past its timeout) keeps the rows in the aggregator, bounded by its cap, for the next attempt.
 */
import { hostname } from 'node:os';
import type { CompiledPolicy } from '../../rules/policy/index.js';
import { ipToString } from '../events/format.js';
import type { Flow } from '../flows/flow.js';
import { FlowHistory, type FlowHistoryOptions } from '../flows/flow-history.js';
import type { FlowHistoryRow, FlowHistoryWriteResult } from '../store/index.js';

export interface FlowHistoryWriterStats {
  rowsWritten: number;
  rowsRejected: number;
  writes: number;
  writeErrors: number;
}

/** The sensor's name when none is given: the host name (as syslog's HOSTNAME). */
export function defaultSensorName(): string {
  return hostname() || 'muvakt';
}

/** Addresses whose zone is remembered per (IPv4 address, VLAN); beyond this the memo starts afresh. */
const ZONE_MEMO_MAX = 65_536;

/**
 * Zone names of a flow's client and server under the policy (its VLAN tags count, as for the
 * rules). Called once per flow: IPv4 addresses with at most one VLAN tag are remembered by
 * number, so a busy segment's flows cost a map lookup, not two address strings.
 */
export function policyZones(policy: CompiledPolicy): (f: Flow) => readonly [string, string] {
  const memo = new Map<number, string>();
  const zone = (f: Flow, v0: number, v1: number, v2: number, v3: number): string => {
    // IPv4 word + outer VLAN × 2^32 is a safe integer; QinQ and IPv6 take the string path.
    const key = f.ipVersion === 4 && f.vlanCount <= 1 ? (v3 >>> 0) + (f.vlanCount === 1 ? f.vlanOuter : 4096) * 0x1_0000_0000 : -1;
    if (key >= 0) {
      const z = memo.get(key);
      if (z !== undefined) return z;
    }
    const vlans = f.vlanCount === 0 ? [] : f.vlanCount === 1 ? [f.vlanOuter] : [f.vlanOuter, f.vlanInner];
    const name = policy.zoneOf(ipToString(f.ipVersion, v0, v1, v2, v3), vlans).name;
    if (key >= 0) {
      if (memo.size >= ZONE_MEMO_MAX) memo.clear();
      memo.set(key, name);
    }
    return name;
  };
  return (f) => [zone(f, f.c0, f.c1, f.c2, f.c3), zone(f, f.s0, f.s1, f.s2, f.s3)];
}

/**
 * How often a live sensor writes the flow history (`run --flow-history-interval`): the API,
 * which answers from the store, lags the capture by at most this much, and long-running flows
 * show up while open.
 */
export const FLOW_HISTORY_FLUSH_MS = 30_000;

/** After a failed write, the next attempt waits this long (a locked or full store is not retried per flow). */
const RETRY_MS = 5000;

export class FlowHistoryWriter {
  readonly history: FlowHistory;
  private retryAt = 0;
  readonly stats: FlowHistoryWriterStats = { rowsWritten: 0, rowsRejected: 0, writes: 0, writeErrors: 0 };

  constructor(
    private readonly store: { addFlowHistory(rows: readonly FlowHistoryRow[]): Promise<FlowHistoryWriteResult> },
    options: Omit<FlowHistoryOptions, 'onReady'>,
    private readonly onError: (e: Error) => void = () => {},
  ) {
    this.history = new FlowHistory({ ...options, onReady: () => void this.flush() });
  }

  private running: Promise<void> | null = null;
  private again = false;

  /**
   * Writes what the aggregator holds (not the open flows' latest bytes: the pipeline's
   * sweepHistory() counts those first). One write at a time: a flush asked for during a write
   * runs after it, and the promise resolves once what was held at the call is written (or the
   * write failed: the rows are kept for the next attempt, and the error goes to `onError`).
   * Within RETRY_MS of a failed write it waits, unless `force`.
   */
  flush(force = false): Promise<void> {
    if (!force && this.retryAt > 0 && Date.now() < this.retryAt) return this.running ?? Promise.resolve();
    this.again = true;
    this.running ??= this.writeAll().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async writeAll(): Promise<void> {
    while (this.again) {
      this.again = false;
      const rows = this.history.drain();
      if (rows.length === 0) continue;
      try {
        const r = await this.store.addFlowHistory(rows);
        this.stats.writes++;
        this.stats.rowsWritten += r.written;
        this.stats.rowsRejected += r.rejected;
        this.retryAt = 0;
      } catch (e) {
        this.stats.writeErrors++;
        this.retryAt = Date.now() + RETRY_MS;
        this.history.restore(rows);
        this.onError(e as Error);
        return;
      }
    }
  }
}
