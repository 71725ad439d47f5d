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

/** Zone names of a flow's client and server under the policy (its VLAN tags count, as for the rules). */
export function policyZones(policy: CompiledPolicy): (f: Flow) => readonly [string, string] {
  return (f) => {
    const vlans = f.vlanCount === 0 ? [] : f.vlanCount === 1 ? [f.vlanOuter] : [f.vlanOuter, f.vlanInner];
    const src = policy.zoneOf(ipToString(f.ipVersion, f.c0, f.c1, f.c2, f.c3), vlans).name;
    const dst = policy.zoneOf(ipToString(f.ipVersion, f.s0, f.s1, f.s2, f.s3), vlans).name;
    return [src, dst];
  };
}

/** After a failed write, the next attempt waits this long (a locked or full store is not retried per flow). */
const RETRY_MS = 5000;

export class FlowHistoryWriter {
  readonly history: FlowHistory;
  private retryAt = 0;
  readonly stats: FlowHistoryWriterStats = { rowsWritten: 0, rowsRejected: 0, writes: 0, writeErrors: 0 };

  constructor(
    private readonly store: { addFlowHistory(rows: readonly FlowHistoryRow[]): FlowHistoryWriteResult },
    options: Omit<FlowHistoryOptions, 'onReady'>,
    private readonly onError: (e: Error) => void = () => {},
  ) {
    this.history = new FlowHistory({ ...options, onReady: () => this.flush() });
  }

  /**
   * Writes what the aggregator holds (not the open flows' latest bytes: the pipeline's
   * sweepHistory() counts those first). Within RETRY_MS of a failed write it waits, unless `force`.
   */
  flush(force = false): void {
    if (!force && this.retryAt > 0 && Date.now() < this.retryAt) return;
    const rows = this.history.drain();
    if (rows.length === 0) return;
    try {
      const r = this.store.addFlowHistory(rows);
      this.stats.writes++;
      this.stats.rowsWritten += r.written;
      this.stats.rowsRejected += r.rejected;
      this.retryAt = 0;
    } catch (e) {
      this.stats.writeErrors++;
      this.retryAt = Date.now() + RETRY_MS;
      this.history.restore(rows);
      this.onError(e as Error);
    }
  }
}
