/** What the framers hand to the message layer, and the counters they keep. */

export const enum FrameFlags {
  None = 0,
  /** The frame ended without its end block (next start block, connection end, or its ACK arrived). */
  Unterminated = 1,
  /** Cut out of an unframed stream at the next MSH/FHS/BHS line. */
  Unframed = 2,
  /** The frame's last byte came in an earlier chunk than the one being pushed (its time is that chunk's). */
  EndedEarlier = 4,
}

/**
 * Where a framer delivers. One sink serves both directions of a connection (the framer passes
 * its direction), so a connection needs no closure or sink object per direction.
 */
export interface FrameSink {
  /** One HL7 payload, buf[off..off+len) valid only during the call. */
  onFrame(dir: number, buf: Buffer, off: number, len: number, flags: FrameFlags): void;
  /** MLLP release 2 commit acknowledgement (<VT><ACK><FS><CR>) or negative (<NAK>). */
  onCommitAck(dir: number, positive: boolean): void;
  /**
   * Where the framer counts what went wrong (and commit ACKs). Called only when there is
   * something to count, so a connection without anomalies can do without the object.
   * The frames delivered are the sink's to count: each is one onFrame call.
   */
  framerCounters(): FramerCounters;
}

export interface FramerCounters {
  /** Frames over maxMessageSize, dropped while skipping to the next start block. */
  oversizeFrames: number;
  /** Bytes dropped because their frame was over the cap. */
  oversizeBytes: number;
  /** Bytes outside any frame (capture started mid-message, garbage between frames). */
  bytesOutsideFrames: number;
  unterminatedFrames: number;
  /** Partial frames lost to a capture gap. */
  framesLostToGap: number;
  commitAcks: number;
  commitNaks: number;
}

export function newFramerCounters(): FramerCounters {
  return {
    oversizeFrames: 0,
    oversizeBytes: 0,
    bytesOutsideFrames: 0,
    unterminatedFrames: 0,
    framesLostToGap: 0,
    commitAcks: 0,
    commitNaks: 0,
  };
}

export interface Framer {
  push(buf: Buffer, off: number, len: number): void;
  /** Capture loss: drop the partial frame and resynchronise. */
  gap(): void;
  /** Deliver an in-progress frame as Unterminated (connection end). Returns whether one was delivered. */
  flush(): boolean;
  /** The bytes of an in-progress frame, for the parser to test whether an ACK already answered it. */
  partial(): Buffer | null;
  /** Bytes currently buffered (for memory accounting and tests). */
  buffered(): number;
  /** Capacity currently allocated (for memory accounting and tests). */
  capacity(): number;
}

export const DEFAULT_MAX_MESSAGE_SIZE = 4 * 1024 * 1024;

/**
 * Growable byte accumulator with a hard ceiling; shrinks back after big messages. Its buffer is
 * made by the first append and kept while small, so a connection that splits its frames over
 * segments reuses one buffer.
 */
export class Accumulator {
  buf: Buffer | null = null;
  len = 0;
  constructor(private readonly ceiling: number) {}

  /** Appends src[off..off+n); returns false (and appends nothing) when the ceiling would be passed. */
  append(src: Buffer, off: number, n: number): boolean {
    const need = this.len + n;
    if (need > this.ceiling) return false;
    if (this.buf === null || need > this.buf.length) {
      // Start small: most frames split over segments are a few hundred bytes. Not from Node's
      // shared pool (allocUnsafe under 4 KiB): the buffer lives as long as its connection, and
      // one live slice keeps the whole 8 KiB slab it was cut from.
      let cap = this.buf === null ? 512 : this.buf.length * 2;
      while (cap < need) cap *= 2;
      const next = Buffer.allocUnsafeSlow(Math.min(cap, this.ceiling));
      if (this.buf !== null && this.len > 0) this.buf.copy(next, 0, 0, this.len);
      this.buf = next;
    }
    src.copy(this.buf, this.len, off, off + n);
    this.len = need;
    return true;
  }

  /** Drops everything; releases big buffers so idle connections do not pin megabytes. */
  clear(): void {
    this.len = 0;
    if (this.buf !== null && this.buf.length > 64 * 1024) this.buf = null;
  }

  /** Removes the first n bytes. */
  shift(n: number): void {
    if (this.buf === null) return;
    if (n >= this.len) {
      this.clear();
      return;
    }
    this.buf.copyWithin(0, n, this.len);
    this.len -= n;
  }

  capacity(): number {
    return this.buf === null ? 0 : this.buf.length;
  }
}
