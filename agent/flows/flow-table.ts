import { IpProto, type DecodedPacket } from '../../protocols/packet.js';
import { Flow, TIMEOUT_CLASS_COUNT, TimeoutClass, type FlowEndReason, type FlowTunnel } from './flow.js';
import { ENCAP_KIND_NAMES } from '../../protocols/link/tunnel.js';
import { ipToString } from '../events/format.js';
import { isLikelyServerPort } from './service-ports.js';

export interface FlowTableLimits {
  /** Flows held at once; when full, the flow idle longest is evicted. */
  maxFlows: number;
  /** Idle timeouts in seconds, per TimeoutClass. */
  timeouts: Record<'new' | 'established' | 'closed' | 'udp' | 'other', number>;
}

export const DEFAULT_FLOW_LIMITS: FlowTableLimits = {
  maxFlows: 500_000,
  timeouts: { new: 30, established: 600, closed: 10, udp: 120, other: 60 },
};

/** Enough for a small capture or a quiet segment without growing. */
const INITIAL_BUCKETS = 1024;

class LruList {
  head: Flow | null = null;
  tail: Flow | null = null;
  constructor(readonly timeout: number) {}
}

function mix(h: number, v: number): number {
  h = Math.imul(h ^ v, 0x9e3779b1);
  return (h ^ (h >>> 15)) | 0;
}

function endpointHash(a0: number, a1: number, a2: number, a3: number, port: number): number {
  let h = mix(0x811c9dc5, a0);
  h = mix(h, a1);
  h = mix(h, a2);
  h = mix(h, a3);
  return mix(h, port);
}

/**
 * The hash of a decoded packet's flow key (both addresses and ports, the protocol, both VLAN
 * tags): symmetric in the two endpoints, so both directions give the same number. The table's
 * buckets and the routing of packets to analysis workers (sensor/packet-router.ts) both use it.
 */
export function flowKeyHash(d: DecodedPacket): number {
  const a = endpointHash(d.src0, d.src1, d.src2, d.src3, d.sport);
  const b = endpointHash(d.dst0, d.dst1, d.dst2, d.dst3, d.dport);
  let h = (a + b) | 0;
  h = mix(h, d.l4Proto | (d.vlanCount << 8));
  return mix(h, d.vlanOuter | (d.vlanInner << 12));
}

/** A second mix of a flow hash, so the worker a flow goes to is independent of its bucket there. */
export function remix(h: number): number {
  return mix(h, 0x5bd1e995);
}

/**
 * Bidirectional, VLAN-aware flow table. Lookup is a hash over numbers and a field-by-field
 * comparison — no string keys, so the per-packet path allocates nothing; only a new flow does.
 * Each timeout class keeps its flows in least-recently-seen order, so expiry looks only at list
 * heads and eviction of the oldest idle flow is O(classes).
 */
/** A squeezed flow table still holds this many flows: a busy segment's own conversations. */
const SQUEEZE_FLOOR = 10_000;

export class FlowTable {
  /**
   * Chained hash buckets in one array: a Map would rehash its backing store again and again
   * under churn, leaving megabytes of old-generation garbage. It starts small (filling the
   * full-capacity array took tens of milliseconds of every start-up) and doubles as flows come,
   * up to the size the capacity needs; it never shrinks, so churn at a steady size rehashes nothing.
   */
  private buckets: (Flow | null)[];
  private mask: number;
  /** The bucket count the capacity calls for: the array grows to this and no further. */
  private readonly maxBuckets: number;
  private readonly lists: LruList[] = [];
  size = 0;
  created = 0;
  evictions = 0;
  /** Flows ended early because the table was squeezed below maxFlows near the memory ceiling. */
  squeezed = 0;
  /** Flows held before the oldest is evicted: maxFlows, or less while squeezed. */
  private capacity: number;
  /** Set by lookup(): true when the packet goes from client to server. */
  toServer = true;
  /**
   * Ended flows kept for reuse: at most as many as the table has room for (held + kept ≤
   * capacity), so a squeezed table frees what it ends instead of keeping it for flows it will
   * no longer hold.
   */
  private readonly free: Flow[] = [];

