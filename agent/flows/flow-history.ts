/**
 * Flow history: what flowed between zones, by time bucket, for the zone matrix of any time
 * range (docs/flows.md). Works at flow granularity, never per packet: the pipeline calls
 * `advance` when capture time enters a new bucket (checked once per capture second), `flowEnded`
 * when a flow ends, and a live sensor calls `sweep` before each write so open flows show up
 * while they last.
 *
 * Key: bucket start (capture time), zone pair (client's zone → server's zone), app, encrypted
 * or not; the sensor's name is added to every row. Values: bytes, flows, PHI flows.
 *
 * What counts where:
 * - bytes: every byte of a flow is counted once, in the bucket whose capture time it was seen
 *   in (bytes since the flow was last counted go to the current bucket), so the bytes of a
 *   range sum to the flows' bytes however long the flows were open;
 * - flows: a flow counts once in every bucket it carried bytes in (it was active there). A flow
 *   open for 12 minutes across three 5-minute buckets counts in each of them; the flows of a
 *   range spanning several buckets are flow-buckets, not distinct connections;
 * - PHI flows: the flows of a bucket in which patient data had been seen in the clear (by the
 *   time the flow was counted there).
 * A flow is counted under the app and encryption it has when counted; a flow whose app becomes
 * known later in the same bucket keeps its first row for the flow count, its later bytes go to
 * the new app's row.
 *
 * Capture time, not the clock: an old capture analysed today lands in its own buckets. A
 * capture that jumps back past the previous bucket (files out of order) moves the current
 * bucket back; smaller reordering stays in the current bucket.
 *
 * Peer rows: beside the zone rows, every flow is also counted per address pair (client,
 * server, their zones, app, encryption) in hourly buckets (or the bucket length, if longer), so
 * a device's peers and flows over time and a matrix cell's flows can be shown. Same counting
 * (bytes once, a flow once per peer bucket it was active in); at most `maxPeerKeysPerBucket`
 * pairs per peer bucket, further ones are not counted there (`peerDroppedFlows`): an address
 * pair has no `(other)` to fold into.
 *
 * Bounded: at most `maxKeysPerBucket` keys per bucket (further flows of that bucket are folded
 * into one `(other)` row: bytes kept, counted in `overflowFlows`) and `maxPendingRows` rows held
 * until written (beyond that, while writes fail, flows are dropped and counted).
 */
import { ipToString } from '../events/format.js';
import { FlowHistoryMarks, type Flow } from './flow.js';

/**
 * Five minutes: fine enough to zoom onto an incident (and the step a Prometheus/Grafana view
 * uses), coarse enough that a busy segment (a few hundred zone-pair/app keys) writes a few
 * hundred rows per sensor per 5 minutes, ~100 k rows a day at most: small for SQLite and
 * PostgreSQL over the 180-day retention, and a year's matrix sums a few million rows.
 */
export const DEFAULT_BUCKET_SECONDS = 300;
export const DEFAULT_MAX_KEYS_PER_BUCKET = 2000;
export const DEFAULT_MAX_PENDING_ROWS = 50_000;
/** Zone and app of the row that takes a bucket's flows beyond its key cap (not a valid zone name). */
export const OVERFLOW_LABEL = '(other)';
/** The shortest peer bucket: an hour keeps the per-pair rows to a day's worth of hours per pair. */
export const PEER_BUCKET_SECONDS = 3600;
export const DEFAULT_MAX_PEER_KEYS_PER_BUCKET = 5000;

export interface FlowHistoryRow {
  /** Bucket start, epoch milliseconds of capture time. */
  bucketMs: number;
  bucketSeconds: number;
  sensor: string;
  zoneSrc: string;
  zoneDst: string;
  app: string;
  encrypted: boolean;
  bytes: number;
  flows: number;
  phiFlows: number;
  /** Peer rows only: the flow's client and server address (a zone row has neither). */
  clientIp?: string;
  serverIp?: string;
}

/** Something that holds flows: the flow table. */
export interface FlowSet {
  forEach(fn: (f: Flow) => void): void;
}

export interface FlowHistoryOptions {
  /** The sensor's name, written with every row. */
  sensor: string;
  /** Zone names of the flow's client and server (called once per flow). */
  zonesOf: (f: Flow) => readonly [string, string];
  bucketSeconds?: number;
  maxKeysPerBucket?: number;
  /** Address pairs counted per peer bucket (default DEFAULT_MAX_PEER_KEYS_PER_BUCKET). */
  maxPeerKeysPerBucket?: number;
  maxPendingRows?: number;
  /** A bucket closed or the pending rows reached their cap: time to `drain` and write. */
  onReady?: () => void;
}

export interface FlowHistoryStats {
  bucketsClosed: number;
  sweeps: number;
  /** Flow counts folded into a bucket's `(other)` row (key cap reached). */
  overflowFlows: number;
  /** Flows and bytes dropped because `maxPendingRows` rows were waiting to be written. */
  droppedFlows: number;
  droppedBytes: number;
  /** Flows not counted in a peer bucket's address-pair rows (its pair cap reached, or the pending cap). */
  peerDroppedFlows: number;
}

