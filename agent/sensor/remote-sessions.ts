/**
 * The remote-access session log (MU 4.7 asks that event registration be set up for remote
 * support): every session a remote-access analyzer recognises becomes a record in the store
 * with its start, end, bytes each way, protocol, encryption, the vendor of the policy it
 * belongs to, whether it was inside that vendor's window (site time), the sensor, and its
 * path: external → jump host → device.
 *
 * Legs are correlated by address and time, as the vendor-window rule does: a session into a
 * jump host is an inbound leg while its connection lasts; a session from that jump host that
 * starts meanwhile is its onward leg and links to it (the most recently started inbound leg, if
 * several are open). An onward leg is judged against the window of the vendor whose inbound leg
 * it continues, at the time the onward leg starts: logging in on time and reaching the device
 * after the window closed is outside it. An onward leg to another jump host is itself an
 * inbound leg there, so chains of jump hosts keep one path.
 *
 * A session ends when its flow ends. A flow the sensor stopped following (end of capture,
 * shutdown, eviction) before its peers closed it did not end on the wire: its session is
 * written with no end (ongoing).
 */
import { nodeCrypto } from '../../protocols/node-crypto.js';
import type { CompiledPolicy } from '../../rules/policy/index.js';
import type { EventSink, FlowEvent, MuvaktEvent } from '../events/types.js';
import type { Flow } from '../flows/flow.js';
import { flowId } from '../flows/flow-table.js';
import type { RemoteAccessEvent } from '../../protocols/events/index.js';
import type { RemoteSessionRow, RemoteSessionWriteResult } from '../store/index.js';

/** Sessions followed at once; past this the oldest is written as it stands and no longer followed. */
const MAX_OPEN = 10_000;
/** Open inbound legs remembered per jump host (as the vendor-window rule keeps). */
const MAX_INBOUND_PER_JUMP_HOST = 64;
/** Ended sessions waiting for the store; beyond this the oldest are dropped (and counted). */
const MAX_PENDING = 50_000;
/** Ended sessions written in one go once this many wait (and always on flush and close). */
const BATCH = 200;
const MAX_PATH = 8;
/** After a failed write the next attempt waits this long (a locked or full store is not retried per flush). */
const RETRY_MS = 5000;

interface OpenSession {
  row: RemoteSessionRow;
  /** The address that matched the vendor (for the onward legs that continue this one). */
  vendorIp: string | null;
}

export interface RemoteSessionLogStats {
  sessions: number;
  written: number;
  rejected: number;
  writes: number;
  writeErrors: number;
  dropped: number;
}

export interface RemoteSessionLogOptions {
  sensor: string;
  policy: CompiledPolicy;
  store: { upsertRemoteSessions(rows: readonly RemoteSessionRow[]): Promise<RemoteSessionWriteResult> };
  onError?: (e: Error) => void;
}

/** The session's id: stable while it lasts and across writes, unique across sensors (flow ids hold the flow's start). */
export function remoteSessionId(sensor: string, flow: string): string {
  return nodeCrypto().createHash('sha256').update(`${sensor}\0${flow}`).digest('hex').slice(0, 32);
}

const ms = (iso: string): number => Math.floor(Date.parse(iso));

export class RemoteSessionLog implements EventSink {
  readonly stats: RemoteSessionLogStats = { sessions: 0, written: 0, rejected: 0, writes: 0, writeErrors: 0, dropped: 0 };
  /** flow id → session, in start order. */
  private readonly open = new Map<string, OpenSession>();
  /** jump host → open sessions into it, by flow id, in start order. */
  private readonly inbound = new Map<string, Map<string, OpenSession>>();
  private pending: RemoteSessionRow[] = [];
  private running: Promise<void> | null = null;
  private again = false;
  private retryAt = 0;

  constructor(
    private readonly inner: EventSink,
    private readonly o: RemoteSessionLogOptions,
  ) {}

  write(event: MuvaktEvent, flowSeq?: number): void {
    this.inner.write(event, flowSeq);
    if (event.type === 'remote_access') this.started(event as RemoteAccessEvent);
    else if (event.type === 'flow') this.ended(event as FlowEvent);
  }

  flush(): void {
    this.inner.flush();
    if (this.pending.length > 0) void this.save();
  }

  close(): void {
    this.inner.close();
  }

  /** Sessions followed right now. */
  get openCount(): number {
    return this.open.size;
  }

  /** Records waiting for the store. */
  get pendingCount(): number {
    return this.pending.length;
  }

