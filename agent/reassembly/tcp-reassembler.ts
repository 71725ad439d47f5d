import { DETACH, Direction, type StreamEndReason, type StreamParser } from '../../protocols/stream.js';

export interface ReassemblyLimits {
  /** Out-of-order bytes held per direction of one connection. */
  maxDirectionBytes: number;
  /** Out-of-order bytes held across all connections. */
  maxGlobalBytes: number;
}

export const DEFAULT_REASSEMBLY_LIMITS: ReassemblyLimits = {
  maxDirectionBytes: 2 * 1024 * 1024,
  maxGlobalBytes: 256 * 1024 * 1024,
};

/** Shared by all connections: the global cap and the counters for /metrics and the summary. */
export class ReassemblyBudget {
  heldBytes = 0;
  /** Times a cap forced out-of-order data to be given up as a gap. */
  capHits = 0;
  gaps = 0;
  gapBytes = 0;
  retransmittedBytes = 0;
  outOfOrderSegments = 0;
  constructor(readonly limits: ReassemblyLimits = DEFAULT_REASSEMBLY_LIMITS) {}
}

/** Bytes that arrived ahead of a hole, or (data === null) bytes known to exist but not captured. */
interface Piece {
  seq: number;
  len: number;
  data: Buffer | null;
}

const enum Fin {
  None = -1,
}

/** Shared by every direction that holds nothing: most connections never see a segment out of order. */
const NO_PIECES: Piece[] = [];

class DirectionState {
  started = false;
  nextSeq = 0;
  /** Held pieces in sequence order; NO_PIECES (never written to) until the first is held. */
  pending: Piece[] = NO_PIECES;
  pendingBytes = 0;
  /** Bytes the parser asked us to drop without delivering. */
  skip = 0;
  finSeq: number = Fin.None;
  delivered = 0;
  skipped = 0;
  gapBytes = 0;
}

/** seq a minus seq b in 32-bit sequence space. */
function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/**
 * Puts the two byte streams of one TCP connection back in order and hands them to a
 * StreamParser. Retransmitted and overlapping bytes are resolved first-wins; out-of-order
 * segments are copied and held up to the caps; what can never arrive is reported as a gap.
 * In-order data — the steady state — is passed through as a view, never copied.
 */
export class TcpReassembler {
  // Two fields, not a pair array: one array and its backing store fewer per open connection.
  private readonly toServer = new DirectionState();
  private readonly toClient = new DirectionState();
  private detached = false;
  private tsSec = 0;
  private tsNsec = 0;

  constructor(
    private parser: StreamParser | null,
    private readonly budget: ReassemblyBudget,
  ) {}

  get isDetached(): boolean {
    return this.detached;
  }

  /** Bytes of a direction handed to the parser, skipped at its request, and lost. */
  counters(dir: Direction): { delivered: number; skipped: number; gapBytes: number } {
    const d = this.side(dir);
    return { delivered: d.delivered, skipped: d.skipped, gapBytes: d.gapBytes };
  }

  /**
   * One TCP segment. `missing` is the number of payload bytes the snaplen cut off after the
   * `len` captured ones.
   */
  segment(dir: Direction, seq: number, syn: boolean, fin: boolean, buf: Buffer, off: number, len: number, missing: number, tsSec: number, tsNsec: number): void {
    if (this.detached) return;
    this.tsSec = tsSec;
    this.tsNsec = tsNsec;
    const d = this.side(dir);
    if (syn) {
      if (!d.started) {
        d.started = true;
        d.nextSeq = (seq + 1) >>> 0;
      }
      seq = (seq + 1) >>> 0;
    } else if (!d.started) {
      // Midstream pickup: the stream starts at the first byte we see.
      if (len === 0 && missing === 0) {
        if (fin) d.finSeq = seq;
        return;
      }
      d.started = true;
      d.nextSeq = seq;
    }
    const total = len + missing;
    if (fin) d.finSeq = (seq + total) >>> 0;
    if (total === 0) return;
    const rel = seqDiff(seq, d.nextSeq);
    if (rel <= 0) {
      // In order, or a retransmission overlapping what we already delivered.
      const trim = -rel;
      if (trim >= total) {
        this.budget.retransmittedBytes += total;
        return;
      }
      if (trim > 0) this.budget.retransmittedBytes += trim;
      if (trim < len) {
        this.deliver(dir, d, buf, off + trim, len - trim);
        if (this.detached) return;
      }
      const lost = trim < len ? missing : total - trim;
      if (lost > 0) this.gap(dir, d, lost);
      this.drain(dir, d);
      return;
    }
    this.budget.outOfOrderSegments++;
    this.hold(dir, d, seq, buf, off, len, missing);
  }

