import type { DecodedPacket } from '../packet.js';

export interface FragmentLimits {
  /** Datagrams being reassembled at once. */
  maxDatagrams: number;
  /** Bytes held across all of them. */
  maxBytes: number;
  /** Seconds (capture time) a datagram may wait for its missing fragments. */
  timeoutSec: number;
  /** Pieces one datagram may be held in; more and it is dropped (default 1024: real stacks need a few dozen). */
  maxPiecesPerDatagram?: number;
}

export const DEFAULT_MAX_PIECES = 1024;

export const DEFAULT_FRAGMENT_LIMITS: FragmentLimits = { maxDatagrams: 4096, maxBytes: 32 * 1024 * 1024, timeoutSec: 30 };

interface Piece {
  start: number;
  end: number;
  data: Buffer;
}

interface Datagram {
  pieces: Piece[];
  /** Length of the whole upper-layer payload, known once the last fragment arrived. */
  total: number;
  bytes: number;
  frames: number;
  frameBytes: number;
  firstSeen: number;
}

export interface ReassembledDatagram {
  /** The upper-layer segment (TCP/UDP header and payload), rebuilt. */
  payload: Buffer;
  frames: number;
  frameBytes: number;
}

export class FragmentStats {
  fragments = 0;
  completed = 0;
  timedOut = 0;
  /** Fragments dropped because a cap was hit. */
  overLimit = 0;
  /** Fragments whose bytes overlapped ones already held (first one wins). */
  overlaps = 0;
  malformed = 0;
}

/**
 * IPv4 and IPv6 fragment reassembly with caps. Fragments are rare on a medical segment, so this
 * path may allocate; what it must not do is grow without bound when someone sends only first
 * fragments, or crash on overlapping ones (teardrop).
 */
export class FragmentReassembler {
  private readonly datagrams = new Map<string, Datagram>();
  private heldBytes = 0;
  readonly stats = new FragmentStats();
  /** Pieces looked at while placing fragments (binary-search probes and overlaps walked): what the worst case costs. */
  steps = 0;

  constructor(private readonly limits: FragmentLimits = DEFAULT_FRAGMENT_LIMITS) {}

  get pending(): number {
    return this.datagrams.size;
  }

  /**
   * Adds the fragment that `d` describes (payload = buf[d.l4Off, d.ipEnd)). Returns the rebuilt
   * datagram when this fragment completes it.
   */
  add(buf: Buffer, d: DecodedPacket, now: number, frameLen: number): ReassembledDatagram | null {
    this.stats.fragments++;
    const len = d.ipEnd - d.l4Off;
    const start = d.fragOffset;
    const end = start + len;
    if (len < 0 || end > 65535 + 8 || (d.moreFragments && len % 8 !== 0) || d.ipTruncated) {
      this.stats.malformed++;
      return null;
    }
    const key = `${d.ipVersion}|${d.src0},${d.src1},${d.src2},${d.src3}|${d.dst0},${d.dst1},${d.dst2},${d.dst3}|${d.l4Proto}|${d.fragId}`;
    let dg = this.datagrams.get(key);
    if (!dg) {
      if (this.datagrams.size >= this.limits.maxDatagrams) {
        this.stats.overLimit++;
        return null;
      }
      dg = { pieces: [], total: -1, bytes: 0, frames: 0, frameBytes: 0, firstSeen: now };
      this.datagrams.set(key, dg);
    }
    dg.frames++;
    dg.frameBytes += frameLen;
    if (!d.moreFragments) {
      if (dg.total !== -1 && dg.total !== end) {
        this.stats.malformed++;
        this.drop(key, dg);
        return null;
      }
      dg.total = end;
    }
    this.insert(dg, start, end, buf, d.l4Off);
    if (this.heldBytes > this.limits.maxBytes || dg.pieces.length > (this.limits.maxPiecesPerDatagram ?? DEFAULT_MAX_PIECES)) {
      this.stats.overLimit++;
      this.drop(key, dg);
      return null;
    }
    if (dg.total < 0 || dg.bytes !== dg.total) return null;
    const payload = Buffer.allocUnsafe(dg.total);
    for (const p of dg.pieces) p.data.copy(payload, p.start);
    this.stats.completed++;
    this.drop(key, dg);
    return { payload, frames: dg.frames, frameBytes: dg.frameBytes };
  }

  /** Forgets datagrams older than the timeout. */
  expire(now: number): void {
    for (const [key, dg] of this.datagrams) {
      if (now - dg.firstSeen > this.limits.timeoutSec) {
        this.stats.timedOut++;
        this.drop(key, dg);
      }
    }
  }

  private drop(key: string, dg: Datagram): void {
    this.heldBytes -= dg.bytes;
    this.datagrams.delete(key);
  }

  /**
   * Keeps only the bytes no earlier fragment covered (first wins), as most stacks do. Pieces are
   * sorted and disjoint: a binary search finds where the fragment starts, then only the pieces
   * it overlaps are walked — tiny fragments in any order cost O(log n) each, not O(n).
   */
  private insert(dg: Datagram, start: number, end: number, buf: Buffer, off: number): void {
    let s = start;
    const pieces = dg.pieces;
    // First piece whose end is past s.
    let lo = 0;
    let hi = pieces.length;
    while (lo < hi) {
      this.steps++;
      const mid = (lo + hi) >>> 1;
      if (pieces[mid].end <= s) lo = mid + 1;
      else hi = mid;
    }
    let i = lo;
    while (s < end) {
      while (i < pieces.length && pieces[i].end <= s) {
        this.steps++;
        i++;
      }
      const next = i < pieces.length ? pieces[i] : null;
      if (next && next.start <= s) {
        this.steps++;
        this.stats.overlaps++;
        s = next.end;
        continue;
      }
      const e = next && next.start < end ? next.start : end;
      const data = Buffer.from(buf.subarray(off + (s - start), off + (e - start)));
      pieces.splice(i, 0, { start: s, end: e, data });
      i++;
      dg.bytes += e - s;
      this.heldBytes += e - s;
      s = e;
    }
  }
}
