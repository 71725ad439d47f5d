import { Accumulator, FrameFlags, type Framer, type FrameSink } from './framing.js';

/**
 * HL7 v2 without MLLP, on ports the policy declares. Message boundaries are the only thing the
 * stream tells us: a new message starts at a line beginning with MSH, FHS or BHS followed by a
 * field separator. The last message of a burst has no such successor, so the parser flushes it
 * when the peer answers (request/response) or the connection ends.
 *
 * Batches arrive split at each MSH (the FHS/BHS envelope goes with the preceding piece);
 * every message still parses on its own.
 */

const CR = 0x0d;
const LF = 0x0a;
/** Bytes appended per processing step, so the buffer never exceeds maxMessageSize + STEP. */
const STEP = 64 * 1024;

const enum State {
  Hunt = 0,
  Message = 1,
}

function validFieldSeparator(b: number): boolean {
  return b > 0x20 && b < 0x7f && !(b >= 0x30 && b <= 0x39) && !((b | 0x20) >= 0x61 && (b | 0x20) <= 0x7a);
}

export class UnframedFramer implements Framer {
  private state = State.Hunt;
  private readonly acc: Accumulator;
  /** Next acc index to examine. */
  private pos = 0;
  /** Bytes of a candidate header matched so far at `cand` (-1: not at a line start). */
  private m = 0;
  private cand = 0;
  /** acc index where the bytes of the current push begin. */
  private chunkStart = 0;

  constructor(
    private readonly sink: FrameSink,
    /** Passed back to the sink with each frame. */
    private readonly dir: number,
    private readonly maxMessageSize: number,
  ) {
    this.acc = new Accumulator(maxMessageSize + STEP);
  }

  push(buf: Buffer, off: number, len: number): void {
    const end = off + len;
    this.chunkStart = this.acc.len;
    for (let i = off; i < end; ) {
      const n = Math.min(STEP, end - i);
      this.acc.append(buf, i, n);
      i += n;
      this.process();
    }
  }

  private process(): void {
    const a = this.acc.buf!;
    let j = this.pos;
    while (j < this.acc.len) {
      const b = a[j];
      if (this.m >= 0) {
        if (this.matches(a, b)) {
          this.m++;
          j++;
          if (this.m === 4) j = this.headerAt(this.cand);
          continue;
        }
        this.m = -1;
      }
      if (b === CR || b === LF) {
        this.m = 0;
        this.cand = j + 1;
      }
      j++;
    }
    this.pos = j;
    if (this.state === State.Hunt) {
      // Nothing to keep but a possibly split header at the end.
      const keep = this.m >= 0 ? this.cand : this.acc.len;
      this.drop(keep, true);
    } else if (this.acc.len > this.maxMessageSize) {
      const c = this.sink.framerCounters();
      c.oversizeFrames++;
      c.oversizeBytes += this.acc.len;
      this.acc.clear();
      this.pos = 0;
      this.state = State.Hunt;
      this.m = -1;
    }
  }

  private matches(a: Buffer, b: number): boolean {
    switch (this.m) {
      case 0:
        return b === 0x4d || b === 0x46 || b === 0x42; // M F B
      case 1:
        return a[this.cand] === 0x4d ? b === 0x53 : b === 0x48; // MS / FH BH
      case 2:
        return a[this.cand] === 0x4d ? b === 0x48 : b === 0x53; // MSH / FHS BHS
      default:
        return validFieldSeparator(b);
    }
  }

  /** A header starts at acc index c: close the previous message. Returns the index to resume at. */
  private headerAt(c: number): number {
    if (this.state === State.Message && c > 0) this.emit(c);
    else this.drop(c, true);
    this.state = State.Message;
    this.m = -1;
    this.pos = 4;
    return 4;
  }

  private emit(n: number): void {
    const flags = n <= this.chunkStart ? FrameFlags.Unframed | FrameFlags.EndedEarlier : FrameFlags.Unframed;
    this.sink.onFrame(this.dir, this.acc.buf!, 0, n, flags);
    this.drop(n, false);
  }

  private drop(n: number, outside: boolean): void {
    if (n <= 0) return;
    if (outside) {
      let k = 0;
      const a = this.acc.buf!;
      for (let i = 0; i < n; i++) if (a[i] !== CR && a[i] !== LF) k++;
      if (k > 0) this.sink.framerCounters().bytesOutsideFrames += k;
    }
    this.acc.shift(n);
    this.pos = Math.max(0, this.pos - n);
    this.chunkStart = Math.max(0, this.chunkStart - n);
    this.cand -= n;
  }

  gap(): void {
    if (this.state === State.Message && this.acc.len > 0) this.sink.framerCounters().framesLostToGap++;
    this.acc.clear();
    this.pos = 0;
    this.state = State.Hunt;
    // The bytes after a gap start mid-line: only a later line start can begin a message.
    this.m = -1;
  }

  flush(): boolean {
    if (this.state !== State.Message || this.acc.len === 0) return false;
    this.sink.onFrame(this.dir, this.acc.buf!, 0, this.acc.len, FrameFlags.Unframed);
    this.acc.clear();
    this.pos = 0;
    this.state = State.Hunt;
    // A flush happens at a message boundary (peer answered), so the next byte starts a line.
    this.m = 0;
    this.cand = 0;
    return true;
  }

  partial(): Buffer | null {
    if (this.state !== State.Message || this.acc.len === 0) return null;
    return this.acc.buf!.subarray(0, this.acc.len);
  }

  buffered(): number {
    return this.acc.len;
  }

  capacity(): number {
    return this.acc.capacity();
  }
}