  /** The peer acknowledged up to `ack`: anything before it that we never saw is lost for good. */
  acknowledged(dir: Direction, ack: number): void {
    if (this.detached) return;
    const d = this.side(dir);
    if (!d.started || d.pending.length === 0) return;
    const first = d.pending[0];
    if (seqDiff(ack, first.seq) > 0 && seqDiff(first.seq, d.nextSeq) > 0) {
      this.gap(dir, d, seqDiff(first.seq, d.nextSeq));
      this.drain(dir, d);
    }
  }

  private side(dir: Direction): DirectionState {
    return dir === Direction.ToServer ? this.toServer : this.toClient;
  }

  /** Later bytes go to `p` (the parser the analyzer dispatcher chose, which then steps out of the path). */
  setParser(p: StreamParser): void {
    this.parser = p;
  }

  /** The parser wants the next n bytes of a direction dropped (asked outside a data() return). */
  addSkip(dir: Direction, n: number): void {
    this.side(dir).skip += n;
  }

  /** True once both directions delivered everything up to their FIN. */
  get bothFinished(): boolean {
    const a = this.toServer;
    const b = this.toClient;
    return a.finSeq !== Fin.None && b.finSeq !== Fin.None && a.nextSeq === a.finSeq && b.nextSeq === b.finSeq;
  }

  /** The connection is over: whatever is still held is delivered with gaps for the holes. */
  end(reason: StreamEndReason): void {
    if (!this.detached) {
      for (const dir of [Direction.ToServer, Direction.ToClient] as const) {
        const d = this.side(dir);
        while (d.pending.length > 0 && !this.detached) {
          const hole = seqDiff(d.pending[0].seq, d.nextSeq);
          if (hole > 0) this.gap(dir, d, hole);
          this.drain(dir, d);
        }
      }
    }
    this.release();
    const p = this.parser;
    this.parser = null;
    this.detached = true;
    p?.end(reason);
  }

  private deliver(dir: Direction, d: DirectionState, buf: Buffer, off: number, len: number): void {
    d.nextSeq = (d.nextSeq + len) >>> 0;
    if (d.skip > 0) {
      if (d.skip >= len) {
        d.skip -= len;
        d.skipped += len;
        return;
      }
      off += d.skip;
      len -= d.skip;
      d.skipped += d.skip;
      d.skip = 0;
    }
    d.delivered += len;
    const r = this.parser!.data(dir, buf, off, len, this.tsSec, this.tsNsec);
    if (r === DETACH) this.detach();
    else if (r > 0) d.skip += r;
  }

  private gap(dir: Direction, d: DirectionState, len: number): void {
    d.nextSeq = (d.nextSeq + len) >>> 0;
    if (d.skip >= len) {
      // The parser did not want these bytes anyway.
      d.skip -= len;
      d.skipped += len;
      return;
    }
    len -= d.skip;
    d.skipped += d.skip;
    d.skip = 0;
    d.gapBytes += len;
    this.budget.gaps++;
    this.budget.gapBytes += len;
    this.parser!.gap(dir, len);
  }