  private started(e: RemoteAccessEvent): void {
    const f = e.flow;
    if (this.open.has(f.id)) return;
    const p = this.o.policy;
    const atMs = ms(e.ts);
    const at = new Date(atMs);
    let jumpHost: string | null = null;
    let from: OpenSession | null = null;
    if (p.isJumpHost(f.src_ip)) {
      jumpHost = f.src_ip;
      from = this.latestInbound(f.src_ip);
    } else if (p.isJumpHost(f.dst_ip)) {
      jumpHost = f.dst_ip;
    }
    // An onward leg belongs to the vendor of the leg it continues; otherwise the vendor is the
    // client's, or the server's when a device dials out to a vendor's relay (TeamViewer, AnyDesk).
    let vendorIp: string | null = from?.vendorIp ?? null;
    let vendor = vendorIp === null ? null : p.vendorOf(vendorIp, at);
    if (from === null) {
      vendor = p.vendorOf(f.src_ip, at);
      vendorIp = vendor ? f.src_ip : null;
      if (vendor === null) {
        vendor = p.vendorOf(f.dst_ip, at);
        vendorIp = vendor ? f.dst_ip : null;
      }
    }
    const path = from === null ? [f.src_ip, f.dst_ip] : [...from.row.path, f.dst_ip].slice(-MAX_PATH);
    const row: RemoteSessionRow = {
      id: remoteSessionId(this.o.sensor, f.id),
      sensor: this.o.sensor,
      flowId: f.id,
      protocol: e.protocol,
      encrypted: e.encrypted,
      srcIp: f.src_ip,
      srcPort: f.src_port,
      dstIp: f.dst_ip,
      dstPort: f.dst_port,
      zoneSrc: p.zoneOf(f.src_ip, f.vlan).name,
      zoneDst: p.zoneOf(f.dst_ip, f.vlan).name,
      startMs: atMs,
      endMs: null,
      lastSeenMs: atMs,
      bytesToServer: 0,
      bytesToClient: 0,
      vendor: vendor?.name ?? null,
      outsideWindow: vendor ? !vendor.inWindow : null,
      jumpHost,
      inboundId: from?.row.id ?? null,
      path,
    };
    const s: OpenSession = { row, vendorIp };
    if (this.open.size >= MAX_OPEN) {
      const [oldestFlow, oldest] = this.open.entries().next().value as [string, OpenSession];
      this.forget(oldestFlow, oldest);
      this.queue(oldest.row);
    }
    this.open.set(f.id, s);
    this.stats.sessions++;
    if (p.isJumpHost(f.dst_ip)) {
      let legs = this.inbound.get(f.dst_ip);
      if (legs === undefined) this.inbound.set(f.dst_ip, (legs = new Map()));
      if (legs.size >= MAX_INBOUND_PER_JUMP_HOST) legs.delete(legs.keys().next().value as string);
      legs.set(f.id, s);
    }
  }

  private latestInbound(jumpHost: string): OpenSession | null {
    const legs = this.inbound.get(jumpHost);
    if (legs === undefined) return null;
    let latest: OpenSession | null = null;
    for (const s of legs.values()) if (latest === null || s.row.startMs >= latest.row.startMs) latest = s;
    return latest;
  }

  private forget(flow: string, s: OpenSession): void {
    this.open.delete(flow);
    const legs = this.inbound.get(s.row.dstIp);
    if (legs?.delete(flow) && legs.size === 0) this.inbound.delete(s.row.dstIp);
  }

  private ended(e: FlowEvent): void {
    const s = this.open.get(e.flow.id);
    if (s === undefined) return;
    this.forget(e.flow.id, s);
    const r = s.row;
    r.startMs = Math.min(r.startMs, ms(e.start));
    r.lastSeenMs = Math.max(r.startMs, ms(e.end));
    // A connection the peers had closed (FIN or RST) before the capture or the sensor stopped ended on the wire.
    r.endMs = (e.reason === 'shutdown' || e.reason === 'evicted') && e.state !== 'closed' ? null : r.lastSeenMs;
    r.bytesToServer = e.bytes_toserver;
    r.bytesToClient = e.bytes_toclient;
    this.queue(r);
  }

  private queue(r: RemoteSessionRow): void {
    this.pending.push({ ...r, path: [...r.path] });
    if (this.pending.length > MAX_PENDING) {
      const over = this.pending.length - MAX_PENDING;
      this.pending.splice(0, over);
      this.stats.dropped += over;
    }
    if (this.pending.length >= BATCH) void this.save();
  }

  /**
   * A live sensor's periodic write: the open sessions' bytes and last packet so far are read
   * from the flow table, and they are written as ongoing, so the API shows a session while it lasts.
   */
  sweep(flows: { forEach(fn: (f: Flow) => void): void }): void {
    if (this.open.size === 0) return;
    flows.forEach((f) => {
      const s = this.open.get(flowId(f));
      if (s === undefined) return;
      const r = s.row;
      r.bytesToServer = f.bytesToServer;
      r.bytesToClient = f.bytesToClient;
      r.startMs = Math.min(r.startMs, f.startSec * 1000 + Math.floor(f.startNsec / 1e6));
      r.lastSeenMs = Math.max(r.startMs, r.lastSeenMs, f.lastSec * 1000 + Math.floor(f.lastNsec / 1e6));
    });
    for (const s of this.open.values()) this.pending.push({ ...s.row, path: [...s.row.path] });
  }

  /** The end of a run: sessions still followed are written as ongoing, with everything that waits. */
  async finish(): Promise<void> {
    for (const [flow, s] of [...this.open]) {
      this.forget(flow, s);
      this.pending.push(s.row);
    }
    await this.running;
    await this.save(true);
  }

  /**
   * Writes what waits, one write at a time (a save asked for during a write runs after it).
   * A failed write keeps the rows for the next attempt and reports to `onError`; within
   * RETRY_MS of a failure it waits, unless `force`.
   */
  save(force = false): Promise<void> {
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
      const rows = this.pending;
      if (rows.length === 0) continue;
      this.pending = [];
      try {
        const r = await this.o.store.upsertRemoteSessions(rows);
        this.stats.writes++;
        this.stats.written += r.written;
        this.stats.rejected += r.rejected;
        this.retryAt = 0;
      } catch (e) {
        this.stats.writeErrors++;
        this.retryAt = Date.now() + RETRY_MS;
        this.pending = [...rows, ...this.pending].slice(-MAX_PENDING);
        this.o.onError?.(e as Error);
        return;
      }
    }
  }
}