export class FlowHistory {
  readonly bucketSeconds: number;
  readonly sensor: string;
  readonly stats: FlowHistoryStats = { bucketsClosed: 0, sweeps: 0, overflowFlows: 0, droppedFlows: 0, droppedBytes: 0, peerDroppedFlows: 0 };
  readonly peerBucketSeconds: number;
  private readonly zonesOf: FlowHistoryOptions['zonesOf'];
  private readonly maxKeys: number;
  private readonly maxPeerKeys: number;
  /** Start (s) of the peer bucket whose pairs `curPeerKeys` holds. */
  private curPeer = -1;
  private readonly curPeerKeys = new Set<string>();
  private readonly maxPending: number;
  private readonly onReady: () => void;
  /** Start (s) of the current bucket; -1 before the first packet. */
  private cur = -1;
  /** Rows not yet written, by key. */
  private readonly pending = new Map<string, FlowHistoryRow>();
  /** Keys the current bucket has had (written or not), for the per-bucket cap. */
  private readonly curKeys = new Set<string>();
  private ready = false;
  /** `account` as a value, made once: the sweep passes it to forEach. */
  private readonly accountFn = (f: Flow): void => this.account(f);

  constructor(o: FlowHistoryOptions) {
    const b = o.bucketSeconds ?? DEFAULT_BUCKET_SECONDS;
    if (!Number.isInteger(b) || b < 1 || b > 86_400) throw new RangeError(`bucketSeconds: expected an integer 1–86400, got ${b}`);
    this.bucketSeconds = b;
    this.sensor = o.sensor;
    this.zonesOf = o.zonesOf;
    this.maxKeys = o.maxKeysPerBucket ?? DEFAULT_MAX_KEYS_PER_BUCKET;
    this.maxPeerKeys = o.maxPeerKeysPerBucket ?? DEFAULT_MAX_PEER_KEYS_PER_BUCKET;
    this.peerBucketSeconds = Math.max(b, PEER_BUCKET_SECONDS);
    this.maxPending = o.maxPendingRows ?? DEFAULT_MAX_PENDING_ROWS;
    this.onReady = o.onReady ?? (() => {});
  }

  /** Start (s, capture time) of the bucket being filled; -1 before the first packet. */
  get currentBucket(): number {
    return this.cur;
  }

  get pendingRows(): number {
    return this.pending.size;
  }

  /** True when capture second `tsSec` is not in the current bucket (the caller then calls `advance`). */
  due(tsSec: number): boolean {
    const cur = this.cur;
    return cur === -1 || tsSec >= cur + this.bucketSeconds || tsSec < cur - this.bucketSeconds;
  }

  /** Capture time entered `tsSec`'s bucket: what open flows carried so far goes into the bucket that ends. */
  advance(flows: FlowSet, tsSec: number): void {
    const next = tsSec - (tsSec % this.bucketSeconds);
    if (next === this.cur) return;
    const closing = this.cur !== -1;
    if (closing) {
      this.sweepInto(flows);
      this.stats.bucketsClosed++;
    }
    this.cur = next;
    this.curKeys.clear();
    if (closing) this.ready = true;
    this.signal();
  }

  /** Counts what open flows carried since they were last counted into the current bucket (before a write). */
  sweep(flows: FlowSet): void {
    if (this.cur === -1) return;
    this.sweepInto(flows);
    this.signal();
  }

  /** A flow ended: what it carried since it was last counted goes into the current bucket. */
  flowEnded(f: Flow): void {
    if (this.cur === -1) return;
    this.account(f);
    this.signal();
  }

  /** The rows to write; they are no longer held here. */
  drain(): FlowHistoryRow[] {
    const rows = [...this.pending.values()];
    this.pending.clear();
    this.ready = false;
    return rows;
  }

  /** Rows whose write failed, taken back (summed into what accumulated meanwhile; beyond the cap, dropped and counted). */
  restore(rows: readonly FlowHistoryRow[]): void {
    for (const r of rows) {
      const key = r.clientIp === undefined ? keyOf(r.bucketMs / 1000, r.zoneSrc, r.zoneDst, r.app, r.encrypted) : peerKeyOf(r.bucketMs / 1000, r.clientIp, r.serverIp ?? '', r.zoneSrc, r.zoneDst, r.app, r.encrypted);
      let p = this.pending.get(key);
      if (p === undefined) {
        if (this.pending.size >= this.maxPending) {
          this.stats.droppedFlows += r.flows;
          this.stats.droppedBytes += r.bytes;
          continue;
        }
        p = { ...r, bytes: 0, flows: 0, phiFlows: 0 };
        this.pending.set(key, p);
      }
      p.bytes += r.bytes;
      p.flows += r.flows;
      p.phiFlows += r.phiFlows;
    }
  }

  private sweepInto(flows: FlowSet): void {
    this.stats.sweeps++;
    flows.forEach(this.accountFn);
  }