  constructor(
    private readonly limits: FlowTableLimits,
    private readonly onEnd: (flow: Flow, reason: FlowEndReason) => void,
  ) {
    this.capacity = limits.maxFlows;
    let n = INITIAL_BUCKETS;
    while (n < limits.maxFlows) n *= 2;
    this.maxBuckets = n;
    this.buckets = new Array<Flow | null>(INITIAL_BUCKETS).fill(null);
    this.mask = INITIAL_BUCKETS - 1;
    const t = limits.timeouts;
    const byClass = [t.new, t.established, t.closed, t.udp, t.other];
    for (let i = 0; i < TIMEOUT_CLASS_COUNT; i++) this.lists.push(new LruList(byClass[i]));
  }

  /** Flow objects the table keeps alive: the flows it holds and the ended ones kept for reuse. */
  get objects(): number {
    return this.size + this.free.length;
  }

  /** Finds the flow of the packet in `d` (sets `toServer`), or returns null. */
  lookup(d: DecodedPacket): Flow | null {
    let f = this.buckets[this.hashOf(d) & this.mask];
    while (f !== null) {
      if (f.proto === d.l4Proto && f.vlanOuter === d.vlanOuter && f.vlanInner === d.vlanInner && f.vlanCount === d.vlanCount) {
        if (f.cport === d.sport && f.sport === d.dport && f.c3 === d.src3 && f.s3 === d.dst3 && f.c2 === d.src2 && f.s2 === d.dst2 && f.c1 === d.src1 && f.s1 === d.dst1 && f.c0 === d.src0 && f.s0 === d.dst0) {
          this.toServer = true;
          return f;
        }
        if (f.cport === d.dport && f.sport === d.sport && f.c3 === d.dst3 && f.s3 === d.src3 && f.c2 === d.dst2 && f.s2 === d.src2 && f.c1 === d.dst1 && f.s1 === d.src1 && f.c0 === d.dst0 && f.s0 === d.src0) {
          this.toServer = false;
          return f;
        }
      }
      f = f.bucketNext;
    }
    return null;
  }

  /**
   * Creates the flow for the packet in `d`. The client is the SYN sender; without a SYN,
   * the side using a well-known or lower port is taken as the server.
   */
  create(d: DecodedPacket, tsSec: number, tsNsec: number): Flow {
    if (this.size >= this.capacity) {
      this.evictOldest();
      // Squeezed: one more per new flow, so that the table shrinks to its lowered capacity as
      // the flood goes on rather than ending a hundred thousand flows in one turn.
      if (this.size >= this.capacity) this.evictOldest();
    }
    const f = this.free.pop() ?? new Flow();
    let srcIsClient: boolean;
    if (d.l4Proto === IpProto.Tcp && (d.tcpFlags & 0x12) === 0x02) {
      srcIsClient = true;
      f.roleBySyn = true;
    } else if (d.l4Proto === IpProto.Tcp && (d.tcpFlags & 0x12) === 0x12) {
      srcIsClient = false;
      f.roleBySyn = true;
    } else {
      srcIsClient = !serverSideIsSource(d.sport, d.dport);
    }
    f.vlanCount = d.vlanCount;
    f.vlanOuter = d.vlanOuter;
    f.vlanInner = d.vlanInner;
    f.ipVersion = d.ipVersion;
    f.proto = d.l4Proto;
    if (d.encapDepth !== 0) f.tunnel = tunnelOf(d);
    if (srcIsClient) {
      f.c0 = d.src0; f.c1 = d.src1; f.c2 = d.src2; f.c3 = d.src3; f.cport = d.sport;
      f.s0 = d.dst0; f.s1 = d.dst1; f.s2 = d.dst2; f.s3 = d.dst3; f.sport = d.dport;
    } else {
      f.c0 = d.dst0; f.c1 = d.dst1; f.c2 = d.dst2; f.c3 = d.dst3; f.cport = d.dport;
      f.s0 = d.src0; f.s1 = d.src1; f.s2 = d.src2; f.s3 = d.src3; f.sport = d.sport;
    }
    this.toServer = srcIsClient;
    f.startSec = tsSec;
    f.startNsec = tsNsec;
    f.lastSec = tsSec;
    f.lastNsec = tsNsec;
    f.lastSeen = tsSec + tsNsec * 1e-9;
    if (this.size >= this.buckets.length && this.buckets.length < this.maxBuckets) this.growBuckets();
    f.hash = this.hashOf(d);
    const bucket = f.hash & this.mask;
    f.bucketNext = this.buckets[bucket];
    this.buckets[bucket] = f;
    f.timeoutClass = d.l4Proto === IpProto.Tcp ? TimeoutClass.New : d.l4Proto === IpProto.Udp ? TimeoutClass.Udp : TimeoutClass.Other;
    this.append(this.lists[f.timeoutClass], f);
    this.size++;
    this.created++;
    return f;
  }

