import { Accumulator, FrameFlags, type Framer, type FrameSink } from './framing.js';

/**
 * MLLP (HL7 v2 Minimal Lower Layer Protocol): <VT=0x0B> payload <FS=0x1C><CR=0x0D>.
 *
 * A frame that lies inside one chunk is handed over as a view (no copy); only frames split
 * over chunks are accumulated, up to maxMessageSize. Over the cap the framer stops buffering
 * and skips to the next start block: a sender stuck in a 10 MB frame costs a counter.
 * Field variants tolerated: no CR after FS, CR/LF between frames, a new VT inside a frame
 * (sender lost its end block, or we joined mid-stream), MLLP release 2 commit ACK/NAK frames.
 */

export const VT = 0x0b;
export const FS = 0x1c;
const CR = 0x0d;
const ACK = 0x06;
const NAK = 0x15;

const enum State {
  /** Looking for a start block. */
  Hunt = 0,
  /** Inside a frame. */
  Frame = 1,
  /** Just saw FS; swallow one CR if it comes. */
  AfterEnd = 2,
  /** Frame over the cap: drop bytes until the next start block. */
  Discard = 3,
}

export class MllpFramer implements Framer {
  private state = State.Hunt;
  /**
   * Made when a frame first continues past its chunk: many directions (ACKs, short messages)
   * never split one, and an idle connection then holds no accumulator for them.
   */
  private acc: Accumulator | null = null;

  constructor(
    private readonly sink: FrameSink,
    /** Passed back to the sink with each frame. */
    private readonly dir: number,
    private readonly maxMessageSize: number,
  ) {}

  push(chunk: Buffer, off: number, len: number): void {
    // Work on a view bounded to this chunk so the native indexOf (memchr) never runs past it
    // into the rest of the capture buffer.
    const buf = off === 0 && len === chunk.length ? chunk : chunk.subarray(off, off + len);
    const end = len;
    let i = 0;
    while (i < end) {
      switch (this.state) {
        case State.AfterEnd:
          if (buf[i] === CR) i++;
          this.state = State.Hunt;
          break;
        case State.Hunt:
        case State.Discard: {
          let p = buf.indexOf(VT, i);
          if (p < 0) p = end;
          this.countSkipped(buf, i, p);
          if (p === end) return;
          this.startFrame();
          i = p + 1;
          break;
        }
        case State.Frame: {
          let q = buf.indexOf(FS, i);
          if (q < 0) q = end;
          // A VT before the FS means the frame lost its end block.
          const v = buf.indexOf(VT, i);
          if (v >= 0 && v < q) q = v;
          if (q === end) {
            // The frame goes on past this chunk: keep what we have (or give up over the cap).
            this.accumulate(buf, i, q);
            return;
          }
          const flags = buf[q] === FS ? FrameFlags.None : FrameFlags.Unterminated;
          const acc = this.acc;
          if (acc === null || acc.len === 0) {
            // Whole frame inside this chunk: deliver the view, no copy.
            if (q - i > this.maxMessageSize) this.countOversize(q - i);
            else this.deliver(buf, i, q - i, flags);
          } else {
            if (acc.len + (q - i) > this.maxMessageSize) {
              this.countOversize(acc.len + (q - i));
            } else {
              acc.append(buf, i, q - i);
              this.deliver(acc.buf!, 0, acc.len, flags);
            }
            acc.clear();
          }
          i = q + 1;
          // After a VT inside a frame the previous frame lost its end block; a new one begins here.
          if (flags === FrameFlags.None) this.state = State.AfterEnd;
          else this.startFrame();
          break;
        }
      }
    }
  }

  private startFrame(): void {
    this.state = State.Frame;
    this.acc?.clear();
  }

  private countSkipped(buf: Buffer, from: number, to: number): void {
    if (to <= from) return;
    if (this.state === State.Discard) {
      this.sink.framerCounters().oversizeBytes += to - from;
      return;
    }
    // Stray CR/LF after an end block is common and not worth counting as garbage.
    let n = 0;
    for (let k = from; k < to; k++) if (buf[k] !== CR && buf[k] !== 0x0a) n++;
    if (n > 0) this.sink.framerCounters().bytesOutsideFrames += n;
  }

  private countOversize(n: number): void {
    const c = this.sink.framerCounters();
    c.oversizeFrames++;
    c.oversizeBytes += n;
  }

  /** Copies the unfinished frame's bytes; past the cap, drops them and skips to the next VT. */
  private accumulate(buf: Buffer, from: number, to: number): void {
    if (to === from) return;
    const acc = (this.acc ??= new Accumulator(this.maxMessageSize));
    if (!acc.append(buf, from, to - from)) {
      this.countOversize(acc.len + (to - from));
      acc.clear();
      this.state = State.Discard;
    }
  }

  private deliver(buf: Buffer, off: number, len: number, flags: FrameFlags): void {
    if (len === 1 && (buf[off] === ACK || buf[off] === NAK)) {
      if (buf[off] === ACK) this.sink.framerCounters().commitAcks++;
      else this.sink.framerCounters().commitNaks++;
      this.sink.onCommitAck(this.dir, buf[off] === ACK);
      return;
    }
    if (flags & FrameFlags.Unterminated) this.sink.framerCounters().unterminatedFrames++;
    this.sink.onFrame(this.dir, buf, off, len, flags);
  }

  gap(): void {
    if (this.state === State.Frame) this.sink.framerCounters().framesLostToGap++;
    this.acc?.clear();
    // Keep discarding if we already were: the oversize frame's end is still ahead.
    if (this.state !== State.Discard) this.state = State.Hunt;
  }

  flush(): boolean {
    const acc = this.acc;
    if (this.state !== State.Frame || acc === null || acc.len === 0) return false;
    this.deliver(acc.buf!, 0, acc.len, FrameFlags.Unterminated);
    acc.clear();
    this.state = State.Hunt;
    return true;
  }

  partial(): Buffer | null {
    const acc = this.acc;
    if (this.state !== State.Frame || acc === null || acc.len === 0) return null;
    return acc.buf!.subarray(0, acc.len);
  }

  buffered(): number {
    return this.acc === null ? 0 : this.acc.len;
  }

  capacity(): number {
    return this.acc === null ? 0 : this.acc.capacity();
  }
}