  private account(f: Flow): void {
    const total = f.bytesToServer + f.bytesToClient;
    let h = f.hist;
    const delta = total - (h === null ? 0 : h.bytes);
    if (delta <= 0) return;
    if (h === null) {
      const [src, dst] = this.zonesOf(f);
      h = f.hist = new FlowHistoryMarks(src, dst, ipToString(f.ipVersion, f.c0, f.c1, f.c2, f.c3), ipToString(f.ipVersion, f.s0, f.s1, f.s2, f.s3));
    }
    h.bytes = total;
    const bucket = this.cur;
    const newFlow = h.bucket !== bucket;
    const row = this.rowFor(bucket, h.zoneSrc, h.zoneDst, f.app, f.encrypted);
    if (row === null) {
      if (newFlow) this.stats.droppedFlows++;
      this.stats.droppedBytes += delta;
      h.bucket = bucket;
      return;
    }
    row.bytes += delta;
    if (newFlow) {
      h.bucket = bucket;
      row.flows++;
      if (row.app === OVERFLOW_LABEL) this.stats.overflowFlows++;
    }
    if (f.phiSeen && h.phiBucket !== bucket) {
      h.phiBucket = bucket;
      row.phiFlows++;
    }
    this.accountPeer(f, h, delta);
  }

  /** The same bytes into the flow's address-pair row of the current peer bucket. */
  private accountPeer(f: Flow, h: FlowHistoryMarks, delta: number): void {
    const bucket = this.cur - (this.cur % this.peerBucketSeconds);
    if (bucket !== this.curPeer) {
      this.curPeer = bucket;
      this.curPeerKeys.clear();
    }
    const newFlow = h.peerBucket !== bucket;
    h.peerBucket = bucket;
    const key = peerKeyOf(bucket, h.client, h.server, h.zoneSrc, h.zoneDst, f.app, f.encrypted);
    let row = this.pending.get(key);
    if (row === undefined) {
      if ((!this.curPeerKeys.has(key) && this.curPeerKeys.size >= this.maxPeerKeys) || this.pending.size >= this.maxPending) {
        if (newFlow) this.stats.peerDroppedFlows++;
        return;
      }
      this.curPeerKeys.add(key);
      row = {
        bucketMs: bucket * 1000,
        bucketSeconds: this.peerBucketSeconds,
        sensor: this.sensor,
        zoneSrc: h.zoneSrc,
        zoneDst: h.zoneDst,
        app: f.app,
        encrypted: f.encrypted,
        bytes: 0,
        flows: 0,
        phiFlows: 0,
        clientIp: h.client,
        serverIp: h.server,
      };
      this.pending.set(key, row);
      if (this.pending.size >= this.maxPending / 2) this.ready = true;
    }
    row.bytes += delta;
    if (newFlow) row.flows++;
    if (f.phiSeen && h.peerPhiBucket !== bucket) {
      h.peerPhiBucket = bucket;
      row.phiFlows++;
    }
  }

  /** The pending row of this key, a new one, the bucket's overflow row, or null when nothing more may be held. */
  private rowFor(bucket: number, zoneSrc: string, zoneDst: string, app: string, encrypted: boolean): FlowHistoryRow | null {
    let key = keyOf(bucket, zoneSrc, zoneDst, app, encrypted);
    let row = this.pending.get(key);
    if (row !== undefined) return row;
    if (!this.curKeys.has(key) && this.curKeys.size >= this.maxKeys) {
      zoneSrc = zoneDst = app = OVERFLOW_LABEL;
      encrypted = false;
      key = keyOf(bucket, zoneSrc, zoneDst, app, encrypted);
      row = this.pending.get(key);
      if (row !== undefined) return row;
    }
    if (this.pending.size >= this.maxPending) {
      this.ready = true;
      return null;
    }
    this.curKeys.add(key);
    row = { bucketMs: bucket * 1000, bucketSeconds: this.bucketSeconds, sensor: this.sensor, zoneSrc, zoneDst, app, encrypted, bytes: 0, flows: 0, phiFlows: 0 };
    this.pending.set(key, row);
    // Ask for a write well before the cap, so a working store never sees flows dropped.
    if (this.pending.size >= this.maxPending / 2) this.ready = true;
    return row;
  }

  /** Tells the owner to write, outside any sweep (a write mid-sweep would take rows still being filled). */
  private signal(): void {
    if (this.ready) this.onReady();
  }
}

function peerKeyOf(bucket: number, client: string, server: string, zoneSrc: string, zoneDst: string, app: string, encrypted: boolean): string {
  return `p\u0000${bucket}\u0000${client}\u0000${server}\u0000${zoneSrc}\u0000${zoneDst}\u0000${app}\u0000${encrypted ? 1 : 0}`;
}

function keyOf(bucket: number, zoneSrc: string, zoneDst: string, app: string, encrypted: boolean): string {
  return `${bucket}\u0000${zoneSrc}\u0000${zoneDst}\u0000${app}\u0000${encrypted ? 1 : 0}`;
}