  /** Delivers held pieces that the stream has reached. */
  private drain(dir: Direction, d: DirectionState): void {
    const pending = d.pending;
    while (pending.length > 0 && !this.detached) {
      const p = pending[0];
      const rel = seqDiff(p.seq, d.nextSeq);
      if (rel > 0) return;
      pending.shift();
      this.release1(d, p);
      const trim = -rel;
      if (trim >= p.len) continue;
      if (p.data) this.deliver(dir, d, p.data, trim, p.len - trim);
      else this.gap(dir, d, p.len - trim);
    }
  }

  private hold(dir: Direction, d: DirectionState, seq: number, buf: Buffer, off: number, len: number, missing: number): void {
    const limits = this.budget.limits;
    // Make room by giving up the oldest hole: the parser gets a gap instead of unbounded waiting.
    while (
      d.pending.length > 0 &&
      (d.pendingBytes + len > limits.maxDirectionBytes || this.budget.heldBytes + len > limits.maxGlobalBytes) &&
      !this.detached
    ) {
      this.budget.capHits++;
      const hole = seqDiff(d.pending[0].seq, d.nextSeq);
      if (hole > 0) this.gap(dir, d, hole);
      this.drain(dir, d);
    }
    if (this.detached) return;
    const rel = seqDiff(seq, d.nextSeq);
    if (rel <= 0) {
      // Draining caught up with this segment.
      this.segment(dir, seq, false, false, buf, off, len, missing, this.tsSec, this.tsNsec);
      return;
    }
    if (len > limits.maxDirectionBytes || this.budget.heldBytes + len > limits.maxGlobalBytes) {
      this.budget.capHits++;
      this.gap(dir, d, rel);
      this.segment(dir, seq, false, false, buf, off, len, missing, this.tsSec, this.tsNsec);
      return;
    }
    // Bytes inside the parser's skip window are never delivered: remember only that they exist.
    const inSkip = rel + len + missing <= d.skip;
    this.insert(d, seq, len, inSkip ? null : buf, off);
    if (missing > 0) this.insert(d, (seq + len) >>> 0, missing, null, 0);
  }

  /** Inserts [seq, seq+len) keeping only bytes no held piece covers yet (first wins). */
  private insert(d: DirectionState, seq: number, len: number, buf: Buffer | null, off: number): void {
    if (d.pending === NO_PIECES) d.pending = [];
    const pending = d.pending;
    let s = seqDiff(seq, d.nextSeq);
    const e = s + len;
    let i = 0;
    while (s < e) {
      while (i < pending.length && seqDiff(pending[i].seq, d.nextSeq) + pending[i].len <= s) i++;
      const next = i < pending.length ? pending[i] : null;
      const ns = next ? seqDiff(next.seq, d.nextSeq) : e;
      if (next && ns <= s) {
        this.budget.retransmittedBytes += Math.min(e, ns + next.len) - s;
        s = ns + next.len;
        continue;
      }
      const pe = ns < e ? ns : e;
      const n = pe - s;
      const data = buf ? Buffer.from(buf.subarray(off + (s - (e - len)), off + (s - (e - len)) + n)) : null;
      pending.splice(i, 0, { seq: (d.nextSeq + s) >>> 0, len: n, data });
      i++;
      if (data) {
        d.pendingBytes += n;
        this.budget.heldBytes += n;
      }
      s = pe;
    }
  }

  private release1(d: DirectionState, p: Piece): void {
    if (p.data) {
      d.pendingBytes -= p.len;
      this.budget.heldBytes -= p.len;
    }
  }

  private release(): void {
    this.releaseSide(this.toServer);
    this.releaseSide(this.toClient);
  }

  private releaseSide(d: DirectionState): void {
    for (const p of d.pending) this.release1(d, p);
    d.pending = NO_PIECES;
  }

  private detach(): void {
    this.detached = true;
    this.release();
  }
}