  /** Marks the flow as just seen, moving it to the tail of its (possibly new) timeout class. */
  touch(f: Flow, cls: TimeoutClass, tsSec: number, tsNsec: number): void {
    f.lastSec = tsSec;
    f.lastNsec = tsNsec;
    f.lastSeen = tsSec + tsNsec * 1e-9;
    const list = this.lists[f.timeoutClass];
    if (list.tail === f && f.timeoutClass === cls) return;
    this.unlink(list, f);
    f.timeoutClass = cls;
    this.append(this.lists[cls], f);
  }

  /** Ends every flow idle for longer than its class allows at capture time `now`. */
  expire(now: number): void {
    for (const list of this.lists) {
      while (list.head !== null && now - list.head.lastSeen > list.timeout) {
        this.end(list.head, 'timeout');
      }
    }
  }

  /** Ends one flow now (closed connection, port reuse, shutdown). */
  end(f: Flow, reason: FlowEndReason): void {
    this.release(f, reason);
    if (this.size + this.free.length < this.capacity) this.free.push(f);
  }

  /** Ends all flows (end of capture, SIGTERM), oldest first. */
  flushAll(reason: FlowEndReason): void {
    this.flushOldest(reason, Infinity);
  }

  /**
   * Ends up to `max` flows, oldest first, as flushAll does; returns the flows still held. A
   * flush ends a capture: nothing would reuse the ended flows, and kept for reuse a full table
   * of them (a quarter of a gigabyte at the default capacity) would stay live while every flow's
   * end makes its event, findings and device work.
   */
  flushOldest(reason: FlowEndReason, max: number): number {
    this.free.length = 0;
    for (let n = 0; n < max; n++) {
      const f = this.oldest();
      if (f === null) break;
      this.release(f, reason);
    }
    return this.size;
  }

  private release(f: Flow, reason: FlowEndReason): void {
    this.unlink(this.lists[f.timeoutClass], f);
    this.removeFromBucket(f);
    this.size--;
    this.onEnd(f, reason);
    f.reset();
  }

  /** Calls `fn` for every flow held (a periodic sweep, e.g. the flow history; never per packet). */
  forEach(fn: (f: Flow) => void): void {
    for (const list of this.lists) {
      for (let f = list.head; f !== null; f = f.lruNext) fn(f);
    }
  }

  private oldest(): Flow | null {
    let best: Flow | null = null;
    for (const list of this.lists) {
      const h = list.head;
      if (h !== null && (best === null || h.lastSeen < best.lastSeen)) best = h;
    }
    return best;
  }

  /**
   * Near the memory ceiling the flow table is the largest thing left that grows with a flood of
   * addresses (~500 B a flow, a quarter of a gigabyte at the default cap), so while analysis is
   * shed it holds at most half of what it held when shedding began (never under SQUEEZE_FLOOR),
   * oldest evicted first; back to maxFlows when shedding ends. The flows kept for reuse go
   * too: kept, the squeeze only moved flows from the table to the free list (a heap snapshot of
   * a 1.2 M-address flood under a 512 MB ceiling, while squeezed: 500,000 Flow objects, 294 MB).
   */
  squeeze(on: boolean): void {
    this.capacity = on ? Math.min(this.limits.maxFlows, Math.max(SQUEEZE_FLOOR, this.size >>> 1)) : this.limits.maxFlows;
    if (on) this.free.length = 0;
  }

  private evictOldest(): void {
    const f = this.oldest();
    if (f === null) return;
    if (this.size >= this.limits.maxFlows) this.evictions++;
    else this.squeezed++;
    this.end(f, 'evicted');
  }

  private hashOf(d: DecodedPacket): number {
    return flowKeyHash(d);
  }

  /** Doubles the bucket array and rehashes every flow into it (by its kept full hash). */
  private growBuckets(): void {
    const n = this.buckets.length * 2;
    const grown = new Array<Flow | null>(n).fill(null);
    const mask = n - 1;
    for (let i = 0; i < this.buckets.length; i++) {
      let f = this.buckets[i];
      while (f !== null) {
        const next = f.bucketNext;
        const b = f.hash & mask;
        f.bucketNext = grown[b];
        grown[b] = f;
        f = next;
      }
    }
    this.buckets = grown;
    this.mask = mask;
  }

  private removeFromBucket(f: Flow): void {
    const bucket = f.hash & this.mask;
    let cur = this.buckets[bucket];
    if (cur === f) {
      this.buckets[bucket] = f.bucketNext;
    } else {
      while (cur !== null && cur.bucketNext !== f) cur = cur.bucketNext;
      if (cur !== null) cur.bucketNext = f.bucketNext;
    }
    f.bucketNext = null;
  }

  private append(list: LruList, f: Flow): void {
    f.lruNext = null;
    f.lruPrev = list.tail;
    if (list.tail !== null) list.tail.lruNext = f;
    else list.head = f;
    list.tail = f;
  }

  private unlink(list: LruList, f: Flow): void {
    if (f.lruPrev !== null) f.lruPrev.lruNext = f.lruNext;
    else list.head = f.lruNext;
    if (f.lruNext !== null) f.lruNext.lruPrev = f.lruPrev;
    else list.tail = f.lruPrev;
    f.lruPrev = null;
    f.lruNext = null;
  }
}

/** True when the packet's source port looks like the server side of the conversation. */
function serverSideIsSource(sport: number, dport: number): boolean {
  const s = isLikelyServerPort(sport);
  const d = isLikelyServerPort(dport);
  if (s !== d) return s;
  // Both or neither well known: the lower port is usually the service.
  return sport < dport;
}

/**
 * A flow id that is the same for the same traffic in any capture format and any run: a hash
 * of the key and the start time (Suricata's flow_id is likewise a hash).
 */
export function flowId(f: Flow): string {
  let h1 = mix(0x12345678, f.c3);
  h1 = mix(h1, f.s3);
  h1 = mix(h1, f.c0 ^ f.c1 ^ f.c2);
  h1 = mix(h1, f.s0 ^ f.s1 ^ f.s2);
  h1 = mix(h1, (f.cport << 16) | f.sport);
  let h2 = mix(h1 ^ 0x5bd1e995, f.startSec);
  h2 = mix(h2, f.startNsec);
  h2 = mix(h2, f.proto | (f.vlanOuter << 8) | (f.vlanInner << 20));
  return (h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0');
}

/** The tunnel of a flow's first packet, as its events report it. */
function tunnelOf(d: DecodedPacket): FlowTunnel {
  const t: FlowTunnel = { kind: ENCAP_KIND_NAMES[d.encapKind] };
  if (d.encapId >= 0) t.id = d.encapId;
  if (d.outerIpVersion !== 0) {
    t.outer_src_ip = ipToString(d.outerIpVersion, d.outerSrc0, d.outerSrc1, d.outerSrc2, d.outerSrc3);
    t.outer_dst_ip = ipToString(d.outerIpVersion, d.outerDst0, d.outerDst1, d.outerDst2, d.outerDst3);
  }
  return t;
}
